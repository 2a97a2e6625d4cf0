/**
 * flash.config.json validation (ajv against flash.config.schema.json): one case per
 * field, each message naming the field, the value and what was expected; secrets
 * never echoed; settings from config + environment.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadBoard } from "../../host-tools/device/board.ts";
import { ConfigError, loadConfig, validateConfig, type FlashConfig } from "../../host-tools/device/config.ts";
import { configuredBrokerUrl, deviceSettings as mapSettings } from "../../host-tools/device/settings.ts";
import { runFlash } from "../../host-tools/flasher/cli-flash.ts";

function valid(): any {
  return {
    board: "esp32-lipo-sensor",
    port: "/dev/ttyUSB0",
    baudRate: 115200,
    device: {
      clientId: "wisp-sensor-01",
      topicPrefix: "wisp",
      wifi: { ssid: "my-network", password: "pw" },
      broker: { url: "mqtt://broker.local:1883", username: "u", password: "p" },
    },
    telemetry: { intervalSeconds: 60, qos: 1 },
    mqtt: { keepAliveSeconds: 60, cleanSession: false },
    power: { natIdleSeconds: 300 },
  };
}

function set(obj: any, field: string, v: unknown): any {
  const keys = field.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k];
  if (v === undefined) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = v;
  return obj;
}

/** [field, bad value, expected message part] */
const CASES: [string, unknown, RegExp][] = [
  ["board", "ESP32 Board", /^board: "ESP32 Board" — expected a board id/],
  ["board", undefined, /^board: \(missing\) — expected a value \(this field is required\)/],
  ["port", "", /^port: "" — expected a non-empty string/],
  ["baudRate", 12345, /^baudRate: 12345 — expected one of 9600, .*115200/],
  ["device", undefined, /^device: \(missing\) — expected a value/],
  ["device.clientId", "has space", /^device\.clientId: "has space" — expected letters, digits/],
  ["device.clientId", "x".repeat(24), /^device\.clientId: "x{24}" — expected at most 23 characters/],
  ["device.topicPrefix", "a/#", /^device\.topicPrefix: "a\/#" — expected a topic prefix without the wildcards/],
  ["device.wifi.ssid", "", /^device\.wifi\.ssid: "" — expected a non-empty string/],
  ["device.wifi.ssid", "s".repeat(33), /^device\.wifi\.ssid: "s{33}" — expected at most 32 characters/],
  ["device.wifi.password", 12345678, /^device\.wifi\.password: \(hidden\) — expected type string/],
  ["device.broker.url", "http://x:1883", /^device\.broker\.url: "http:\/\/x:1883" — expected mqtt:\/\/host\[:port\]/],
  ["device.broker.username", 5, /^device\.broker\.username: 5 — expected type string or null/],
  ["device.broker.password", 42, /^device\.broker\.password: \(hidden\) — expected type string or null/],
  ["telemetry.intervalSeconds", 0, /^telemetry\.intervalSeconds: 0 — expected a number >= 1/],
  ["telemetry.intervalSeconds", 1.5, /^telemetry\.intervalSeconds: 1\.5 — expected type integer/],
  ["telemetry.qos", 3, /^telemetry\.qos: 3 — expected one of 0, 1, 2/],
  ["mqtt.keepAliveSeconds", 65536, /^mqtt\.keepAliveSeconds: 65536 — expected a number <= 65535/],
  ["mqtt.keepAliveSeconds", -1, /^mqtt\.keepAliveSeconds: -1 — expected a number >= 0/],
  ["mqtt.cleanSession", "yes", /^mqtt\.cleanSession: "yes" — expected type boolean/],
  ["telemetry.mode", "turbo", /^telemetry\.mode: "turbo" — expected one of "auto", "stay", "sleep"/],
  ["telemetry.commands", "on", /^telemetry\.commands: "on" — expected type boolean/],
  ["power.highPct", "60", /^power\.highPct: "60" — expected type number/],
  ["power.nope", 1, /^power\.nope: 1 — expected no such field/],
  ["mqtt.retain", true, /^mqtt\.retain: true — expected no such field/],
  ["wifi", {}, /^wifi: \{\} — expected no such field/],
];

test("a full valid config and the repo's flash.config.json pass", () => {
  assert.deepEqual(validateConfig(valid()), []);
  assert.equal(loadConfig("flash.config.json").board, "esp32-lipo-sensor");
});

for (const [field, value, re] of CASES) {
  test(`config field ${field} = ${JSON.stringify(value) ?? "(missing)"}`, () => {
    const problems = validateConfig(set(valid(), field, value));
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0], re);
  });
}

test("secrets are never shown in messages", () => {
  const c = set(set(valid(), "device.wifi.password", "x".repeat(80)), "device.broker.password", { p: "topsecret" });
  const text = validateConfig(c).join("\n");
  assert.ok(!text.includes("xxxxxxxx") && !text.includes("topsecret"), text);
});

