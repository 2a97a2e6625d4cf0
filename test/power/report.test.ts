/**
 * `wisp emulate --report`: the page holds the run's data (parsed back and checked
 * against the run's JSON summary), and renders in a real headless Chromium without
 * errors or network requests (screenshot). Chromium (Debian package `chromium`) is a
 * system dependency: without /usr/bin/chromium the screenshot test skips with a
 * printed reason, unless WISP_REQUIRE_SYSTEM_DEPS=1.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runEmulate } from "../../host-tools/emulator/cli-emulate.ts";
import { parseReport, type ReportData } from "../../host-tools/emulator/report.ts";
import { artifactPath } from "../helpers/artifacts.ts";

const CHROMIUM = "/usr/bin/chromium";

function skipWithoutChromium(): false | string {
  if (fs.existsSync(CHROMIUM)) return false;
  const reason = `${CHROMIUM} is missing (Debian package chromium); install it to run the report screenshot test`;
  if (process.env.WISP_REQUIRE_SYSTEM_DEPS === "1") throw new Error(`WISP_REQUIRE_SYSTEM_DEPS=1 but ${reason}`);
  console.log(`# skip: ${reason}`);
  return reason;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-report-"));
const reportFile = path.join(dir, "report.html");
let summary: Record<string, any> = {};
let lines: string[] = [];

before(async () => {
  const cfg = path.join(dir, "config.json");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      board: "esp32-lipo-sensor",
      device: { clientId: "rep1", topicPrefix: "wisp", wifi: { ssid: "lab" }, broker: { url: "" } },
      telemetry: { intervalSeconds: 300, qos: 1, mode: "auto" },
      mqtt: { cleanSession: false },
    }),
  );
  lines = [];
  const rc = await runEmulate(
    ["--config", cfg, "--app", artifactPath("espruino", "app"), "--virtual-time", "--duration", "1h", "--battery", "20", "--storage-dir", dir, "--erase", "--json", "--report", reportFile],
    { out: (l) => lines.push(l) },
  );
  assert.equal(rc, 0, lines.slice(-5).join("\n"));
  summary = lines.map((l) => JSON.parse(l)).find((o) => o.type === "summary");
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("report page embeds the run: samples, battery, radio states, every policy decision, the summary", () => {
  const html = fs.readFileSync(reportFile, "utf8");
  const d: ReportData = parseReport(html);
  assert.equal(d.version, 1);
  assert.equal(d.board.id, "esp32-lipo-sensor");
  assert.equal(d.durationMs, 3600_000);
  assert.ok(Math.abs(d.summary.mAh - summary.mAh) < 1e-9, "same energy as the run's summary");
  assert.equal(d.summary.boots, summary.boots);
  assert.equal(d.summary.messages, summary.messages);
  // Samples: increasing time, cumulative mAh, last one = total; window averages integrate back to the total.
  assert.ok(d.samples.length >= 100);
  for (let i = 1; i < d.samples.length; i++) {
    assert.ok(d.samples[i].t > d.samples[i - 1].t);
    assert.ok(d.samples[i].mAh >= d.samples[i - 1].mAh);
  }
  const last = d.samples[d.samples.length - 1];
  assert.equal(last.t, d.durationMs);
  assert.ok(Math.abs(last.mAh - d.summary.mAh) < 1e-9);
  let integral = 0;
  for (let i = 1; i < d.samples.length; i++) integral += (d.samples[i].mA * (d.samples[i].t - d.samples[i - 1].t)) / 3_600_000;
  assert.ok(Math.abs(integral - d.summary.mAh) < 1e-6, `integral ${integral} vs ${d.summary.mAh}`);
  assert.ok(d.samples.every((s) => s.pct !== null && s.pct > 19 && s.pct <= 20.001), "battery around 20 %");
  // Radio states: time per state from the timeline equals the meter's base-state time (TX/RX bursts overlay it).
  const states = new Set(d.states.map((s) => s.state));
  for (const s of ["deepSleep", "wifiRx"]) assert.ok(states.has(s as never), `timeline has ${s}`);
  let deep = 0;
  d.states.forEach((s, i) => {
    if (s.state === "deepSleep") deep += (i + 1 < d.states.length ? d.states[i + 1].t : d.durationMs) - s.t;
  });
  assert.ok(Math.abs(deep - d.summary.timeMs.deepSleep) < 1, `deep sleep ${deep} vs ${d.summary.timeMs.deepSleep}`);
  // One decision per boot (deep-sleep wakes), each with its reason.
  assert.equal(d.decisions.length, d.summary.boots);
  assert.equal(summary.policyDecisions, d.decisions.length, "terminal summary counts the same decisions");
  for (const x of d.decisions) assert.match(x.text, /^mode=sleep ka=30 interval=300 band=low pct=\d+ rssi=-?\d+: battery low/);
  // Human-readable parts are there too.
  assert.ok(html.includes('<svg id="current"') && html.includes('<svg id="battery"') && html.includes('<svg id="timeline"'));
  assert.ok(html.includes("battery low"));
  assert.ok(!/https?:\/\//.test(html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, "")), "no external references");
  assert.ok(lines.some((l) => JSON.parse(l).type === "report"));
});

test("report page renders in headless Chromium without errors or network (screenshot)", { skip: skipWithoutChromium(), timeout: 60_000 }, async () => {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto("file://" + reportFile, { waitUntil: "load" });
    const box = await page.locator("svg#current").boundingBox();
    assert.ok(box && box.width > 500 && box.height > 100, `current chart laid out: ${JSON.stringify(box)}`);
    const rects = await page.locator("svg#timeline rect").count();
    assert.ok(rects > 10, `timeline segments: ${rects}`);
    const rows = await page.locator("table#decisions tr").count();
    assert.ok(rows > 10);
    const shot = path.join(dir, "report.png");
    const png = await page.screenshot({ path: shot, fullPage: true });
    assert.ok(png.length > 10_000, `screenshot ${png.length} bytes`);
    assert.deepEqual(png.subarray(1, 4).toString(), "PNG");
    if (process.env.WISP_REPORT_SHOT) fs.copyFileSync(shot, process.env.WISP_REPORT_SHOT);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith("file://")), [], "no network requests");
  } finally {
    await browser.close();
  }
});
