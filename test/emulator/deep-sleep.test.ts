import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { EmulatedBoard, startBoard, WAKE_TIMER, WAKE_UNDEFINED } from "../../host-tools/emulator/emulator.ts";
import { parseEspruinoJSON } from "../../host-tools/emulator/espruino-api.ts";
import { TELEMETRY_APP, tmpDir, withTimeout } from "./fixtures/util.ts";

test("deep sleep: RAM is lost, Storage survives, the wake cause is reported", { timeout: 60_000 }, async () => {
  const broker = await startAedes();
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const payloads: any[] = [];
  client.on("message", (_t, p) => payloads.push(JSON.parse(p.toString())));
  await client.subscribeAsync("#");
  const dir = tmpDir();
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: TELEMETRY_APP,
    storageDir: dir,
    clock: "virtual",
    settings: { brokerPort: broker.port, clientId: "sleepy", intervalSeconds: 600, mode: "sleep" },
  });
  try {
    await withTimeout(board.runUntil(() => board.bootCount >= 4, 3 * 3_600_000, "four boots"), 30_000, "deep sleep cycles");
    await withTimeout(
      (async () => {
        while (payloads.length < 3) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "three payloads",
    );
    const boots = board.events.filter((e) => e.type === "console" && e.text.startsWith("boot ")).map((e) => (e as { text: string }).text);
    assert.deepEqual(boots.slice(0, 4), [
      `boot 1 wake ${WAKE_UNDEFINED} ram fresh`, // power-on
      `boot 2 wake ${WAKE_TIMER} ram fresh`, // woken by the deep-sleep timer, RAM gone
      `boot 3 wake ${WAKE_TIMER} ram fresh`,
      `boot 4 wake ${WAKE_TIMER} ram fresh`,
    ]);
    // the boot counter and the message counter live in Storage: they kept counting
    assert.deepEqual(payloads.slice(0, 3).map((p) => [p.boot, p.n]), [[1, 1], [2, 2], [3, 3]]);
    const sleeps = board.events.filter((e) => e.type === "sleep");
    assert.ok(sleeps.length >= 3);
    assert.ok(sleeps.every((e) => (e as { ms: number }).ms === 600_000));
    const r = board.energy();
    assert.ok(r.timeMs.deepSleep >= 3 * 600_000, "deep sleep time is metered");
    // the flash file is on disk and a new emulator instance sees it
    const file = path.join(dir, "esp32-lipo-sensor.storage.json");
    assert.ok(fs.existsSync(file));
    board.stop();
    const again = new EmulatedBoard({ board: "esp32-lipo-sensor", storageDir: dir, clock: "virtual", boot: false });
    // written by Storage.writeJSON: Espruino's JSON dialect (unquoted keys), as on a board
    const state = parseEspruinoJSON(again.storage.get("state.json")!) as { boots: number };
    assert.ok(state.boots >= 4);
    again.stop();
  } finally {
    board.stop();
    await client.endAsync();
    await broker.close();
  }
});

test("deepSleep ends the program run at once: code after it, timers and sockets are gone", { timeout: 10_000 }, async () => {
  const board = startBoard({
    storageFile: null,
    clock: "virtual",
    appCode: `
      var S = require("Storage");
      if (ESP32.getWakeupCause() === 0) {
        setTimeout(function () { S.write("late", "timer ran"); }, 2000);
        S.write("before", "yes");
        ESP32.deepSleep(5000000);
        S.write("after", "should not happen");
      } else {
        S.write("woke", String(ESP32.getWakeupCause()));
      }`,
  });
  await board.runFor(10_000);
  assert.equal(board.storage.get("before"), "yes");
  assert.equal(board.storage.get("after"), undefined);
  assert.equal(board.storage.get("late"), undefined, "timers of the slept run never fire");
  assert.equal(board.storage.get("woke"), String(WAKE_TIMER));
  const boot2 = board.events.find((e) => e.type === "boot" && e.boot === 2)!;
  assert.equal(boot2.t - board.startedAt, 5000, "woke after exactly the sleep time");
  board.stop();
});

test("ESP32.deepSleep takes a 32-bit int of microseconds, as the port: 5000 s wraps to 705 s, 3600 s never wakes", { timeout: 10_000 }, async () => {
  const run = async (us: number) => {
    const board = startBoard({
      storageFile: null,
      clock: "virtual",
      appCode: `if (ESP32.getWakeupCause() === 0) ESP32.deepSleep(${us}); else require("Storage").write("woke", "" + Math.round(getTime()));`,
    });
    try {
      await board.runFor(6 * 3_600_000);
      const sleep = board.events.find((e) => e.type === "sleep") as { t: number } | undefined;
      const wake = board.events.find((e) => e.type === "wake") as { t: number } | undefined;
      return { woke: board.storage.get("woke"), boots: board.bootCount, sleptMs: sleep && wake ? wake.t - sleep.t : -1 };
    } finally {
      board.stop();
    }
  };
  const wrapped = await run(5000e6); // 5e9 mod 2^32 = 705,032,704 us
  assert.equal(wrapped.boots, 2);
  assert.ok(Math.abs(wrapped.sleptMs - 705_032.704) < 1, `slept ${wrapped.sleptMs} ms`);
  assert.notEqual(wrapped.woke, undefined);
  const never = await run(3600e6); // negative as an int: a timer of 2^64 - 694,967,296 us
  assert.equal(never.boots, 1, "the board never wakes");
  assert.equal(never.woke, undefined);
});
