/**
 * `wisp web` in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the page talks to boards through `@espruino-tools/core` over a
 * `navigator.serial` stand-in (web-serial-stand-in.ts) whose bytes reach a REPL on a
 * socat pseudo-terminal, and watches the broker over MQTT-over-WebSocket.
 *
 * Set WISP_UPDATE_SCREENSHOT=1 to write the screenshot to docs/web.png.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startAedes, type EmbeddedBroker } from "../../host-tools/emulator/broker.ts";
import { startBoard, type EmulatedBoard } from "../../host-tools/emulator/emulator.ts";
import { attachSerialRepl, openPtyPair, openSerialEnd, type PtyPair } from "../../host-tools/emulator/pty.ts";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { TMP_APP } from "../../host-tools/flasher/install-protocol.ts";
import { startWebServer, type WebServer } from "../../host-tools/web/server.ts";
import { interpreterOnPty, skipUnlessEspruino } from "../helpers/espruino.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { serialStandInScript, startSerialBridge, type SerialBridge } from "./web-serial-stand-in.ts";

const CHROMIUM = "/usr/bin/chromium";
const APP = path.resolve("dist/espruino/app.js");
const OLD_APP = 'var oldApp = 1; print("old app running");\n';
const CLIENT_ID = "web-1";

const skip = skipUnless("chromium") || skipUnless("socat");

let dir = "";
let changedApp = "";
let broker: EmbeddedBroker;
let web: WebServer;
let bridge: SerialBridge;
let browser: Browser;
const cleanups: (() => unknown)[] = [];

before(async () => {
  if (skip) return;
  assert.ok(fs.existsSync(APP), "dist/espruino/app.js missing: run `wisp build` (npm test does)");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-web-"));
  // the "changed app": the built app with a marker the test can read back on the board
  changedApp = path.join(dir, "app.js");
  fs.writeFileSync(changedApp, 'var WISP_WEB_BUILD = "changed`build";\n' + fs.readFileSync(APP, "utf8"));
  // the Storage module built beside the app (WebSocket transport), which the page installs too
  fs.copyFileSync(path.join(path.dirname(APP), "wsnet.js"), path.join(dir, "wsnet.js"));
  broker = await startAedes();
  assert.ok(broker.wsUrl);
  web = await startWebServer({ port: 0, brokerUrl: broker.wsUrl!.replace("127.0.0.1", "localhost"), appFile: changedApp });
  bridge = await startSerialBridge();
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await browser?.close();
  await bridge?.close();
  await web?.close();
  await broker?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** An emulated board with its REPL on a pty, registered as a bridge target. */
async function boardOnPty(name: string, opts: { settings?: object } = {}): Promise<{ board: EmulatedBoard; pair: PtyPair }> {
  const board = startBoard({ board: "esp32-lipo-sensor", storageFile: null, clock: "real", appCode: OLD_APP, settings: opts.settings as never });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  bridge.targets.set(name, pair.hostPath);
  cleanups.push(async () => {
    serial.close();
    await pair.close();
    board.stop();
  });
  return { board, pair };
}

async function openPage(target: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1240, height: 1000 } });
  await context.addInitScript({ content: serialStandInScript(bridge.url) });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // nothing beyond this machine: every request the page makes goes to localhost or 127.0.0.1
  const outside: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["blob:", "data:"].includes(u.protocol) && !/^(localhost|127\.0\.0\.1)$/.test(u.hostname)) outside.push(r.url());
  });
  cleanups.push(() => assert.deepEqual(outside, [], "the page made requests beyond this machine"));
  await page.goto(web.url);
  await page.evaluate((t) => ((window as unknown as { __wispSerialTarget: string }).__wispSerialTarget = t), target);
  cleanups.push(() => context.close());
  return page;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const stop = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const text = (page: Page, sel: string) => page.locator(sel).innerText();

