/**
 * A day of readings on the real interpreter: the built app (dist/espruino/app.js) through
 * the espruino engine against aedes, stay mode, a QoS 1 reading every 60 s. The
 * interpreter has no virtual clock; on the Linux build `setTime(getTime()-60)` makes every
 * pending timer run 60 s sooner while getTime() keeps real time (docs/espruino.md), so 1,440
 * readings take seconds. A leak of even one block per reading would show as 1,440 blocks.
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
const DAY = 1440;

test("a day of readings (1,440 at 60 s): every one delivered in order over one session, and the app's blocks do not grow", { skip, timeout: 300_000 }, async (t) => {
  const broker = await startAedes();
  let sessions = 0;
  broker.aedes.on("client", (c: { id: string }) => {
    if (c.id === "day-1") sessions++;
  });
  const obs = await observe(broker.url, "wisp/day-1/telemetry");
  const board = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "day-1", mode: "stay", intervalSeconds: 60, keepAliveSeconds: 300, qos: 1 },
    wifi: { connectMs: 100 },
  });
  try {
    await until(() => obs.seen.length >= 1, 30000, "the first reading", () => board.consoleTail());
    const first = await board.memory("after the first reading");
    while (obs.seen.length < DAY) {
      const seen = obs.seen.length;
      await board.eval("setTime(getTime()-60),1");
      const end = Date.now() + 10000;
      while (obs.seen.length === seen) {
        if (Date.now() > end) assert.fail(`reading ${seen + 1} did not come within 10 s of advancing the timers\n${board.consoleTail()}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const day = await board.memory("after a day");
    const seqs = obs.seen.map((m) => JSON.parse(m.payload).seq);
    assert.deepEqual(seqs.slice(0, DAY), Array.from({ length: DAY }, (_, i) => i + 1), "every reading once, in order");
    assert.equal(sessions, 1, "the board connected once: no reconnect over the day");
    assert.ok(day.app - first.app <= 20, `blocks after the first reading ${first.app}, after ${DAY} readings ${day.app}`);
    t.diagnostic(`app blocks after the first reading ${first.app}, after ${DAY} readings ${day.app}`);
    assertNoUncaught(t, board.uncaught());
  } finally {
    await board.stop();
    await obs.close();
    await broker.close();
  }
});
