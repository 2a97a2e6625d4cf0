/**
 * The telemetry app (dist/espruino/app.js) on the emulated board: Espruino platform
 * glue, settings from Storage wisp.json, birth/will, hand-built JSON telemetry at
 * QoS 1, the offline queue across a Wi-Fi drop-out, and the deep-sleep mode.
 * Virtual clock; aedes in-process; MQTT.js observes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { bootApp, type Seen } from "../helpers/boot-app.ts";
import { cleanupAll, peer } from "./harness.ts";

after(cleanupAll);

async function setup(settings: Record<string, unknown>, wifi: Record<string, unknown> = {}) {
  return bootApp({ seed: 3, settings: { clientId: "t1", keepAliveSeconds: 30, intervalSeconds: 10, qos: 1, ...settings }, wifi });
}

const telemetry = (seen: Seen[]) => seen.filter((m) => m.topic === "wisp/t1/telemetry");
const status = (seen: Seen[]) => seen.filter((m) => m.topic === "wisp/t1/status").map((m) => m.payload);

test("stay mode: birth retained, then JSON telemetry at QoS 1 with a running sequence; no buffers after boot", { timeout: 30000 }, async () => {
  const { board, seen, consoleText, port } = await setup({ mode: "stay" });
  await board.runUntil(() => telemetry(seen).length >= 2, 60000, "two readings");
  const afterBoot = board.bufferCount();
  await board.runUntil(() => telemetry(seen).length >= 8, 120000, "eight readings");
  assert.equal(board.bufferCount(), afterBoot, "no buffer constructed by publishing");
  assert.equal(seen[0].topic, "wisp/t1/status");
  assert.equal(seen[0].payload, "online");
  // Retained: a subscriber arriving later still gets "online".
  const late = await peer(port);
  const retained: string[] = [];
  late.on("message", (_t, payload, pk) => pk.retain && retained.push(payload.toString()));
  await late.subscribeAsync("wisp/t1/status", { qos: 1 });
  // The board plays no part here (broker to late subscriber), so wait in real time:
  // virtual board time would race ahead while the broker is still answering.
  const deadline = Date.now() + 5000;
  while (retained.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(retained, ["online"]);
  const t = telemetry(seen);
  const readings = t.map((m) => JSON.parse(m.payload));
  readings.forEach((r, i) => {
    assert.deepEqual(Object.keys(r), ["seq", "v", "rssi", "up", "mem"]);
    assert.equal(r.seq, i + 1);
    assert.ok(r.v > 3 && r.v <= 4.3, `battery ${r.v}`);
    assert.ok(r.mem > 0);
  });
  assert.ok(readings[7].up > readings[1].up);
  assert.ok(t.every((m) => m.qos === 1 && !m.retain));
  const log = consoleText();
  for (const line of ["wifi up", "mqtt connected session=0", "publish seq=3"]) assert.ok(log.includes(line), `console has "${line}"`);
});

test("Wi-Fi drop-out: will 'offline' published by the broker, readings queued and delivered in order, birth again", { timeout: 30000 }, async () => {
  const { board, seen } = await setup({ mode: "stay" }, { dropouts: [{ atMs: 25_000, durationMs: 32_000 }] });
  await board.runUntil(() => status(seen).filter((s) => s === "online").length >= 2, 120000, "second birth");
  await board.runUntil(() => telemetry(seen).length >= 8, 120000, "eight readings");
  assert.deepEqual(status(seen).slice(0, 3), ["online", "offline", "online"]);
  const seqs = telemetry(seen).map((m) => JSON.parse(m.payload).seq);
  assert.deepEqual(seqs.slice(0, 8), [1, 2, 3, 4, 5, 6, 7, 8], "nothing lost, nothing reordered");
});

test("sleep mode: one reading per wake, 'sleeping' status, sequence kept across deep sleep", { timeout: 30000 }, async () => {
  const { board, seen, consoleText } = await setup({ mode: "sleep", intervalSeconds: 60 });
  await board.runUntil(() => telemetry(seen).length >= 3, 600000, "three wakes");
  await board.runUntil(() => status(seen).filter((s) => s === "sleeping").length >= 3, 60000, "third sleeping");
  const seqs = telemetry(seen).map((m) => JSON.parse(m.payload).seq);
  assert.deepEqual(seqs.slice(0, 3), [1, 2, 3]);
  assert.deepEqual(status(seen).slice(0, 6), ["online", "sleeping", "online", "sleeping", "online", "sleeping"]);
  assert.ok(!status(seen).includes("offline"), "a clean DISCONNECT: no will");
  assert.ok(consoleText().includes("boot timer"));
  assert.ok(board.energy().timeMs.deepSleep > 100000);
});

test("command topic: interval=N is validated, bad commands are rejected, a good one changes the interval", { timeout: 30000 }, async () => {
  const { board, seen, consoleText, port } = await setup({ mode: "stay", intervalSeconds: 10 });
  await board.runUntil(() => telemetry(seen).length >= 2, 60000, "two readings");
  const cmd = await peer(port);
  const waitConsole = async (text: string) => {
    // The broker delivers in real time while board time stands still.
    const deadline = Date.now() + 5000;
    while (!consoleText().includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(consoleText().includes(text), `console shows "${text}"`);
  };
  await cmd.publishAsync("wisp/t1/cmd", "interval=5", { qos: 1 });
  await waitConsole("command rejected: expected interval=N with N in 10..86400 s");
  await cmd.publishAsync("wisp/t1/cmd", "reboot please", { qos: 1 });
  const rejected = () => consoleText().split("command rejected").length - 1;
  const deadline = Date.now() + 5000;
  while (rejected() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rejected(), 2, "both bad commands rejected");
  await cmd.publishAsync("wisp/t1/cmd", "interval=40", { qos: 1 });
  await waitConsole("command interval=40");
  const before = telemetry(seen).length;
  await board.runUntil(() => telemetry(seen).length >= before + 3, 300000, "three more readings");
  const ups = telemetry(seen).map((m) => JSON.parse(m.payload).up as number);
  const n = ups.length;
  assert.equal(ups[n - 1] - ups[n - 2], 40, `readings 40 s apart after the command: ${ups.join(",")}`);
});
