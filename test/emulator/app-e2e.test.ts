/**
 * End to end with the real app: `npm run build` writes dist/espruino/app.js, the
 * emulator boots it, and MQTT.js (an independent client) sees its birth and
 * telemetry through aedes in-process and through a mosquitto the test starts.
 * Then a whole simulated day on the virtual clock, with the energy summary checked
 * against the board JSON by hand.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startEspruinoBoard } from "../../host-tools/espruino/board.ts";
import { assertNoUncaught, observe, until as untilReal } from "../espruino/engine-harness.ts";
import { bootApp } from "../helpers/boot-app.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { mosquittoSkip, startMosquitto } from "../helpers/mosquitto.ts";
import { rawBoard, withTimeout } from "./fixtures/util.ts";

after(cleanupAll);

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!pred()) await new Promise((r) => setTimeout(r, 10));
    })(),
    ms,
    what,
  );
}

for (const kind of ["aedes", "mosquitto"] as const) {
  test(`built app: birth then telemetry through ${kind}, seen by MQTT.js`, { timeout: 60_000, skip: kind === "mosquitto" ? mosquittoSkip() : false }, async () => {
    const mosquitto = kind === "mosquitto" ? await startMosquitto() : null;
    const app = await bootApp({ broker: mosquitto ?? undefined, seed: 5, settings: { clientId: `app-${kind}`, intervalSeconds: 30, keepAliveSeconds: 60, qos: 1 } });
    const { board, seen } = app;
    try {
      await withTimeout(board.runFor(5 * 60_000), 30_000, "5 virtual minutes");
      await until(() => app.on("telemetry").length >= 10, 5000, "ten readings at the observer");
      assert.deepEqual(seen[0], { topic: `wisp/app-${kind}/status`, payload: "online", qos: 1, retain: false });
      const seqs = seen.filter((m) => m.topic === `wisp/app-${kind}/telemetry`).map((m) => JSON.parse(m.payload).seq);
      assert.deepEqual(seqs.slice(0, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await app.close();
      await mosquitto?.stop();
    }
  });
}

test("built app: 24 simulated hours in well under a minute, energy matching the board JSON by hand", { timeout: 90_000 }, async () => {
  const app = await bootApp({ seed: 11, settings: { clientId: "day", intervalSeconds: 300, keepAliveSeconds: 120, qos: 1 } });
  const { board, seen } = app;
  try {
    const t0 = Date.now();
    await withTimeout(board.runFor(24 * 3_600_000), 60_000, "24 virtual hours");
    const realMs = Date.now() - t0;
    assert.ok(realMs < 60_000, `24 h took ${realMs} ms of real time`);
    await until(() => seen.filter((m) => m.topic === "wisp/day/telemetry").length >= 288, 5000, "a day of readings");

    const e = board.energy();
    const cur = rawBoard("esp32-lipo-sensor").currentMa as Record<string, number>;
    let handMah = 0;
    for (const [state, ms] of Object.entries(e.timeMs)) handMah += (cur[state] * ms) / 3_600_000;
    assert.ok(Math.abs(e.mAh - handMah) / handMah < 0.01, `meter ${e.mAh} mAh vs hand ${handMah} mAh`);
    const total = Object.values(e.timeMs).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 24 * 3_600_000) < 1000, `time per state adds up to the day: ${total}`);
    // Staying connected, the radio idles in modem sleep almost all day: ~25 mA.
    assert.ok(e.avgMa > cur.modemSleep * 0.95 && e.avgMa < cur.modemSleep * 1.2, `average ${e.avgMa} mA`);
  } finally {
    await app.close();
  }
});

/** What a board without a battery ADC (esp32-devkitc, `"adc": null`) publishes: `"v":null`, the other fields as usual. */
function assertNoBatteryReadings(payloads: string[]): void {
  assert.ok(payloads.length >= 2, `readings: ${payloads.length}`);
  for (const p of payloads) {
    const r = JSON.parse(p);
    assert.deepEqual(Object.keys(r), ["seq", "v", "rssi", "up", "mem"]);
    assert.equal(r.v, null, p);
    assert.ok(r.mem > 0, p);
  }
}

