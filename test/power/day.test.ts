/**
 * 24 h on the virtual clock, same workload (a QoS 1 reading every 5 min) at 20 %
 * battery: the battery-aware policy against a fixed 60 s keep-alive that stays
 * connected. The policy must use at least 30 % less energy and lose no reading.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareDay, runDay } from "./day-run.ts";

test("24 h at 20 %: battery-aware policy uses >= 30 % less energy than fixed 60 s keep-alive, no QoS 1 telemetry lost", { timeout: 80_000 }, async () => {
  const { baseline, policy } = await compareDay(300);
  const b = baseline.energy;
  const p = policy.energy;
  console.log(`# baseline ${b.mAhPerDay.toFixed(2)} mAh/day, ${baseline.delivered} delivered; policy ${p.mAhPerDay.toFixed(2)} mAh/day, ${policy.delivered} delivered`);
  assert.ok(b.elapsedMs >= 24 * 3600_000 && p.elapsedMs >= 24 * 3600_000, "both ran a full day");
  assert.ok(p.mAh <= 0.7 * b.mAh, `policy ${p.mAh.toFixed(2)} mAh vs baseline ${b.mAh.toFixed(2)} mAh`);
  for (const r of [baseline, policy]) {
    assert.ok(r.produced >= 287, `${r.name}: ${r.produced} readings in 24 h at 5 min`);
    assert.deepEqual(r.missing, [], `${r.name}: nothing lost`);
    assert.ok(!r.statuses.includes("offline"), `${r.name}: no will (every disconnect was clean)`);
  }
  // Power cut at the end: the connected baseline's will fires; the sleeping board's does not.
  assert.deepEqual(baseline.afterPowerCut, ["offline"]);
  assert.deepEqual(policy.afterPowerCut, []);
  // The policy chose deep sleep at 20 % and said why, on every wake.
  assert.ok(policy.policyLines.length >= 287);
  assert.ok(policy.policyLines.every((l) => l.includes("mode=sleep") && l.includes("band=low")), policy.policyLines[0]);
  assert.ok(p.timeMs.deepSleep > 0.9 * p.elapsedMs, "mostly in deep sleep");
  assert.equal(b.timeMs.deepSleep, 0);
});

test("auto mode at 100 %: stays connected; a Wi-Fi loss fires the will, the reconnect births again, nothing lost", { timeout: 30_000 }, async () => {
  const r = await runDay({
    name: "auto 100 %",
    settings: { mode: "auto", intervalSeconds: 60 },
    batteryPercent: 100,
    durationMs: 15 * 60_000,
    wifi: { dropouts: [{ atMs: 200_000, durationMs: 60_000 }] },
  });
  assert.ok(r.policyLines[0].includes("mode=stay") && r.policyLines[0].includes("band=high"), r.policyLines[0]);
  assert.deepEqual(r.statuses.slice(0, 3), ["online", "offline", "online"], "will on Wi-Fi loss, without DISCONNECT");
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.afterPowerCut, ["offline"], "will on power loss");
});

test("auto mode at 20 %: planned deep sleeps send DISCONNECT, so the will never fires", { timeout: 30_000 }, async () => {
  const r = await runDay({ name: "auto 20 %", settings: { mode: "auto", intervalSeconds: 120 }, batteryPercent: 20, durationMs: 20 * 60_000 });
  assert.ok(r.statuses.length >= 18);
  assert.ok(r.statuses.every((s) => s === "online" || s === "sleeping"), r.statuses.join(","));
  assert.deepEqual(r.afterPowerCut, []);
  assert.deepEqual(r.missing, []);
});
