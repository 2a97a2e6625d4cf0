/**
 * KeepAlivePolicy on the compiled artifacts (dist/espruino/power.js in the Espruino
 * sandbox, dist/lua/power.lua in Lua 5.3): one table of cases, each a sequence of
 * inputs fed to one policy (so hysteresis is exercised), run on both targets.
 * Edges: battery 0 and 100, charging, RSSI -90, broker/NAT/min/max keep-alive limits.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadEspruinoBundle, runLua } from "../helpers/artifacts.ts";
import { skipUnless } from "../helpers/system-deps.ts";

interface In {
  pct: number;
  charging?: boolean;
  rssi?: number;
  downlinkAgo?: number;
  currentKa?: number;
}
interface Out {
  mode?: "stay" | "sleep";
  ka?: number;
  interval?: number;
  reconnect?: boolean;
  band?: string;
  weak?: boolean;
  reason?: string; // substring
}
interface Case {
  name: string;
  cfg?: Record<string, number>;
  steps: [In, Out][];
}

// Defaults: interval 60 s, bands 50/30/10 % (+5 % up), NAT 300 s - 30 s margin -> limit 270 s,
// weak at <= -85 dBm (clears at -80), reconnect 150 mAs (x2 weak), ping 5 mAs, horizon 3600 s.
const CASES: Case[] = [
  { name: "battery 100: stay, keep-alive at the NAT limit", steps: [[{ pct: 100, rssi: -60 }, { mode: "stay", ka: 270, interval: 60, reconnect: false, band: "high", weak: false, reason: "battery high" }]] },
  { name: "battery 0: deep sleep at the longest interval", steps: [[{ pct: 0, rssi: -60 }, { mode: "sleep", ka: 30, interval: 3600, band: "empty", reason: "battery empty" }]] },
  { name: "battery 20: deep sleep at the workload interval", steps: [[{ pct: 20, rssi: -60 }, { mode: "sleep", ka: 30, interval: 60, band: "low" }]] },
  { name: "no battery reading (board without ADC): stay at the NAT limit, band unknown", steps: [[{ pct: -1, rssi: -60 }, { mode: "stay", ka: 270, interval: 60, band: "unknown", reason: "no battery reading" }], [{ pct: -1, rssi: -60, currentKa: 270 }, { mode: "stay", ka: 270, reconnect: false, band: "unknown" }]] },
  { name: "battery 5: critical, interval stretched", steps: [[{ pct: 5 }, { mode: "sleep", interval: 240, band: "critical" }]] },
  { name: "critical stretch capped by maxIntervalSeconds", cfg: { maxIntervalSeconds: 200 }, steps: [[{ pct: 5 }, { interval: 200 }], [{ pct: 0 }, { interval: 200, band: "empty" }]] },
  { name: "charging at 5 %: stay, short keep-alive, normal interval", steps: [[{ pct: 5, charging: true, rssi: -60 }, { mode: "stay", ka: 60, interval: 60, reason: "charging" }]] },
  { name: "charging at 0 %: stay", steps: [[{ pct: 0, charging: true }, { mode: "stay", ka: 60, interval: 60 }]] },
  { name: "charging at 100 %", steps: [[{ pct: 100, charging: true }, { mode: "stay", ka: 60, band: "high" }]] },
  {
    name: "mid band: stay only while downlink is recent",
    steps: [
      [{ pct: 40 }, { mode: "sleep", band: "mid", reason: "no downlink" }],
      [{ pct: 40, downlinkAgo: 30 }, { mode: "stay", ka: 270, reason: "downlink active" }],
      [{ pct: 40, downlinkAgo: 600 }, { mode: "stay" }],
      [{ pct: 40, downlinkAgo: 601 }, { mode: "sleep" }],
      [{ pct: 20, downlinkAgo: 5 }, { mode: "sleep", band: "low" }],
    ],
  },
  { name: "RSSI -90 at 20 %: weak, still sleeps at 60 s", steps: [[{ pct: 20, rssi: -90 }, { mode: "sleep", weak: true, reason: "weak signal" }]] },
  {
    name: "RSSI -90 with a 10 s interval: a weak reconnect (300 mAs) costs more than 10 s connected (250 mAs)",
    cfg: { intervalSeconds: 10 },
    steps: [[{ pct: 20, rssi: -90 }, { mode: "stay", weak: true, reason: "reconnect costs more" }]],
  },
  { name: "RSSI -60 with a 10 s interval: sleep pays (250 > 150 mAs)", cfg: { intervalSeconds: 10 }, steps: [[{ pct: 20, rssi: -60 }, { mode: "sleep", weak: false }]] },
  {
    name: "RSSI hysteresis: weak at -85, still weak at -82, clear at -80; unknown (0) keeps the flag",
    steps: [
      [{ pct: 100, rssi: -84 }, { weak: false }],
      [{ pct: 100, rssi: -85 }, { weak: true }],
      [{ pct: 100, rssi: -82 }, { weak: true }],
      [{ pct: 100, rssi: 0 }, { weak: true }],
      [{ pct: 100, rssi: -80 }, { weak: false }],
    ],
  },
  {
    name: "battery hysteresis: drop at once, rise 5 % above the threshold",
    steps: [
      [{ pct: 55 }, { band: "high", mode: "stay" }],
      [{ pct: 49.9 }, { band: "mid", mode: "sleep" }],
      [{ pct: 52 }, { band: "mid" }],
      [{ pct: 54.9 }, { band: "mid" }],
      [{ pct: 55 }, { band: "high", mode: "stay" }],
      [{ pct: 29 }, { band: "low" }],
      [{ pct: 34 }, { band: "low" }],
      [{ pct: 60 }, { band: "high" }],
      [{ pct: 9 }, { band: "critical" }],
      [{ pct: 0 }, { band: "empty" }],
      [{ pct: 3 }, { band: "critical" }],
    ],
  },
  { name: "broker max keep-alive below the NAT limit", cfg: { brokerMaxKeepAlive: 120 }, steps: [[{ pct: 100 }, { ka: 120 }]] },
  { name: "no NAT, no broker limit: maxKeepAlive", cfg: { natIdleSeconds: 0 }, steps: [[{ pct: 100 }, { ka: 1200 }]] },
  { name: "maxKeepAlive 65535 without other limits", cfg: { natIdleSeconds: 0, maxKeepAlive: 65535 }, steps: [[{ pct: 100 }, { ka: 65535 }]] },
  { name: "NAT timeout below the margin: minKeepAlive", cfg: { natIdleSeconds: 20 }, steps: [[{ pct: 100 }, { ka: 10 }], [{ pct: 100, charging: true }, { ka: 10 }], [{ pct: 10 }, { mode: "sleep", ka: 10 }]] },
  {
    name: "reconnect only when the keep-alive saving outweighs the cost",
    steps: [
      // 3600 * 5 * (1/60 - 1/270) = 233 mAs > 150
      [{ pct: 100, rssi: -60, currentKa: 60 }, { ka: 270, reconnect: true, reason: "saves 233" }],
      // 3600 * 5 * (1/200 - 1/270) = 23 < 150
      [{ pct: 100, rssi: -60, currentKa: 200 }, { reconnect: false, reason: "at next connect" }],
      [{ pct: 100, rssi: -60, currentKa: 270 }, { reconnect: false }],
      // above the limit (NAT would drop the link): always
      [{ pct: 100, rssi: -60, currentKa: 600 }, { reconnect: true, reason: "above the limit" }],
      // weak: 233 < 300
      [{ pct: 100, rssi: -90, currentKa: 60 }, { reconnect: false, weak: true }],
      // charging shortens the keep-alive: no saving, no reconnect
      [{ pct: 100, rssi: -60, charging: true, currentKa: 270 }, { ka: 60, reconnect: false }],
      // sleep mode never asks for a reconnect (the sleep disconnects anyway)
      [{ pct: 20, rssi: -60, currentKa: 60 }, { mode: "sleep", reconnect: false }],
    ],
  },
];

type Row = { mode: string; ka: number; interval: number; reconnect: boolean; band: string; weak: boolean; reason: string };

function check(target: string, c: Case, rows: Row[]): void {
  assert.equal(rows.length, c.steps.length, `${target} ${c.name}: row count`);
  c.steps.forEach(([input, want], k) => {
    const got = rows[k];
    const at = `${target} | ${c.name} | step ${k} ${JSON.stringify(input)} -> ${JSON.stringify(got)}`;
    if (want.mode !== undefined) assert.equal(got.mode, want.mode, at);
    if (want.ka !== undefined) assert.equal(got.ka, want.ka, at);
    if (want.interval !== undefined) assert.equal(got.interval, want.interval, at);
    if (want.reconnect !== undefined) assert.equal(got.reconnect, want.reconnect, at);
    if (want.band !== undefined) assert.equal(got.band, want.band, at);
    if (want.weak !== undefined) assert.equal(got.weak, want.weak, at);
    if (want.reason !== undefined) assert.ok(got.reason.includes(want.reason), `${at}: reason should include "${want.reason}"`);
  });
}

function runEspruino(c: Case): Row[] {
  const { exports: w } = loadEspruinoBundle("power");
  const cfg = w.newPowerConfig();
  for (const [k, v] of Object.entries(c.cfg ?? {})) assert.equal(cfg.setField(k, v), "");
  assert.equal(cfg.validate(), "");
  const pol = w.newKeepAlivePolicy(cfg);
  return c.steps.map(([i]) => {
    const inp = w.newPowerInputs();
    inp.batteryPct = i.pct;
    inp.charging = i.charging ?? false;
    inp.rssi = i.rssi ?? 0;
    inp.downlinkAgoSeconds = i.downlinkAgo ?? -1;
    inp.currentKeepAlive = i.currentKa ?? 0;
    const d = pol.decide(inp);
    return { mode: d.mode, ka: d.keepAlive, interval: d.intervalSeconds, reconnect: d.reconnect, band: w.bandName(d.band), weak: d.weak, reason: d.reason };
  });
}

const luaStr = (s: string) => JSON.stringify(s);

function luaScript(cases: Case[]): string {
  const lines = [
    `local w = dofile("dist/lua/power.lua")`,
    `local function n(x) return string.format("%.10g", x) end`,
  ];
  cases.forEach((c, ci) => {
    lines.push(`do local cfg = w.newPowerConfig()`);
    for (const [k, v] of Object.entries(c.cfg ?? {})) lines.push(`assert(cfg:setField(${luaStr(k)}, ${v}) == "")`);
    lines.push(`assert(cfg:validate() == "")`, `local pol = w.newKeepAlivePolicy(cfg)`);
    for (const [i] of c.steps) {
      lines.push(
        `do local inp = w.newPowerInputs(); inp.batteryPct = ${i.pct}; inp.charging = ${i.charging ?? false}; inp.rssi = ${i.rssi ?? 0}; inp.downlinkAgoSeconds = ${i.downlinkAgo ?? -1}; inp.currentKeepAlive = ${i.currentKa ?? 0}`,
        `local d = pol:decide(inp)`,
        `print(table.concat({"${ci}", d.mode, n(d.keepAlive), n(d.intervalSeconds), tostring(d.reconnect), w.bandName(d.band), tostring(d.weak), d.reason}, "\\t")) end`,
      );
    }
    lines.push(`end`);
  });
  return lines.join("\n");
}

test("policy table on the Espruino artifact", () => {
  for (const c of CASES) check("espruino", c, runEspruino(c));
});

test("policy table on the Lua artifact (same results as Espruino)", { skip: skipUnless("lua5.3") }, () => {
  const out = runLua(luaScript(CASES)).trim().split("\n").map((l) => l.split("\t"));
  CASES.forEach((c, ci) => {
    const rows: Row[] = out
      .filter((f) => f[0] === String(ci))
      .map((f) => ({ mode: f[1], ka: Number(f[2]), interval: Number(f[3]), reconnect: f[4] === "true", band: f[5], weak: f[6] === "true", reason: f[7] }));
    check("lua", c, rows);
    const esp = runEspruino(c);
    assert.deepEqual(rows.map((r) => [r.mode, r.ka, r.interval, r.reconnect, r.band, r.weak]), esp.map((r) => [r.mode, r.ka, r.interval, r.reconnect, r.band, r.weak]), `${c.name}: Lua = Espruino`);
  });
});

test("config: unknown names, negative values, bad RSSI and inconsistent thresholds are named errors", () => {
  const { exports: w } = loadEspruinoBundle("power");
  const cfg = w.newPowerConfig();
  assert.equal(cfg.setField("nope", 1), "power.nope is not a known setting");
  assert.equal(cfg.setField("highPct", -1), "power.highPct must be >= 0");
  assert.equal(cfg.setField("weakRssi", 5), "power.weakRssi must be between -127 and 0");
  assert.equal(cfg.setField("lowPct", Number.NaN), "power.lowPct must be a number");
  assert.equal(cfg.validate(), "");
  assert.equal(cfg.setField("lowPct", 70), "");
  assert.equal(cfg.validate(), "power: need criticalPct <= lowPct <= highPct <= 100");
  const c2 = w.newPowerConfig();
  c2.setField("maxKeepAlive", 70000);
  assert.match(c2.validate(), /maxKeepAlive <= 65535/);
  const c3 = w.newPowerConfig();
  c3.setField("maxIntervalSeconds", 30);
  assert.match(c3.validate(), /maxIntervalSeconds must be >= intervalSeconds/);
});

test("battery percent from volts (fallback LiPo curve) and state across deep sleep", () => {
  const { exports: w } = loadEspruinoBundle("power");
  const c = w.newPowerConfig();
  assert.equal(c.percent(4.2), 100);
  assert.equal(c.percent(4.35), 100);
  assert.equal(c.percent(3.27), 0);
  assert.equal(c.percent(2.9), 0);
  assert.ok(Math.abs(c.percent(3.74) - 22.5) < 1e-9);
  assert.ok(Math.abs(c.percent(3.73) - 20) < 1e-9);
  const p = w.newKeepAlivePolicy(w.newPowerConfig());
  const i = w.newPowerInputs();
  i.batteryPct = 52;
  i.rssi = -88;
  p.decide(i);
  p.band = 3; // mid, as if it had come down from high
  const s = p.state();
  const q = w.newKeepAlivePolicy(w.newPowerConfig());
  q.restore(s);
  assert.equal(q.band, 3);
  assert.equal(q.weak, true);
  assert.equal(q.decide(i).band, 3, "52 % after mid stays mid (hysteresis survives the sleep)");
  q.restore(99);
  assert.equal(q.band, 3, "an out-of-range state is ignored");
});

test("Lua: battery percent, the board's curve and config errors", { skip: skipUnless("lua5.3") }, () => {
  const out = runLua(`local w = dofile("dist/lua/power.lua")
local c = w.newPowerConfig()
print(string.format("%g", c:percent(4.2)), string.format("%g", c:percent(3.27)), string.format("%.3f", c:percent(3.74)))
print(c:setField("nope", 1)); print(c:setField("weakRssi", 5))
print(c:setCurve({{3.5, 10}, {3.4, 20}}))
print("[" .. c:setCurve({{3.0, 0}, {4.0, 100}}) .. "]", string.format("%g", c:percent(3.5)))`);
  assert.deepEqual(out.trim().split("\n"), [
    "100\t0\t22.500",
    "power.nope is not a known setting",
    "power.weakRssi must be between -127 and 0",
    "board.battery.curve[1]: volts must rise from point to point",
    "[]\t50",
  ]);
});

test("the board's curve replaces the fallback; a bad curve is a named error and changes nothing", () => {
  const { exports: w } = loadEspruinoBundle("power");
  const c = w.newPowerConfig();
  const fallback = c.percent(3.5);
  assert.ok(fallback > 3 && fallback < 4, `fallback LiPo curve at 3.5 V: ${fallback}`);
  assert.equal(c.setCurve([[3.0, 0], [3.6, 40], [4.0, 100]]), "");
  assert.ok(Math.abs(c.percent(3.5) - (40 * 5) / 6) < 1e-9, `board curve at 3.5 V: ${c.percent(3.5)}`);
  assert.equal(c.percent(2.5), 0);
  assert.equal(c.percent(4.3), 100);
  const before = c.percent(3.8);
  assert.equal(c.setCurve([[3.0, 0]]), "board.battery.curve needs at least two [volts, percent] points");
  assert.equal(c.setCurve([[3.0, 0], [3.5]]), "board.battery.curve[1] must be [volts, percent]");
  assert.equal(c.setCurve([[3.0, 0], "x"]), "board.battery.curve[1] must be [volts, percent]");
  assert.equal(c.setCurve([[3.0, 0], [3.5, 120]]), "board.battery.curve[1]: percent must be 0..100");
  assert.equal(c.setCurve([[3.0, 0], [3.0, 50]]), "board.battery.curve[1]: volts must rise from point to point");
  assert.equal(c.setCurve([[3.0, 50], [3.5, 20]]), "board.battery.curve[1]: percent must not fall as volts rise");
  assert.equal(c.setCurve([[0, 0], [3.5, 20]]), "board.battery.curve[0]: volts must be > 0");
  assert.equal(c.percent(3.8), before, "a rejected curve leaves the one in use");
});
