/**
 * The built app (dist/espruino/app.js) on the real interpreter through the
 * espruino engine, against aedes: stay mode publishes reading after reading;
 * sleep mode wakes by timer, publishes, says `sleeping` and sleeps, and the broker
 * never fires the will (`offline`) for a planned sleep.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startEspruinoBoard } from "../../host-tools/espruino/board.ts";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { assertNoUncaught, observe, until } from "./engine-harness.ts";

const skip = skipUnlessEspruino();
const APP = path.join(REPO_ROOT, "dist", "espruino", "app.js");

test("stay mode: several readings in order, birth retained, memory in blocks from the interpreter", { skip }, async (t) => {
  const broker = await startAedes();
  const obs = await observe(broker.url, "wisp/#");
  const board = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "stay-1", mode: "stay", intervalSeconds: 1, keepAliveSeconds: 10, qos: 1 },
    wifi: { connectMs: 200 },
  });
  try {
    const boot = await board.memory("after boot");
    const tele = () => obs.seen.filter((m) => m.topic === "wisp/stay-1/telemetry");
    await until(() => tele().length >= 4, 30000, "four readings", () => board.consoleTail());
    const conn = await board.memory("after connect");
    const seqs = tele().map((m) => JSON.parse(m.payload).seq);
    assert.deepEqual(seqs.slice(0, 4), [1, 2, 3, 4]);
    assert.ok(tele().every((m) => m.qos === 1 && !m.retain));
    const status = obs.seen.filter((m) => m.topic === "wisp/stay-1/status").map((m) => m.payload);
    assert.deepEqual(status, ["online"]);
    assert.equal(board.bootCount, 1);
    // counted by the interpreter (not estimated): the app holds thousands of blocks, within the pool
    assert.ok(boot.app > 500 && boot.app < 16383, `after boot: ${JSON.stringify(boot)}`);
    assert.ok(conn.app >= boot.app - 200 && conn.usage < conn.total, `after connect: ${JSON.stringify(conn)}`);
    t.diagnostic(`app blocks after boot ${boot.app}, after connect ${conn.app} (shim+interpreter ${boot.shim})`);
    assertNoUncaught(t, board.uncaught());
  } finally {
    await board.stop();
    await obs.close();
    await broker.close();
  }
});

test("sleep mode: three wake cycles, retained status `sleeping` after each sleep and never `offline`", { skip }, async (t) => {
  const broker = await startAedes();
  const obs = await observe(broker.url, "wisp/#");
  const board = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "sleepy-1", mode: "sleep", intervalSeconds: 1, keepAliveSeconds: 10, qos: 1 },
    wifi: { connectMs: 200 },
  });
  const statusAtSleep: string[] = [];
  const status = () => obs.seen.filter((m) => m.topic === "wisp/sleepy-1/status").map((m) => m.payload);
  board.on("event", (e) => {
    // what the broker holds a moment into each sleep (the will would arrive right at the cut)
    if (e.type === "sleep") setTimeout(() => statusAtSleep.push(status().at(-1) ?? "(none)"), 400);
  });
  try {
    await until(() => board.events.filter((e) => e.type === "wake").length >= 3 && statusAtSleep.length >= 3, 60000, "three wake cycles",
      () => `status ${status().join(",")}\n${board.consoleTail()}`);
    const tele = obs.seen.filter((m) => m.topic === "wisp/sleepy-1/telemetry").map((m) => JSON.parse(m.payload).seq);
    assert.deepEqual(tele.slice(0, 3), [1, 2, 3], "one reading per wake, numbered across sleeps (Storage kept)");
    assert.ok(board.consoleLines().some((l) => /^boot timer/.test(l)), "the app saw a timer wake");
    assert.equal(status().includes("offline"), false, `status sequence: ${status().join(", ")}`);
    assert.deepEqual(statusAtSleep.slice(0, 3), ["sleeping", "sleeping", "sleeping"]);
    assertNoUncaught(t, board.uncaught());
  } finally {
    await board.stop();
    await obs.close();
    await broker.close();
  }
});
