/**
 * The built app (dist/espruino/app.js) on the emulated board, where the emulator
 * follows the ESP32 port: what a board in the field survives (issue 10). RSSI from
 * getStatus(); Wi-Fi joined again by the firmware after the port gives up; long
 * sleeps split into pieces ESP32.deepSleep accepts, with cheap wakes in between; a
 * refusal retried until the broker accepts, then reported on `<id>/problem`.
 * Virtual clock; aedes in-process; MQTT.js observes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import type { AedesOptions } from "aedes";
import { startBoard, type EmulatedBoard } from "../../host-tools/emulator/emulator.ts";
import { artifactPath } from "../helpers/artifacts.ts";
import { cleanupAll, onCleanup, peer, startAedes } from "./harness.ts";

after(cleanupAll);

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

async function setup(
  settings: Record<string, unknown>,
  wifi: Record<string, unknown> = {},
  broker: AedesOptions = {},
): Promise<{ board: EmulatedBoard; seen: Seen[]; text: () => string }> {
  const b = await startAedes(broker);
  const obs = await peer(b.port);
  const seen: Seen[] = [];
  obs.on("message", (topic, payload, pk) => seen.push({ topic, payload: payload.toString("latin1"), retain: pk.retain }));
  await obs.subscribeAsync("wisp/#", { qos: 1 });
  let text = "";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-field-"));
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: artifactPath("espruino", "app"),
    storageDir: dir,
    clock: "virtual",
    seed: 5,
    settings: { brokerPort: b.port, clientId: "f1", keepAliveSeconds: 30, intervalSeconds: 10, qos: 1, mode: "stay", ...settings },
    wifi,
    console: (t) => (text += t),
  });
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  onCleanup(() => board.stop());
  return { board, seen, text: () => text };
}

const telemetry = (seen: Seen[]) => seen.filter((m) => m.topic === "wisp/f1/telemetry").map((m) => JSON.parse(m.payload));
const status = (seen: Seen[]) => seen.filter((m) => m.topic === "wisp/f1/status").map((m) => m.payload);

test("RSSI in telemetry comes from Wifi.getStatus() (getDetails has none on ESP32)", { timeout: 30000 }, async () => {
  const { board, seen } = await setup({}, { rssi: -71, rssiNoiseDb: 0 });
  await board.runUntil(() => telemetry(seen).length >= 4, 120000, "four readings");
  // The first reading may be taken before the join (0: no link); every later one has the signal.
  assert.deepEqual(telemetry(seen).slice(1, 4).map((r) => r.rssi), [-71, -71, -71]);
});

test("Wi-Fi: after an access-point restart the port gives up; the firmware joins again and nothing is lost", { timeout: 60000 }, async () => {
  // The AP is away for 5 minutes: far longer than the port's own two quick retries.
  // One reading every 2 minutes: the offline queue (8) holds what is taken while away.
  const { board, seen, text } = await setup({ intervalSeconds: 120 }, { dropouts: [{ atMs: 300_000, durationMs: 300_000 }] });
  await board.runUntil(() => status(seen).filter((s) => s === "online").length >= 2, 2_400_000, "birth after the AP is back");
  await board.runUntil(() => telemetry(seen).length >= 12, 1_800_000, "readings after the outage");
  assert.match(text(), /wifi failed: no_ap_found/, "the port's give-up is seen");
  assert.match(text(), /wifi: join again in \d+ ms/);
  assert.ok(status(seen).includes("offline"), "the broker fired the will while the board was away");
  const seqs = telemetry(seen).map((r) => r.seq);
  for (let i = 0; i < 12; i++) assert.equal(seqs[i], i + 1, `every reading taken during the outage arrives, in order: ${seqs}`);
});

test("long sleep (3600 s): pieces ESP32.deepSleep accepts; the wake in between starts no Wi-Fi, no app, writes no Storage", { timeout: 60000 }, async () => {
  const { board, seen } = await setup({ mode: "sleep", intervalSeconds: 3600 });
  const writes: { boot: number; name: string }[] = [];
  const w = board.storage.write.bind(board.storage);
  board.storage.write = ((name: unknown, data: string, offset?: number, size?: number) => {
    writes.push({ boot: board.bootCount, name: String(name) });
    return w(name, data, offset, size);
  }) as typeof board.storage.write;
  await board.runUntil(() => telemetry(seen).length >= 3, 4 * 3_600_000, "three readings");
  const sleeps = board.events.filter((e) => e.type === "sleep").map((e) => (e as { ms: number }).ms);
  assert.equal(sleeps[0], 2_000_000, `first piece: ${sleeps}`);
  assert.equal(sleeps[2], 2_000_000, `first piece: ${sleeps}`);
  for (const i of [1, 3]) assert.ok(Math.abs(sleeps[i] - 1_600_000) < 5_000, `second piece is what is left: ${sleeps}`);
  const boots = board.events.filter((e) => e.type === "boot").map((e) => e.t);
  const readings = seen.filter((m) => m.topic === "wisp/f1/telemetry");
  assert.equal(readings.length >= 3, true);
  // Readings an hour apart, not every 2000 s (nor never, as a wrapped 32-bit count would do).
  const gap = boots[2] - boots[0];
  assert.ok(gap > 3_590_000 && gap < 3_700_000, `app runs ${gap} ms apart`);
  // The wake in between: boot 2. No Storage write, no Wi-Fi join.
  assert.deepEqual(writes.filter((x) => x.boot === 2), []);
  const t2 = boots[1];
  const t3 = boots[2];
  assert.ok(!board.events.some((e) => e.type === "wifi" && e.t > t2 && e.t < t3), "no Wi-Fi at the wake in between");
  assert.ok(!status(seen).includes("offline"));
});

test("a broker that refuses the credentials for a while: retried with back-off, then connects and says why it was quiet", { timeout: 60000 }, async () => {
  let refusals = 3;
  // Refused three times: the longer back-off (30..60 s, then doubling) spans minutes; one reading every 2 minutes fits the offline queue.
  const { board, seen, text } = await setup(
    { intervalSeconds: 120 },
    {},
    {
      authenticate: (c, _u, _p, done) => {
        if (c.id === "f1" && refusals > 0) {
          refusals--;
          done(Object.assign(new Error("no"), { returnCode: 4 }) as any, null);
        } else done(null, true);
      },
    },
  );
  await board.runUntil(() => seen.some((m) => m.topic === "wisp/f1/problem"), 3_600_000, "problem report").catch((e) => {
    throw new Error(e.message + "\n" + text().slice(-3000));
  });
  assert.equal(refusals, 0);
  assert.deepEqual(seen.filter((m) => m.topic === "wisp/f1/problem").map((m) => m.payload), ["bad user name or password"]);
  assert.match(text(), /broker refused: bad user name or password/);
  await board.runUntil(() => telemetry(seen).length >= 3, 600_000, "readings");
  assert.equal(telemetry(seen)[0].seq, 1, "readings taken while refused were queued, not lost");
});
