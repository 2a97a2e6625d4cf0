/**
 * End to end: the fixture app on an emulated board publishes through a real broker
 * (aedes in-process, then a mosquitto of the test's own) and MQTT.js, an
 * independent client, receives it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { mosquittoSkip, startMosquitto } from "../helpers/mosquitto.ts";
import { observe, TELEMETRY_APP, tmpDir, withTimeout } from "./fixtures/util.ts";

test("fixture app publishes through in-process aedes, seen by MQTT.js (real time)", { timeout: 30_000 }, async () => {
  const broker = await startAedes();
  const obs = await observe(broker.url, "#");
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: TELEMETRY_APP,
    storageDir: tmpDir(),
    clock: "real",
    wifi: { connectMs: 50 },
    settings: { brokerPort: broker.port, clientId: "e2e-aedes", intervalSeconds: 0.2, keepAliveSeconds: 30 },
  });
  try {
    await withTimeout(board.runUntil(() => obs.got.length >= 3, 10_000, "three publishes"), 15_000, "aedes e2e");
    assert.equal(obs.got[0].topic, "wisp/e2e-aedes/telemetry");
    const first = JSON.parse(obs.got[0].payload);
    assert.equal(first.n, 1);
    assert.equal(first.boot, 1);
    assert.ok(first.v > 4 && first.v <= 4.21, `battery volts read through the ADC: ${first.v}`);
    assert.ok(first.rssi < -40 && first.rssi > -80, `rssi ${first.rssi}`);
    assert.ok(board.events.some((e) => e.type === "socket" && e.event === "connect"));
  } finally {
    board.stop();
    await obs.close();
    await broker.close();
  }
});

test("fixture app publishes through a mosquitto started by the test (virtual time)", { timeout: 60_000, skip: mosquittoSkip() }, async () => {
  const broker = await startMosquitto();
  const obs = await observe(broker.url, "wisp/#");
  const board = startBoard({
    board: "esp32-devkitc",
    app: TELEMETRY_APP,
    storageDir: tmpDir(),
    clock: "virtual",
    settings: { brokerPort: broker.port, clientId: "e2e-mosq", intervalSeconds: 60, keepAliveSeconds: 120 },
  });
  try {
    await withTimeout(board.runFor(10 * 60_000 + 2000), 30_000, "10 virtual minutes");
    // publishes at 1.2 s and then every 60 s: 11 in 10 min 2 s; allow the last one to be in flight
    await withTimeout(
      (async () => {
        while (obs.got.length < 11) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "observer receives 11 messages",
    );
    const ns = obs.got.map((m) => JSON.parse(m.payload).n);
    assert.deepEqual(ns, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.ok(obs.got.every((m) => m.topic === "wisp/e2e-mosq/telemetry"));
  } finally {
    board.stop();
    await obs.close();
    await broker.stop();
  }
});

test("a broker restart closes the board's socket and the app reconnects", { timeout: 60_000, skip: mosquittoSkip() }, async () => {
  const broker = await startMosquitto();
  const board = startBoard({
    app: TELEMETRY_APP,
    storageFile: null,
    clock: "real",
    wifi: { connectMs: 20 },
    settings: { brokerPort: broker.port, clientId: "e2e-restart", intervalSeconds: 0.2, keepAliveSeconds: 30 },
  });
  try {
    const connects = () => board.events.filter((e) => e.type === "socket" && e.event === "connect").length;
    await board.runUntil(() => connects() === 1, 5000, "first connect");
    await broker.restart();
    // the fixture retries 5 s after a close
    await board.runUntil(() => connects() === 2, 15_000, "reconnect after broker restart");
    assert.ok(board.events.some((e) => e.type === "console" && e.text === "socket closed"));
  } finally {
    board.stop();
    await broker.stop();
  }
});
void fs;
