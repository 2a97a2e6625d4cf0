/**
 * Energy report for one emulated run: `wisp emulate --report report.html`.
 *
 * ReportRecorder watches a board (events, the energy meter's radio state, periodic
 * samples on the board clock); renderReport() turns what it saw into ONE
 * self-contained HTML page: inline CSS and SVG, no script, no network. The run's data
 * is embedded as JSON in `<script type="application/json" id="wisp-report-data">`
 * (parseReport() reads it back), so the page can be checked by a program.
 *
 * Charts: average current per sample window (Δ mAh / Δ t, so short TX bursts are
 * counted, not lost between samples), battery percent, the radio-state timeline, and
 * a table of every policy decision (`policy ...` console lines of the app) with its reason.
 */
import type { RadioState } from "./board.ts";
import { RADIO_STATES } from "./board.ts";
import type { BoardEvent, EmulatedBoard } from "./emulator.ts";

export interface ReportSample {
  /** Board time, ms since start. */
  t: number;
  mAh: number;
  /** Average current since the previous sample (mA). */
  mA: number;
  /** Battery state of charge; null without a battery. */
  pct: number | null;
}

export interface ReportData {
  version: 1;
  title: string;
  board: { id: string; name: string; capacityMah: number | null; currentMa: Record<RadioState, number> };
  durationMs: number;
  samples: ReportSample[];
  /** Base radio state segments: state from t until the next entry (or durationMs). */
  states: { t: number; state: RadioState }[];
  decisions: { t: number; text: string }[];
  events: { t: number; type: string; text: string }[];
  summary: { mAh: number; avgMa: number; mAhPerDay: number; daysOnBattery: number | null; boots: number; messages: number; timeMs: Record<RadioState, number> };
}

export class ReportRecorder {
  readonly samples: ReportSample[] = [];
  readonly states: { t: number; state: RadioState }[] = [];
  readonly decisions: { t: number; text: string }[] = [];
  readonly events: { t: number; type: string; text: string }[] = [];
  private readonly t0: number;
  private timer = 0;
  private lastT = 0;
  private lastMAh = 0;
  private stopped = false;
  private readonly onEvent: (e: BoardEvent) => void;

  constructor(
    private readonly board: EmulatedBoard,
    private readonly sampleMs: number,
  ) {
    this.t0 = board.clock.now();
    const meter = board.meter;
    const orig = meter.setBase.bind(meter);
    this.states.push({ t: 0, state: (meter as unknown as { base: RadioState }).base });
    meter.setBase = (s: RadioState) => {
      orig(s);
      if (this.stopped) return;
      const t = board.clock.now() - this.t0;
      const last = this.states[this.states.length - 1];
      if (last.state === s) return;
      if (last.t === t) last.state = s;
      else this.states.push({ t, state: s });
    };
    this.onEvent = (e: BoardEvent) => {
      const t = e.t - this.t0;
      if (e.type === "console") {
        if (e.text.startsWith("policy ")) this.decisions.push({ t, text: e.text.slice(7) });
        return;
      }
      if (e.type === "boot") this.events.push({ t, type: "boot", text: `boot #${e.boot} (${e.cause})` });
      else if (e.type === "sleep") this.events.push({ t, type: "sleep", text: `deep sleep ${Math.round(e.ms / 1000)} s` });
      else if (e.type === "wifi") this.events.push({ t, type: "wifi", text: `wifi ${e.state}` });
      else if (e.type === "error") this.events.push({ t, type: "error", text: e.message });
    };
    board.on("event", this.onEvent);
    this.sample();
    const tick = () => {
      this.sample();
      this.timer = board.clock.schedule(tick, sampleMs);
    };
    this.timer = board.clock.schedule(tick, sampleMs);
  }

  sample(): void {
    if (this.stopped) return;
    const t = this.board.clock.now() - this.t0;
    const mAh = this.board.meter.mAh();
    const dt = t - this.lastT;
    const mA = dt > 0 ? ((mAh - this.lastMAh) * 3_600_000) / dt : 0;
    const pct = this.board.battery ? Math.round(this.board.battery.percent() * 1000) / 1000 : null;
    if (this.samples.length > 0 && dt <= 0) return;
    this.samples.push({ t, mAh, mA, pct });
    this.lastT = t;
    this.lastMAh = mAh;
  }

  /** Final sample; stop recording. */
  finish(title: string, messages: number): ReportData {
    this.sample();
    this.stopped = true;
    this.board.clock.cancel(this.timer);
    this.board.off("event", this.onEvent);
    const r = this.board.meter.report();
    const c = this.board.config;
    return {
      version: 1,
      title,
      board: { id: c.id, name: c.name ?? c.id, capacityMah: c.battery?.capacityMah ?? null, currentMa: { ...c.currentMa } },
      durationMs: r.elapsedMs,
      samples: this.samples,
      states: this.states,
      decisions: this.decisions,
      events: this.events,
      summary: { mAh: r.mAh, avgMa: r.avgMa, mAhPerDay: r.mAhPerDay, daysOnBattery: r.daysOnBattery, boots: this.board.bootCount, messages, timeMs: r.timeMs },
    };
  }
}