async function connect(page: Page): Promise<void> {
  await page.click("#connect");
  await page.waitForFunction(() => document.getElementById("serial-status")!.textContent === "connected" || !document.getElementById("message")!.hidden, null, { timeout: 60_000 });
  const msg = await page.locator("#message").evaluate((e) => ((e as HTMLElement).hidden ? "" : e.textContent));
  assert.equal(msg, "", `connect failed: ${msg}`);
}

async function evaluate(page: Page, expr: string): Promise<string> {
  await page.fill("#console-in", expr);
  await page.evaluate(() => (document.getElementById("eval-result")!.textContent = ""));
  await page.click("#eval");
  await page.waitForFunction(() => document.getElementById("eval-result")!.textContent !== "" || !document.getElementById("message")!.hidden, null, { timeout: 60_000 });
  return text(page, "#eval-result");
}

async function storageList(page: Page): Promise<string[]> {
  await page.click("#storage-list-btn");
  await page.waitForSelector("#storage-list li", { timeout: 60_000 });
  return page.locator("#storage-list li").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.file!));
}

/** Pixels of a canvas that are drawn in colour (not white, not the grey axes and text). */
function colouredPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((cid) => {
    const c = document.getElementById(cid) as HTMLCanvasElement;
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
    return n;
  }, id);
}

test("wisp web on the emulated board: connect, evaluate, list Storage, install a changed app, see it publish in the live view", { skip, timeout: 240_000 }, async () => {
  const { board } = await boardOnPty("board", { settings: { clientId: CLIENT_ID, brokerHost: "127.0.0.1", brokerPort: broker.port, intervalSeconds: 3 } });
  const page = await openPage("board");
  await page.waitForFunction(() => document.getElementById("broker-status")!.textContent === "connected", null, { timeout: 30_000 });
  for (const id of ["chart-voltage", "chart-rssi", "chart-interval"]) assert.equal(await colouredPixels(page, id), 0, `${id} is empty before any reading`);

  await connect(page);
  assert.equal(await page.locator('#board-info dd[data-key="board"]').innerText(), "ESP32");
  assert.equal(await page.locator('#board-info dd[data-key="console"]').innerText(), "Serial1");
  assert.equal(await evaluate(page, "[1+2, process.env.BOARD]"), '[3,"ESP32"]');
  const files = await storageList(page);
  assert.ok(files.includes(".bootcde"), `Storage list ${files}`);
  assert.ok(files.includes("wisp.json"), `Storage list ${files}`);
  // typing into the console reaches the board's REPL
  await page.fill("#console-in", 'print("typed " + (6*7))');
  await page.click("#console-send");
  await page.waitForFunction(() => document.getElementById("console-out")!.textContent!.includes("typed 42"), null, { timeout: 30_000 });

  await page.click("#install");
  await page.waitForFunction(() => /^installed|failed/.test(document.getElementById("install-status")!.textContent!), null, { timeout: 180_000 });
  assert.match(await text(page, "#install-status"), /^installed \d+ B/, await text(page, "#message"));
  const want = Buffer.from(fs.readFileSync(changedApp, "utf8"), "utf8").toString("latin1");
  assert.equal(board.storage.get(".bootcde"), want, ".bootcde is the changed app, byte for byte (backtick included)");
  assert.equal(board.storage.get(TMP_APP), undefined, "no temporary file left");
  const wsModule = Buffer.from(fs.readFileSync(path.join(dir, "wsnet.js"), "utf8"), "utf8").toString("latin1");
  assert.equal(board.storage.get("wisp-ws"), wsModule, "the WebSocket module is installed beside the app, as wisp flash does");
  await until(() => board.running && board.evaluate("typeof WISP_WEB_BUILD") === "string", 20_000, "the changed app running");

  // the live view: the board comes online and publishes readings
  await page.waitForFunction(() => document.getElementById("status-value")?.textContent === "online", null, { timeout: 60_000 });
  assert.match(await text(page, "#device-status"), new RegExp(`^${CLIENT_ID}: online`));
  await page.waitForFunction(() => document.querySelectorAll("#readings tbody tr").length >= 3, null, { timeout: 90_000 });
  assert.match(await text(page, "#policy-log"), /policy mode=\w+ ka=\d+ interval=\d+/, "the policy decision the app logged at boot");
  for (const id of ["chart-voltage", "chart-rssi", "chart-interval"]) {
    const n = await colouredPixels(page, id);
    assert.ok(n > 100, `${id} has a drawn line (${n} coloured pixels)`);
  }
  const png = await page.screenshot({ fullPage: true });
  assert.ok(png.length > 10_000);
  fs.writeFileSync(path.join(dir, "web.png"), png);
  if (process.env.WISP_UPDATE_SCREENSHOT === "1") fs.writeFileSync(path.resolve("docs/web.png"), png);

  // the last will: the board vanishes without DISCONNECT, the broker publishes "offline"
  board.stop();
  await page.waitForFunction(() => document.getElementById("status-value")?.textContent === "offline", null, { timeout: 60_000 });
  assert.match(await text(page, "#will-seen"), new RegExp(`last will seen at .*${CLIENT_ID} offline`));
});

