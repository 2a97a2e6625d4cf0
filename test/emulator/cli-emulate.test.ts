import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import mqttPacket from "mqtt-packet";
import { parseBrokerUrl } from "../../host-tools/device/broker-url.ts";
import { loadBoard } from "../../host-tools/device/board.ts";
import { deviceSettings } from "../../host-tools/device/settings.ts";
import { parseDuration, runEmulate, settingsFromConfig } from "../../host-tools/emulator/cli-emulate.ts";
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
  // the embedded broker's WebSocket listener is named, for wisp web's live view
  assert.match(start.brokerWs, /^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
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

test("settingsFromConfig (kept for the real-interpreter engine) is the one mapping without the board-specific defaults", () => {
  const cfg = { board: "esp32-devkitc", device: { clientId: "c1", wifi: { ssid: "lab" }, broker: { url: "mqtt://ignored" } }, telemetry: { mode: "sleep" as const } };
  const env = { WISP_MQTT_USERNAME: "u", WISP_WIFI_PASSWORD: "p" };
  const s = settingsFromConfig(cfg, parseBrokerUrl("wss://h/x"), env);
  const { board: _b, ...full } = deviceSettings({ board: loadBoard("esp32-devkitc"), config: cfg, env, brokerUrl: "wss://h:443/x" });
  assert.deepEqual(s, full);
  assert.equal(s.username, "u");
  assert.equal(s.brokerPath, "/x");
  assert.equal("clientId" in settingsFromConfig({}, parseBrokerUrl("mqtt://h"), {}), false, "the board's own default client id");
});

/** A loopback TCP port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const tlsWarnings = (events: any[]) => events.filter((e) => e.type === "warning" && e.code === "TLS_UNVERIFIED");

test("wisp emulate warns that Espruino's TLS does not verify the broker (mqtts:// and wss://), and not for mqtt://", { timeout: 60_000 }, async () => {
  const port = await closedPort();
  for (const url of [`mqtts://127.0.0.1:${port}`, `wss://127.0.0.1:${port}/mqtt`]) {
    const lines: string[] = [];
    const code = await withTimeout(
      runEmulate(["--app", TELEMETRY_APP, "--board", "esp32-devkitc", "--broker", url, "--virtual-time", "--duration", "5s", "--json", "--storage-dir", tmpDir(), "--erase"], { out: (l) => lines.push(l), env: {} }),
      40_000,
      `wisp emulate ${url}`,
    );
    assert.equal(code, 0);
    const w = tlsWarnings(lines.map((l) => JSON.parse(l)));
    assert.equal(w.length, 1, `one TLS warning for ${url}: ${lines.join("\n")}`);
    assert.match(w[0].message, /esp32-devkitc runs Espruino 2v24, whose TLS does not verify the broker's certificate/);
    assert.match(w[0].message, /man-in-the-middle.*docs\/device\.md/);
  }
  // Readable form, and none for plain MQTT.
  const text: string[] = [];
  await runEmulate(["--app", TELEMETRY_APP, "--board", "esp32-devkitc", "--broker", `mqtts://127.0.0.1:${port}`, "--virtual-time", "--duration", "2s", "--storage-dir", tmpDir()], { out: (l) => text.push(l), env: {} });
  assert.match(text.join("\n"), /^warning: esp32-devkitc runs Espruino .* does not verify/m);
  const plain: string[] = [];
  await runEmulate(["--app", TELEMETRY_APP, "--board", "esp32-devkitc", "--broker", `mqtt://127.0.0.1:${port}`, "--virtual-time", "--duration", "2s", "--json", "--storage-dir", tmpDir()], { out: (l) => plain.push(l), env: {} });
  assert.deepEqual(tlsWarnings(plain.map((l) => JSON.parse(l))), []);
});

test("wisp emulate reads the same WISP_* variables as wisp flash into wisp.json (and warns for a wss:// WISP_BROKER_URL)", { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const config = path.join(dir, "flash.config.json");
  fs.writeFileSync(
    config,
    JSON.stringify({ board: "esp32-devkitc", device: { clientId: "env-test", wifi: { ssid: "from-config" }, broker: { url: "mqtt://127.0.0.1:1" } } }),
  );
  const port = await closedPort();
  const env = {
    WISP_BROKER_URL: `wss://127.0.0.1:${port}/ws`,
    WISP_WIFI_SSID: "from-env",
    WISP_WIFI_PASSWORD: "wifi-secret",
    WISP_MQTT_USERNAME: "env-user",
    WISP_MQTT_PASSWORD: "mqtt-secret",
  };
  const lines: string[] = [];
  const code = await withTimeout(
    runEmulate(["--config", config, "--app", TELEMETRY_APP, "--virtual-time", "--duration", "3s", "--json", "--storage-dir", dir, "--erase"], { out: (l) => lines.push(l), env }),
    40_000,
    "wisp emulate",
  );
  assert.equal(code, 0);
  const events = lines.map((l) => JSON.parse(l));
  assert.equal(events.find((e) => e.type === "start").broker, env.WISP_BROKER_URL);
  assert.equal(tlsWarnings(events).length, 1);
  const flash = JSON.parse(fs.readFileSync(path.join(dir, "esp32-devkitc.storage.json"), "utf8"));
  const s = JSON.parse(Buffer.from(flash.files["wisp.json"], "base64").toString("utf8"));
  assert.deepEqual(
    { clientId: s.clientId, wifiSsid: s.wifiSsid, wifiPassword: s.wifiPassword, username: s.username, password: s.password, brokerScheme: s.brokerScheme, brokerPort: s.brokerPort, brokerPath: s.brokerPath },
    { clientId: "env-test", wifiSsid: "from-env", wifiPassword: "wifi-secret", username: "env-user", password: "mqtt-secret", brokerScheme: "wss", brokerPort: port, brokerPath: "/ws" },
  );
});

test("wisp emulate --broker: a broker that never answers the observer's SUBSCRIBE is reported, the observer dropped, and the board boots", { timeout: 60_000 }, async () => {
  // Accepts every CONNECT with a CONNACK and ignores everything else.
  const conns: net.Socket[] = [];
  let subscribes = 0;
  const server = net.createServer((s) => {
    conns.push(s);
    s.on("error", () => {});
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: any) => {
      if (p.cmd === "connect") s.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
      if (p.cmd === "subscribe") subscribes++;
    });
    s.on("data", (d) => parser.parse(d));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const lines: string[] = [];
    const code = await withTimeout(
      runEmulate(["--app", TELEMETRY_APP, "--board", "esp32-devkitc", "--broker", `mqtt://127.0.0.1:${port}`, "--virtual-time", "--duration", "30s", "--json", "--storage-dir", tmpDir(), "--erase"], {
        out: (l) => lines.push(l),
        env: {},
      }),
      45_000,
      "wisp emulate against a broker that never answers SUBSCRIBE",
    );
    assert.equal(code, 0);
    const events = lines.map((l) => JSON.parse(l));
    assert.ok(subscribes >= 1, "the observer did subscribe");
    const dropped = events.find((e) => e.type === "warning" && e.code === "OBSERVER");
    assert.ok(dropped, `a warning names the dropped observer: ${lines.join("\n")}`);
    assert.match(dropped.message, /observer dropped.*SUBSCRIBE wisp\/#: no answer within 5\.0 s/);
    const boot = events.findIndex((e) => e.type === "boot");
    assert.ok(boot > events.indexOf(dropped), "the board booted after the observer was dropped");
    assert.ok(events.some((e) => e.type === "socket" && e.event === "connect"), "the board reached the broker");
    assert.equal(events.at(-1).type, "summary");
  } finally {
    for (const s of conns) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("wisp emulate checks the config against flash.config.schema.json, as wisp flash does", { timeout: 30_000 }, async () => {
  const dir = tmpDir();
  const config = path.join(dir, "flash.config.json");
  fs.writeFileSync(config, JSON.stringify({ board: "esp32-devkitc", device: { clientId: "bad id!", wifi: { ssid: "lab" }, broker: { url: "" } }, telemetry: { qos: 7 } }));
  const lines: string[] = [];
  assert.equal(await runEmulate(["--config", config, "--app", TELEMETRY_APP, "--virtual-time", "--duration", "1m", "--storage-dir", dir], { out: (l) => lines.push(l), env: {} }), 2);
  const text = lines.join("\n");
  assert.match(text, /flash\.config\.json: 2 problem\(s\)/);
  assert.match(text, /device\.clientId: "bad id!" — expected letters, digits, '_' or '-' only/);
  assert.match(text, /telemetry\.qos: 7 — expected one of 0, 1, 2/);
});