test("several problems are all reported; bad JSON and a missing file are clear", () => {
  const c = set(set(valid(), "telemetry.qos", 9), "device.clientId", "");
  assert.equal(validateConfig(c).length, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-cfg-"));
  try {
    fs.writeFileSync(path.join(dir, "bad.json"), "{ board: ");
    assert.throws(() => loadConfig(path.join(dir, "bad.json")), (e: ConfigError) => /bad\.json: .*not valid JSON/s.test(e.message));
    assert.throws(() => loadConfig(path.join(dir, "none.json")), (e: ConfigError) => /none\.json: .*cannot read: ENOENT/s.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("wisp flash reports config problems before touching any port", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-cfg-"));
  try {
    const f = path.join(dir, "c.json");
    fs.writeFileSync(f, JSON.stringify(set(valid(), "telemetry.qos", 7)));
    const lines: string[] = [];
    assert.equal(await runFlash(["--config", f, "--app", f, "--port", "/dev/null-not"], { out: (l) => lines.push(l) }), 1);
    assert.match(lines.join("\n"), /c\.json: 1 problem\(s\)\n  telemetry\.qos: 7 — expected one of 0, 1, 2/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The flasher's use of the one mapping: the board from the config, the broker from WISP_BROKER_URL or the config. */
function deviceSettings(cfg: FlashConfig, env: NodeJS.ProcessEnv) {
  const brokerUrl = configuredBrokerUrl(cfg, env);
  return mapSettings({ board: loadBoard(cfg.board), config: cfg, env, brokerUrl });
}

test("device settings: config plus environment overrides, board details from boards/", () => {
  const cfg = valid() as FlashConfig;
  const s = deviceSettings(cfg, { WISP_WIFI_PASSWORD: "envpw", WISP_MQTT_PASSWORD: "mq" });
  assert.equal(s.wifiPassword, "envpw");
  assert.equal(s.password, "mq");
  assert.equal(s.brokerHost, "broker.local");
  assert.equal(s.brokerPort, 1883);
  assert.equal(s.brokerScheme, "mqtt");
  assert.equal(s.clientId, "wisp-sensor-01");
  assert.equal(s.intervalSeconds, 60);
  assert.equal(s.qos, 1);
  assert.equal(s.cleanSession, false);
  assert.equal((s.board as any).id, "esp32-lipo-sensor");
  const s2 = deviceSettings(cfg, { WISP_BROKER_URL: "mqtts://secure.example" });
  assert.equal(s2.brokerScheme, "mqtts");
  assert.equal(s2.brokerPort, 8883);
  assert.equal(s2.wifiPassword, "pw");
  // The policy's settings reach wisp.json as the app reads them (docs/power.md).
  const withPower = set(set(set(valid(), "telemetry.mode", "sleep"), "telemetry.commands", true), "power", { highPct: 60 });
  assert.deepEqual(validateConfig(withPower), []);
  const s3 = deviceSettings(withPower, {}) as any;
  assert.equal(s3.mode, "sleep");
  assert.equal(s3.commands, true);
  assert.deepEqual(s3.power, { highPct: 60 });
  assert.deepEqual(validateConfig(set(valid(), "device.broker.url", "ws://broker.local:8080/mqtt")), []);
});

test("wisp flash: no broker URL in the config nor WISP_BROKER_URL is a config error naming the field", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-cfg-"));
  try {
    const f = path.join(dir, "c.json");
    fs.writeFileSync(f, JSON.stringify(set(valid(), "device.broker.url", "")));
    const lines: string[] = [];
    assert.equal(await runFlash(["--config", f, "--app", f, "--port", "/dev/null-not"], { out: (l) => lines.push(l), env: {} }), 1);
    assert.match(lines.join("\n"), /device\.broker\.url: "" — expected the broker the board should reach/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("wisp flash: an unknown board id names the field and the known boards", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-cfg-"));
  try {
    const f = path.join(dir, "c.json");
    fs.writeFileSync(f, JSON.stringify(set(valid(), "board", "esp32-nope")));
    const lines: string[] = [];
    assert.equal(await runFlash(["--config", f, "--app", f, "--port", "/dev/null-not"], { out: (l) => lines.push(l) }), 1);
    assert.match(lines.join("\n"), /board: "esp32-nope" — expected a board of boards\/ \(unknown board "esp32-nope".*known boards: .*esp32-lipo-sensor/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("wisp flash warns that Espruino's TLS does not verify the broker (mqtts:// or wss://, config or WISP_BROKER_URL), before opening the port", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-cfg-"));
  try {
    const f = path.join(dir, "c.json");
    const flash = async (url: string, env: NodeJS.ProcessEnv, json = false) => {
      fs.writeFileSync(f, JSON.stringify(set(valid(), "device.broker.url", url)));
      const lines: string[] = [];
      const code = await runFlash(["--config", f, "--app", f, "--port", "/dev/null-not", ...(json ? ["--json"] : [])], { out: (l) => lines.push(l), env });
      assert.equal(code, 1, "the missing port still fails the flash");
      return lines;
    };
    const tls = await flash("mqtts://broker.local:8883", {});
    assert.match(tls[0], /^warning: esp32-lipo-sensor runs Espruino 2v24, whose TLS does not verify the broker's certificate: mqtts:\/\/broker\.local:8883 .*man-in-the-middle.*docs\/device\.md/);
    assert.match(tls.at(-1)!, /\/dev\/null-not/, "then the port error");
    const viaEnv = await flash("mqtt://broker.local", { WISP_BROKER_URL: "wss://broker.example/mqtt" }, true);
    const w = JSON.parse(viaEnv[0]);
    assert.equal(w.event, "warning");
    assert.equal(w.code, "TLS_UNVERIFIED");
    assert.match(w.message, /wss:\/\/broker\.example:443/);
    const plain = await flash("mqtt://broker.local", {});
    assert.ok(!plain.some((l) => /warning/.test(l)), plain.join("\n"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
