/**
 * The app in mode "auto" reacting to the policy while it runs (emulated board,
 * virtual clock, aedes, MQTT.js observer): a battery falling out of the high band
 * moves a connected board to deep sleep with a clean DISCONNECT (no will, no reading
 * lost); the end of charging lengthens the keep-alive through a clean reconnect,
 * because the ping saving outweighs the reconnect cost.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { bootApp } from "../helpers/boot-app.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

after(cleanupAll);

async function setup(battery: { percent?: number; volts?: number }) {
  const app = await bootApp({ seed: 5, settings: { clientId: "p1", intervalSeconds: 60, qos: 1, mode: "auto" }, battery });
  const status: string[] = [];
  const seqs: number[] = [];
  app.observer.on("message", (topic, payload) => {
    if (topic.endsWith("/status")) status.push(payload.toString());
    if (topic.endsWith("/telemetry")) seqs.push(JSON.parse(payload.toString()).seq);
  });
  const policy = () => app.consoleText().split(/\r?\n/).filter((l) => l.startsWith("policy "));
  return { board: app.board, status, seqs, policy, log: app.consoleText };
}

test("battery falls below the high band: the connected board switches to deep sleep cleanly", { timeout: 30_000 }, async () => {
  const { board, status, seqs, policy } = await setup({ percent: 52 });
  await board.runUntil(() => seqs.length >= 3, 300_000, "three readings connected");
  assert.ok(policy()[0].includes("mode=stay") && policy()[0].includes("band=high"), policy()[0]);
  board.battery!.setPercent(45);
  await board.runUntil(() => status.includes("sleeping"), 300_000, "sleeping");
  await board.runUntil(() => board.energy().timeMs.deepSleep > 0 && seqs.length >= 7, 900_000, "readings from deep-sleep wakes");
  const switchLine = policy().find((l) => l.includes("mode=sleep"));
  assert.ok(switchLine && switchLine.includes("band=mid") && switchLine.includes("no downlink"), switchLine);
  assert.ok(!status.includes("offline"), `no will: ${status.join(",")}`);
  const max = Math.max(...seqs);
  for (let s = 1; s < max; s++) assert.ok(seqs.includes(s), `reading ${s} delivered`);
  // Back up to 52 %: still mid (hysteresis: high again only at 55 %), so it keeps sleeping.
  board.battery!.setPercent(52);
  const n = policy().length;
  await board.runUntil(() => policy().length >= n + 2, 900_000, "two more wakes");
  assert.ok(policy().slice(n).every((l) => l.includes("mode=sleep") && l.includes("band=mid")), policy().slice(n).join("\n"));
});

test("charging ends: keep-alive 60 -> 270 s through a clean reconnect (saving 233 > cost 150 mA·s)", { timeout: 30_000 }, async () => {
  const { board, status, seqs, policy, log } = await setup({ volts: 4.25 });
  await board.runUntil(() => seqs.length >= 2, 300_000, "two readings while charging");
  assert.ok(policy()[0].includes("mode=stay ka=60") && policy()[0].includes("charging"), policy()[0]);
  board.battery!.setPercent(90);
  await board.runUntil(() => status.filter((s) => s === "online").length >= 2, 300_000, "second birth after the reconnect");
  const line = policy().find((l) => l.includes("reconnect"));
  assert.ok(line && line.includes("ka=270") && line.includes("saves 233"), line);
  assert.ok(!status.includes("offline"), "a clean DISCONNECT: no will");
  await board.runUntil(() => seqs.length >= 5, 300_000, "readings after the reconnect");
  const max = Math.max(...seqs);
  for (let s = 1; s < max; s++) assert.ok(seqs.includes(s), `reading ${s} delivered`);
  assert.ok(log().includes("mqtt connected"), "reconnected");
});