test("wisp web: no board selected, a port another program holds, a board that is not Espruino: clear messages", { skip, timeout: 120_000 }, async () => {
  // a serial device that is not Espruino: answers every line like an AT modem
  const pair = await openPtyPair();
  const modem = openSerialEnd(pair.boardPath);
  modem.onData((d) => {
    if (/[\r\n]/.test(d)) modem.write("\r\nERROR\r\n");
  });
  bridge.targets.set("modem", pair.hostPath);
  cleanups.push(async () => {
    modem.close();
    await pair.close();
  });

  const page = await openPage("none");
  await page.click("#connect");
  await page.waitForFunction(() => !document.getElementById("message")!.hidden, null, { timeout: 30_000 });
  assert.match(await text(page, "#message"), /No board selected/);
  assert.equal(await page.locator("#install").isDisabled(), true);

  await page.evaluate(() => ((window as unknown as { __wispSerialTarget: string }).__wispSerialTarget = "busy"));
  await page.evaluate(() => (document.getElementById("message")!.hidden = true));
  await page.click("#connect");
  await page.waitForFunction(() => !document.getElementById("message")!.hidden, null, { timeout: 30_000 });
  assert.match(await text(page, "#message"), /serial port could not be opened .*Another program may have it open/);

  await page.evaluate(() => ((window as unknown as { __wispSerialTarget: string }).__wispSerialTarget = "modem"));
  await page.evaluate(() => (document.getElementById("message")!.hidden = true));
  await page.click("#connect");
  await page.waitForFunction(() => !document.getElementById("message")!.hidden, null, { timeout: 90_000 });
  assert.match(await text(page, "#message"), /does not answer as Espruino/);
  assert.equal(await text(page, "#serial-status"), "not connected");

  // the same page on 127.0.0.1: the library's promises would never settle there, so the page says where to go
  const other = await page.context().newPage();
  await other.goto(web.url.replace("localhost", "127.0.0.1"));
  await other.click("#connect");
  await other.waitForFunction(() => !document.getElementById("message")!.hidden, null, { timeout: 30_000 });
  assert.match(await text(other, "#message"), new RegExp(`Open this page as http://localhost:${web.port}/`));
});

