/**
 * End to end with the real app: `npm run build` writes dist/espruino/app.js, the
 * emulator boots it, and MQTT.js (an independent client) sees its birth and
 * telemetry through aedes in-process and through a mosquitto the test starts.
 * Then a whole simulated day on the virtual clock, with the energy summary checked
 * against the board JSON by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { artifactPath } from "../helpers/artifacts.ts";
import { mosquittoSkip, startMosquitto } from "../helpers/mosquitto.ts";
import { observe, rawBoard, tmpDir, withTimeout } from "./fixtures/util.ts";

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
    const broker = kind === "aedes" ? await startAedes() : await startMosquitto();
    const obs = await observe(broker.url, "wisp/#");
    const board = startBoard({
      board: "esp32-lipo-sensor",
      app: artifactPath("espruino", "app"),
      storageDir: tmpDir(),
      clock: "virtual",
      seed: 5,
      settings: { brokerPort: broker.port, clientId: `app-${kind}`, intervalSeconds: 30, keepAliveSeconds: 60, qos: 1 },
    });
    try {
      await withTimeout(board.runFor(5 * 60_000), 30_000, "5 virtual minutes");
      await until(() => obs.got.filter((m) => m.topic.endsWith("/telemetry")).length >= 10, 5000, "ten readings at the observer");
      assert.deepEqual(obs.got[0], { topic: `wisp/app-${kind}/status`, payload: "online", retain: false });
      const seqs = obs.got.filter((m) => m.topic === `wisp/app-${kind}/telemetry`).map((m) => JSON.parse(m.payload).seq);
      assert.deepEqual(seqs.slice(0, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      board.stop();
      await obs.close();
      await ("close" in broker ? broker.close() : broker.stop());
    }
  });
}

test("built app: 24 simulated hours in well under a minute, energy matching the board JSON by hand", { timeout: 90_000 }, async () => {
  const broker = await startAedes();
  const obs = await observe(broker.url, "wisp/#");
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: artifactPath("espruino", "app"),
    storageDir: tmpDir(),
    clock: "virtual",
    seed: 11,
    settings: { brokerPort: broker.port, clientId: "day", intervalSeconds: 300, keepAliveSeconds: 120, qos: 1 },
  });
  try {
    const t0 = Date.now();
    await withTimeout(board.runFor(24 * 3_600_000), 60_000, "24 virtual hours");
    const realMs = Date.now() - t0;
    assert.ok(realMs < 60_000, `24 h took ${realMs} ms of real time`);
    await until(() => obs.got.filter((m) => m.topic === "wisp/day/telemetry").length >= 288, 5000, "a day of readings");

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
    board.stop();
    await obs.close();
    await broker.close();
  }
});
