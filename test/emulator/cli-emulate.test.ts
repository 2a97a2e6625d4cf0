import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parseBrokerUrl } from "../../host-tools/device/broker-url.ts";
import { parseDuration, runEmulate } from "../../host-tools/emulator/cli-emulate.ts";
import { TELEMETRY_APP, tmpDir, withTimeout } from "./fixtures/util.ts";

test("wisp emulate --json: embedded aedes, observer, events and a summary, one JSON object per line", { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const config = path.join(dir, "flash.config.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
      board: "esp32-lipo-sensor",
      device: { clientId: "cli-test", topicPrefix: "site", wifi: { ssid: "lab" }, broker: { url: "" } },
      telemetry: { intervalSeconds: 120 },
      mqtt: { keepAliveSeconds: 60 },
    }),
  );
  const lines: string[] = [];
  const code = await withTimeout(
    runEmulate(["--config", config, "--app", TELEMETRY_APP, "--virtual-time", "--duration", "1h", "--json", "--storage-dir", dir, "--erase"], {
      out: (l) => lines.push(l),
    }),
    50_000,
    "wisp emulate",
  );
  assert.equal(code, 0);
  const events = lines.map((l) => JSON.parse(l));
  const start = events.find((e) => e.type === "start");
  assert.equal(start.board, "esp32-lipo-sensor");
  assert.equal(start.embedded, true);
  assert.ok(events.some((e) => e.type === "wifi" && e.state === "connected"));
  const pubs = events.filter((e) => e.type === "publish");
  assert.ok(pubs.length >= 30, `publishes seen: ${pubs.length}`);
  assert.equal(pubs[0].topic, "site/cli-test/telemetry");
  assert.ok(pubs[0].t >= 1200 && pubs[0].t < 1300, `first publish observed at ${pubs[0].t} ms board time (sent at 1200)`);
  assert.ok(events.some((e) => e.type === "status" && e.batteryVolts > 4));
  const summary = events.at(-1);
  assert.equal(summary.type, "summary");
  assert.equal(summary.boardTimeMs, 3_600_000);
  assert.equal(summary.messages, pubs.length);
  assert.ok(summary.mAh > 0 && summary.avgMa > 20 && summary.avgMa < 30, `avg ${summary.avgMa} mA (mostly modem sleep)`);
  assert.ok(summary.daysOnBattery > 1, `days ${summary.daysOnBattery}`);
  // settings reached the board through Storage wisp.json
  const flash = JSON.parse(fs.readFileSync(path.join(dir, "esp32-lipo-sensor.storage.json"), "utf8"));
  const settings = JSON.parse(Buffer.from(flash.files["wisp.json"], "base64").toString("utf8"));
  assert.equal(settings.clientId, "cli-test");
  assert.equal(settings.wifiSsid, "lab");
  assert.equal(settings.brokerHost, "127.0.0.1");
  assert.equal(settings.brokerScheme, "mqtt");
});

test("wisp emulate: readable output and clear errors", { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);
  assert.equal(await runEmulate(["--app", "/nonexistent/app.js"], { out }), 2);
  assert.match(lines.join("\n"), /\/nonexistent\/app.js is missing: run `npm run build` first/);
  lines.length = 0;
  assert.equal(await runEmulate(["--frobnicate"], { out }), 2);
  assert.match(lines[0], /unknown option --frobnicate/);
  lines.length = 0;
  assert.equal(await runEmulate(["--app", TELEMETRY_APP, "--board", "no-such-board", "--storage-dir", tmpDir()], { out }), 2);
  assert.match(lines.join("\n"), /unknown board "no-such-board"/);
  lines.length = 0;
  const dir = tmpDir();
  const code = await runEmulate(["--app", TELEMETRY_APP, "--virtual-time", "--duration", "10m", "--storage-dir", dir, "--config", "/dev/null/none"], { out });
  assert.equal(code, 2, "unreadable config is an error");
  lines.length = 0;
  assert.equal(await runEmulate(["--app", TELEMETRY_APP, "--board", "esp32-devkitc", "--virtual-time", "--duration", "10m", "--storage-dir", dir], { out }), 0);
  const text = lines.join("\n");
  assert.match(text, /wisp emulate: ESP32-DevKitC/);
  assert.match(text, /\[00:00:01\.200\] wifi connected \(rssi -\d+ dBm\)/);
  assert.match(text, /publish wisp\/.+\/telemetry \{"n":1/);
  assert.match(text, /summary \(done\):\n  board time 00:10:00\.000/);
  assert.match(text, /battery none on this board/);
});

test("duration and broker URL parsing", () => {
  assert.equal(parseDuration("24h"), 86_400_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1.5m"), 90_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("2d"), 172_800_000);
  assert.throws(() => parseDuration("soon"), /bad duration "soon"/);
  assert.deepEqual(parseBrokerUrl("mqtt://10.0.0.2"), { scheme: "mqtt", host: "10.0.0.2", port: 1883 });
  assert.deepEqual(parseBrokerUrl("mqtts://broker.example:8884"), { scheme: "mqtts", host: "broker.example", port: 8884 });
  assert.throws(() => parseBrokerUrl("http://x"), /bad broker URL/);
});