test("wisp web: the board is unplugged mid-install; a clear message, the previous app still boots, and plugged back in the install goes through", { skip, timeout: 180_000 }, async () => {
  const { board } = await boardOnPty("unplug");
  const page = await openPage("unplug");
  await connect(page);
  const before = bridge.sent.get("unplug") ?? 0;
  bridge.unplugAfter.set("unplug", before + 6000); // part way through the app's chunks
  await page.click("#install");
  await page.waitForFunction(() => /failed/.test(document.getElementById("install-status")!.textContent!), null, { timeout: 120_000 });
  assert.match(await text(page, "#message"), /unplugged during the install.*previous app still boots/);
  assert.equal(await text(page, "#serial-status"), "not connected");
  assert.equal(board.storage.get(".bootcde"), OLD_APP, ".bootcde untouched");
  board.boot("power-on");
  await until(() => board.evaluate("typeof oldApp") === "number", 10_000, "the old app after a power cycle");

  // plugged back in: the same page connects again and the install goes through
  bridge.unplugAfter.delete("unplug");
  await page.evaluate(() => (document.getElementById("message")!.hidden = true));
  await connect(page);
  await page.click("#install");
  await page.waitForFunction(() => /^installed|failed/.test(document.getElementById("install-status")!.textContent!), null, { timeout: 180_000 });
  assert.match(await text(page, "#install-status"), /^installed \d+ B/, (await page.locator("#message").textContent()) ?? "");
  assert.equal(board.storage.get(".bootcde"), Buffer.from(fs.readFileSync(changedApp, "utf8"), "utf8").toString("latin1"));
});

test("wisp web on the real Espruino interpreter's REPL (on a pty): connect, evaluate, list Storage, install", { skip: skip || skipUnlessEspruino(), timeout: 120_000 }, async () => {
  // The console reaches the pty through the interpreter's telnet console, not its
  // stdin: the Linux build's stdin thread garbles bursts (docs/espruino.md).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-web-espruino-"));
  const board = await interpreterOnPty(dir, async (it) => {
    await it.eval(`require("Storage").write("hello.txt","hi")`);
  });
  cleanups.push(async () => {
    await board.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  bridge.targets.set("interp", board.link);

  const page = await openPage("interp");
  await connect(page);
  assert.match(await page.locator('#board-info dd[data-key="Espruino"]').innerText(), /^2v\d+/);
  assert.equal(await evaluate(page, "[1+2, typeof E.dumpStr]"), '[3,"function"]');
  assert.ok((await storageList(page)).includes("hello.txt"));

  // the shared install protocol against the real interpreter's Storage and E.CRC32
  await page.click("#install");
  await page.waitForFunction(() => /^installed|failed/.test(document.getElementById("install-status")!.textContent!), null, { timeout: 180_000 });
  assert.match(await text(page, "#install-status"), /^installed \d+ B/, (await page.locator("#message").textContent()) ?? "");
  const bytes = Buffer.from(fs.readFileSync(changedApp, "utf8"), "utf8");
  // read the board's flash back on a fresh start of the same interpreter (same Storage)
  await board.stop();
  const check = await Interpreter.start({ dir });
  try {
    assert.equal(await check.eval<number>(`require("Storage").read(".bootcde").length`), bytes.length);
    assert.equal((await check.eval<number>(`E.CRC32(require("Storage").read(".bootcde"))`)) >>> 0, zlib.crc32(bytes) >>> 0);
    assert.equal(await check.eval(`typeof require("Storage").read(${JSON.stringify(TMP_APP)})`), "undefined", "no temporary file left");
  } finally {
    await check.stop();
  }
});

test("wisp web refuses a broker URL a browser cannot open, and a bad config, with the reason", async () => {
  const { runWeb } = await import("../../host-tools/web/server.ts");
  const lines: string[] = [];
  assert.equal(await runWeb(["--broker", "mqtt://127.0.0.1:1883"], { out: (l) => lines.push(l) }), 2);
  assert.match(lines.join("\n"), /--broker must be a ws:\/\/ or wss:\/\/ URL \(a browser cannot open mqtt:\/\/ TCP connections\)/);
  lines.length = 0;
  assert.equal(await runWeb(["--config", "/nonexistent/flash.config.json"], { out: (l) => lines.push(l) }), 2);
  assert.match(lines.join("\n"), /wisp web: \/nonexistent\/flash.config.json: /);
});
