/**
 * `wisp flash` end to end over a real pseudo-terminal pair (socat): the emulated
 * board's serial REPL on one end, the flasher (serialport) on the other.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { startAedes } from "../helpers/aedes.ts";
import { startBoard, type EmulatedBoard } from "../../host-tools/emulator/emulator.ts";
import { attachSerialRepl, openPtyPair } from "../../host-tools/emulator/pty.ts";
import { runFlash } from "../../host-tools/flasher/cli-flash.ts";
import { TMP_APP } from "../../host-tools/flasher/upload.ts";
import { skipUnless } from "../helpers/system-deps.ts";

const APP = path.resolve("dist/espruino/app.js");
const OLD_APP = 'var oldApp = 1; print("old app running");\n';
const SECRET = "s3cret-Wifi-pw!";

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-flash-"));
  const cfgFile = path.join(dir, "flash.config.json");
  return { dir, cfgFile };
}

function writeConfig(file: string, brokerUrl: string, clientId: string) {
  fs.writeFileSync(
    file,
    JSON.stringify({
      board: "esp32-lipo-sensor",
      device: { clientId, topicPrefix: "wisp", wifi: { ssid: "bench-ap" }, broker: { url: brokerUrl, username: null, password: null } },
      telemetry: { intervalSeconds: 5, qos: 1 },
      mqtt: { keepAliveSeconds: 30, cleanSession: true },
    }),
  );
}

async function until(cond: () => boolean, ms: number, what: string) {
  const stop = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withBoardOnPty<T>(dir: string, fn: (board: EmulatedBoard, hostPath: string) => Promise<T>): Promise<T> {
  const board = startBoard({ board: "esp32-lipo-sensor", storageFile: path.join(dir, "board.storage.json"), clock: "real", appCode: OLD_APP });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  try {
    return await fn(board, pair.hostPath);
  } finally {
    serial.close();
    await pair.close();
    board.stop();
  }
}

test("wisp flash over a pty: verified upload, settings in wisp.json, board reboots into the app and publishes", { timeout: 40_000, skip: skipUnless("socat") }, async () => {
  assert.ok(fs.existsSync(APP), "dist/espruino/app.js missing: run `wisp build` (npm test does)");
  const { dir, cfgFile } = setup();
  const broker = await startAedes();
  const obs = await mqtt.connectAsync(broker.url, { clientId: "observer-flash" });
  const seen: { topic: string; payload: string }[] = [];
  obs.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await obs.subscribeAsync("wisp/flashed-1/#", { qos: 1 });
  try {
    writeConfig(cfgFile, broker.url, "flashed-1");
    await withBoardOnPty(dir, async (board, hostPath) => {
      await until(() => board.evaluate("typeof oldApp") === "number", 5000, "old app boot");
      const lines: string[] = [];
      const code = await runFlash(["--port", hostPath, "--config", cfgFile, "--app", APP, "--json"], { out: (l) => lines.push(l), env: { WISP_WIFI_PASSWORD: SECRET } });
      assert.equal(code, 0, lines.join("\n"));
      const events = lines.map((l) => JSON.parse(l));
      const kinds = events.map((e) => e.event);
      for (const k of ["board", "start", "progress", "verified", "settings", "boot", "done"]) assert.ok(kinds.includes(k), `event ${k} in ${kinds}`);
      const board0 = events.find((e) => e.event === "board");
      assert.equal(board0.board, "ESP32");
      const last = events.filter((e) => e.event === "progress").at(-1);
      assert.equal(last.bytes, last.total);
      assert.ok(last.bytesPerSecond > 0);
      assert.ok(!lines.join("\n").includes(SECRET), "the Wi-Fi password must never be printed");

      // Storage: the app byte-exact as .bootcde, settings in wisp.json, no temp file left
      assert.equal(board.storage.get(".bootcde"), Buffer.from(fs.readFileSync(APP, "utf8"), "utf8").toString("latin1"));
      const settings = JSON.parse(Buffer.from(board.storage.get("wisp.json")!, "latin1").toString("utf8"));
      assert.equal(settings.clientId, "flashed-1");
      assert.equal(settings.brokerPort, broker.port);
      assert.equal(settings.wifiPassword, SECRET);
      assert.equal(settings.board.id, "esp32-lipo-sensor");
      assert.equal(board.storage.get(TMP_APP), undefined);

      // rebooted (load) into the flashed app, which publishes to the broker
      await until(() => board.events.some((e) => e.type === "boot" && e.cause === "load"), 5000, "load() reboot");
      await until(() => seen.some((m) => m.topic === "wisp/flashed-1/telemetry"), 15_000, "telemetry from the flashed app");
      assert.equal(board.evaluate("typeof oldApp"), "undefined");
    });
  } finally {
    await obs.endAsync();
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("wisp flash: a corrupted chunk fails verification; .bootcde untouched and the previous app still boots", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  const { dir, cfgFile } = setup();
  try {
    writeConfig(cfgFile, "mqtt://127.0.0.1:1", "corrupt-1");
    await withBoardOnPty(dir, async (board, hostPath) => {
      const oldCfg = board.storage.get("wisp.json");
      const lines: string[] = [];
      const small = path.join(dir, "small-app.js");
      fs.writeFileSync(small, "var n = 0;\n".repeat(400)); // 4400 B, 35 chunks: the CRC check does not depend on the app
      const code = await runFlash(["--port", hostPath, "--config", cfgFile, "--app", small, "--json", "--chunk", "128"], {
        out: (l) => lines.push(l),
        env: {},
        corruptChunk: 3,
      });
      assert.equal(code, 1);
      const err = JSON.parse(lines.at(-1)!);
      assert.equal(err.event, "error");
      assert.equal(err.code, "VERIFY_FAILED");
      assert.match(err.message, /verification failed.*board CRC-32 0x[0-9a-f]{8}, host 0x[0-9a-f]{8}.*previous app is untouched/);
      assert.ok(!lines.some((l) => JSON.parse(l).event === "boot"));
      assert.equal(board.storage.get(".bootcde"), OLD_APP);
      assert.equal(board.storage.get("wisp.json"), oldCfg);
      assert.equal(board.storage.get(TMP_APP), undefined, "the temp file is erased");
      // power-cycle: the old app boots
      board.boot("power-on");
      await until(() => board.evaluate("typeof oldApp") === "number", 5000, "old app after reboot");
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("wisp flash: the link dies mid-upload; a clear error, and the previous app still boots", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  const { dir, cfgFile } = setup();
  try {
    writeConfig(cfgFile, "mqtt://127.0.0.1:1", "cut-1");
    const board = startBoard({ board: "esp32-lipo-sensor", storageFile: path.join(dir, "board.storage.json"), clock: "real", appCode: OLD_APP });
    const pair = await openPtyPair();
    const serial = attachSerialRepl(board, pair.boardPath);
    try {
      const lines: string[] = [];
      let cut = false;
      const code = await runFlash(["--port", pair.hostPath, "--config", cfgFile, "--app", APP, "--json", "--chunk", "64"], {
        env: {},
        out: (l) => {
          lines.push(l);
          const e = JSON.parse(l);
          if (!cut && e.event === "progress" && e.bytes >= 1024) {
            cut = true;
            serial.close(); // the board end goes away mid-upload
            void pair.close();
          }
        },
      });
      assert.equal(code, 1);
      const err = JSON.parse(lines.at(-1)!);
      assert.equal(err.event, "error");
      assert.match(err.code, /PORT_CLOSED|NO_REPLY/, err.message);
      assert.equal(board.storage.get(".bootcde"), OLD_APP);
      board.boot("power-on");
      await until(() => board.evaluate("typeof oldApp") === "number", 5000, "old app after reboot");
    } finally {
      serial.close();
      await pair.close();
      board.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
