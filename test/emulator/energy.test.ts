/**
 * Energy meter against hand calculations from the board JSON (read here with
 * JSON.parse, not through the emulator's loader).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import mqtt from "mqtt";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { rawBoard, TELEMETRY_APP, tmpDir, withTimeout } from "./fixtures/util.ts";

const H = 3_600_000;

function handMah(timeMs: Record<string, number>, currentMa: Record<string, number>): number {
  let mAh = 0;
  for (const k of Object.keys(currentMa)) mAh += ((timeMs[k] ?? 0) / H) * currentMa[k];
  return mAh;
}

function within1pct(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 0.01 * Math.abs(expected), `${what}: ${actual} vs hand ${expected}`);
}

test("24 virtual hours of keep-alives and publishes run in well under a minute; energy matches the hand calculation", { timeout: 120_000 }, async () => {
  const raw = rawBoard("esp32-lipo-sensor");
  const broker = await startAedes();
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  let seen = 0;
  client.on("message", () => seen++);
  await client.subscribeAsync("#");
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: TELEMETRY_APP,
    storageDir: tmpDir(),
    clock: "virtual",
    seed: 7,
    settings: { brokerPort: broker.port, clientId: "day", intervalSeconds: 300, keepAliveSeconds: 120 },
  });
  const t0 = Date.now();
  try {
    await withTimeout(board.runFor(24 * H), 90_000, "24 h virtual");
    const realMs = Date.now() - t0;
    console.log(`# 24 h of board time took ${realMs} ms real`);
    assert.ok(realMs < 60_000, `24 h took ${realMs} ms real`);
    const r = board.energy();
    assert.equal(r.elapsedMs, 24 * H);
    const sum = Object.values(r.timeMs).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 24 * H) < 1e-3, `time in states adds up to 24 h (${sum})`);
    // the board wrote: CONNECT, 289 PUBLISH (1.2 s, then every 300 s), 720 PINGREQ (every 120 s);
    // every 600 s a PUBLISH and a PINGREQ are written in the same tick and leave in one send
    // (writes queue until the event loop runs, as on Espruino), so 144 sends carry both
    assert.ok(r.writes >= 1 + 288 + 719 - 144, `writes ${r.writes}`);
    // hand calculation 1: ms per state as recorded x board currents
    within1pct(r.mAh, handMah(r.timeMs, raw.currentMa), "mAh from recorded state times");
    within1pct(r.avgMa, (handMah(r.timeMs, raw.currentMa) * H) / (24 * H), "average mA");
    // hand calculation 2, from the schedule alone: Wi-Fi association (RX), then connected
    // (modem sleep), plus per write: airtime (TX) and the RX window
    const rad = raw.radio;
    const air = (bytes: number) => (rad.perWriteOverheadUs + (bytes * 8) / rad.phyRateMbps) / 1000;
    const txMs = r.writes * air(0) + (r.bytesTx * 8) / rad.phyRateMbps / 1000;
    const rxMs = rad.wifiConnectMs + r.writes * rad.rxWindowMs; // replies land inside the windows
    const modemMs = 24 * H - rad.wifiConnectMs - txMs - (rxMs - rad.wifiConnectMs);
    const c = raw.currentMa;
    const expected = (txMs * c.wifiTx + rxMs * c.wifiRx + modemMs * c.modemSleep) / H;
    within1pct(r.mAh, expected, "mAh from the schedule");
    assert.ok(r.daysOnBattery! > 0);
    within1pct(r.daysOnBattery!, raw.battery.capacityMah / (r.avgMa * 24), "days on battery");
    assert.ok(seen >= 280, `observer saw ${seen} publishes`);
  } finally {
    board.stop();
    await client.endAsync();
    await broker.close();
  }
});

test("a known schedule (associate, stay, disconnect, wait, deep sleep) gives exactly the expected time per state", { timeout: 30_000 }, async () => {
  const raw = rawBoard("esp32-devkitc");
  // Each cycle: Wi-Fi connect (wifiConnectMs of RX), 10 s connected idle (modem sleep),
  // disconnect, 5 s radio off (light sleep), then deep sleep for 48.8 s.
  const app = `
    var W = require("Wifi");
    W.connect("ap", {}, function () {
      setTimeout(function () {
        W.disconnect();
        setTimeout(function () { ESP32.deepSleep(48800000); }, 5000);
      }, 10000);
    });`;
  const board = startBoard({ board: "esp32-devkitc", appCode: app, storageFile: null, clock: "virtual" });
  const cycleMs = raw.radio.wifiConnectMs + 10_000 + 5_000 + 48_800;
  const cycles = 20;
  await withTimeout(board.runFor(cycles * cycleMs), 20_000, "20 cycles");
  const r = board.energy();
  assert.equal(board.bootCount, cycles + 1, "woke up once per cycle");
  // at the end the 21st cycle has just booted: no time in it yet
  assert.equal(r.timeMs.wifiRx, cycles * raw.radio.wifiConnectMs);
  assert.equal(r.timeMs.modemSleep, cycles * 10_000);
  assert.equal(r.timeMs.lightSleep, cycles * 5_000);
  assert.equal(r.timeMs.deepSleep, cycles * 48_800);
  assert.equal(r.timeMs.wifiTx, 0);
  const c = raw.currentMa;
  const expected = (cycles * (raw.radio.wifiConnectMs * c.wifiRx + 10_000 * c.modemSleep + 5_000 * c.lightSleep + 48_800 * c.deepSleep)) / H;
  within1pct(r.mAh, expected, "mAh");
  board.stop();
});

test("TX airtime follows bytes and PHY rate from the board JSON", { timeout: 20_000 }, async () => {
  const raw = rawBoard("esp32-devkitc");
  const sink = net.createServer((s) => s.resume());
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
  const port = (sink.address() as net.AddressInfo).port;
  const app = `
    require("Wifi").connect("ap", {}, function () {
      var s = require("net").connect({host: "127.0.0.1", port: ${port}}, function () {
        var chunk = ""; for (var i = 0; i < 1000; i++) chunk += String.fromCharCode(i & 255);
        s.write(chunk);
        setTimeout(function () { s.end(); }, 1000);
      });
    });`;
  const board = startBoard({ board: "esp32-devkitc", appCode: app, storageFile: null, clock: "virtual" });
  try {
    await withTimeout(board.runFor(10_000), 10_000, "10 s");
    const r = board.energy();
    assert.equal(r.bytesTx, 1000);
    // (virtual time is ms since 1970 in a double: ~0.0002 ms resolution)
    // three frames on the air: the connect handshake (overhead only) and the 1000-byte write,
    // which leaves in two idle-loop passes of at most 536 bytes (socketSendData, net->chunkSize)
    const expectTx = (3 * raw.radio.perWriteOverheadUs + (1000 * 8) / raw.radio.phyRateMbps) / 1000;
    assert.ok(Math.abs(r.timeMs.wifiTx - expectTx) < 1e-3, `tx ${r.timeMs.wifiTx} ms vs ${expectTx} ms`);
    assert.ok(Math.abs(r.timeMs.wifiRx - (raw.radio.wifiConnectMs + raw.radio.rxWindowMs)) < 1e-3, `rx ${r.timeMs.wifiRx}`);
  } finally {
    board.stop();
    sink.close();
  }
});