// ------------------------------------------------------------------ rendering

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function clock(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

const W = 900;
const H = 180;
const PAD = { l: 80, r: 40, t: 22, b: 24 };

function axisX(duration: number): string {
  let out = "";
  for (let k = 0; k <= 6; k++) {
    const t = (duration * k) / 6;
    const x = PAD.l + ((W - PAD.l - PAD.r) * k) / 6;
    out += `<line x1="${x}" y1="${H - PAD.b}" x2="${x}" y2="${H - PAD.b + 4}" stroke="#555"/><text x="${x}" y="${H - 6}" text-anchor="middle">${clock(t)}</text>`;
  }
  return out;
}

function lineChart(id: string, pts: { t: number; v: number }[], duration: number, unit: string, color: string, fixedMax?: number): string {
  const max = fixedMax ?? Math.max(1e-9, ...pts.map((p) => p.v)) * 1.1;
  const sx = (t: number) => PAD.l + (duration > 0 ? (t / duration) * (W - PAD.l - PAD.r) : 0);
  const sy = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  // Step line: each value holds over its window (it is an average over the window).
  let d = "";
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    const x0 = i > 0 ? sx(pts[i - 1].t) : sx(p.t);
    d += `${i === 0 ? "M" : "L"}${x0.toFixed(1)},${sy(p.v).toFixed(1)}L${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`;
  }
  let grid = "";
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    grid += `<line x1="${PAD.l}" y1="${sy(v)}" x2="${W - PAD.r}" y2="${sy(v)}" stroke="#ddd"/><text x="${PAD.l - 4}" y="${sy(v) + 4}" text-anchor="end">${v < 10 ? v.toFixed(2) : v.toFixed(0)}</text>`;
  }
  return `<svg id="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(unit)}">${grid}${axisX(duration)}<text x="${PAD.l}" y="14">${esc(unit)}</text><path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/></svg>`;
}

const STATE_COLORS: Record<RadioState, string> = { wifiTx: "#d62728", wifiRx: "#ff7f0e", modemSleep: "#1f77b4", lightSleep: "#9467bd", deepSleep: "#2ca02c" };

function timeline(data: ReportData): string {
  const lanes = RADIO_STATES;
  const lh = 18;
  const h = lanes.length * lh + PAD.b + 6;
  const sx = (t: number) => PAD.l + (data.durationMs > 0 ? (t / data.durationMs) * (W - PAD.l - PAD.r) : 0);
  let out = "";
  lanes.forEach((s, i) => (out += `<text x="${PAD.l - 4}" y="${i * lh + 13}" text-anchor="end">${s}</text>`));
  data.states.forEach((seg, i) => {
    const end = i + 1 < data.states.length ? data.states[i + 1].t : data.durationMs;
    const lane = lanes.indexOf(seg.state);
    const w = Math.max(0.5, sx(end) - sx(seg.t));
    out += `<rect x="${sx(seg.t).toFixed(2)}" y="${lane * lh + 2}" width="${w.toFixed(2)}" height="${lh - 4}" fill="${STATE_COLORS[seg.state]}"/>`;
  });
  let axis = "";
  for (let k = 0; k <= 6; k++) {
    const x = PAD.l + ((W - PAD.l - PAD.r) * k) / 6;
    axis += `<text x="${x}" y="${h - 6}" text-anchor="middle">${clock((data.durationMs * k) / 6)}</text>`;
  }
  return `<svg id="timeline" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="radio state">${out}${axis}</svg>`;
}

export function renderReport(data: ReportData): string {
  const s = data.summary;
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const pct = (ms: number) => (data.durationMs > 0 ? ((ms / data.durationMs) * 100).toFixed(2) : "0.00");
  const decisions = data.decisions.length
    ? data.decisions.map((d) => `<tr><td>${clock(d.t)}</td><td>${esc(d.text)}</td></tr>`).join("")
    : `<tr><td colspan="2">no policy decisions logged (app not in mode "auto"?)</td></tr>`;
  const current = lineChart("current", data.samples.slice(1).map((p) => ({ t: p.t, v: p.mA })), data.durationMs, "current (mA, average per sample window)", "#d62728");
  const battery = data.samples.some((p) => p.pct !== null)
    ? lineChart("battery", data.samples.map((p) => ({ t: p.t, v: p.pct ?? 0 })), data.durationMs, "battery (%)", "#2ca02c", 100)
    : "<p>no battery on this board</p>";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222;max-width:960px}
svg{display:block;margin:6px 0 18px;font:11px system-ui,sans-serif;background:#fafafa;border:1px solid #eee}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>${esc(data.title)}</h1>
<p>${esc(data.board.name)} — board time ${clock(data.durationMs)}</p>
<table id="summary">
<tr><th>energy</th><td>${s.mAh.toFixed(3)} mAh</td></tr>
<tr><th>average current</th><td>${s.avgMa.toFixed(3)} mA</td></tr>
<tr><th>mAh/day</th><td>${s.mAhPerDay.toFixed(2)}</td></tr>
<tr><th>days on battery</th><td>${s.daysOnBattery === null ? "n/a" : `${s.daysOnBattery.toFixed(1)} (${data.board.capacityMah} mAh)`}</td></tr>
<tr><th>boots</th><td>${s.boots}</td></tr><tr><th>messages seen</th><td>${s.messages}</td></tr>
<tr><th>time per state</th><td>${RADIO_STATES.map((k) => `${k} ${pct(s.timeMs[k])} %`).join(", ")}</td></tr>
</table>
<h2>Current</h2>${current}
<h2>Battery</h2>${battery}
<h2>Radio state</h2>
<div class="legend">${RADIO_STATES.map((k) => `<span><i style="background:${STATE_COLORS[k]}"></i>${k} (${data.board.currentMa[k]} mA)</span>`).join("")}</div>
${timeline(data)}
<h2>Policy decisions</h2>
<table id="decisions"><tr><th>time</th><th>decision and reason</th></tr>${decisions}</table>
<script type="application/json" id="wisp-report-data">${json}</script>
</body></html>
`;
}

/** The data embedded in a report page. */
export function parseReport(html: string): ReportData {
  const m = /<script type="application\/json" id="wisp-report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error("no wisp-report-data in this page");
  return JSON.parse(m[1]) as ReportData;
}