test("default board (esp32-devkitc, no ADC): boots, publishes readings with \"v\":null, the policy stays connected", { timeout: 60_000 }, async () => {
  const app = await bootApp({ board: "esp32-devkitc", seed: 3, settings: { clientId: "devkit", intervalSeconds: 30, qos: 1 } });
  try {
    await withTimeout(app.board.runFor(5 * 60_000), 30_000, "5 virtual minutes");
    await until(() => app.on("telemetry").length >= 8, 5000, "readings at the observer");
    const text = app.consoleText();
    assert.doesNotMatch(text, /Uncaught|TypeError/, text);
    assertNoBatteryReadings(app.on("telemetry").map((m) => m.payload));
    // auto mode (the default): no reading is neither "empty" nor a reason to sleep
    assert.match(text, /policy mode=stay ka=\d+ interval=30 band=unknown pct=none rssi=-?\d+: no battery reading/);
    assert.doesNotMatch(text, /mode=sleep/);
    assert.deepEqual(app.on("status").map((m) => m.payload), ["online"]);
  } finally {
    await app.close();
  }
});

test("default board (esp32-devkitc) on the real interpreter: no throw, \"v\":null readings", { skip: skipUnlessEspruino(), timeout: 60_000 }, async (t) => {
  const broker = await startAedes();
  const obs = await observe(broker.url, "wisp/#");
  const board = await startEspruinoBoard({
    board: "esp32-devkitc",
    app: path.join(REPO_ROOT, "dist", "espruino", "app.js"),
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "devkit-real", intervalSeconds: 1, keepAliveSeconds: 10, qos: 1 },
    wifi: { connectMs: 200 },
  });
  try {
    const tele = () => obs.seen.filter((m) => m.topic === "wisp/devkit-real/telemetry");
    await untilReal(() => tele().length >= 3, 30000, "three readings", () => board.consoleTail());
    assertNoBatteryReadings(tele().map((m) => m.payload));
    const text = board.events.map((e) => (e.type === "console" ? e.text : "")).join("");
    assert.match(text, /band=unknown pct=none .*: no battery reading/);
    assertNoUncaught(t, board.uncaught());
  } finally {
    await board.stop();
    await obs.close();
    await broker.close();
  }
});

test("wisp.json is read once per boot: the platform's one read feeds settings, extras, buffers and power", { timeout: 60_000 }, async () => {
  // The built app behind a prelude that counts Storage.readJSON("wisp.json") calls.
  const prelude =
    'var wispJsonReads = 0;(function(){var S = require("Storage"); var r = S.readJSON;' +
    'S.readJSON = function(n, x){ if (n === "wisp.json") wispJsonReads++; return r.call(S, n, x); };})();' +
    'setTimeout(function(){ console.log("wisp.json reads: " + wispJsonReads); }, 20000);\n';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-read-once-"));
  const appFile = path.join(dir, "app.js");
  fs.writeFileSync(appFile, prelude + fs.readFileSync(path.join(REPO_ROOT, "dist", "espruino", "app.js"), "utf8"));
  // power.natIdleSeconds comes from the same read: the policy's keep-alive shows it (100 - 30 s margin)
  const app = await bootApp({ app: appFile, seed: 4, settings: { clientId: "once", intervalSeconds: 30, power: { natIdleSeconds: 100 } } });
  try {
    await withTimeout(app.board.runFor(60_000), 30_000, "one virtual minute");
    const text = app.consoleText();
    assert.match(text, /wisp\.json reads: 1\b/, text);
    assert.match(text, /policy mode=stay ka=70 /, text);
    assert.ok(app.on("telemetry").length >= 1);
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
