/**
 * One virtual day of the telemetry app (dist/espruino/app.js) on the emulated
 * esp32-lipo-sensor against an in-process aedes, with an MQTT.js observer counting
 * the QoS 1 telemetry it receives. Shared by test/power/day.test.ts and the bench.
 */
import type { EmulatedBoard } from "../../host-tools/emulator/emulator.ts";
import type { EnergyReport } from "../../host-tools/emulator/energy.ts";
import { bootApp } from "../helpers/boot-app.ts";

export interface DayRun {
  name: string;
  energy: EnergyReport;
  /** Telemetry sequence numbers seen by the observer, in arrival order (duplicates kept). */
  seqs: number[];
  /** Distinct readings delivered. */
  delivered: number;
  /** Readings the board numbered (the last seq it logged). */
  produced: number;
  /** Sequence numbers produced but never seen by the observer. */
  missing: number[];
  /** Status messages seen while the board ran. */
  statuses: string[];
  /** Status messages after the power was cut at the end of the run (board.stop(): no DISCONNECT). */
  afterPowerCut: string[];
  policyLines: string[];
  board: EmulatedBoard;
}

export interface DayOptions {
  name: string;
  settings: Record<string, unknown>;
  batteryPercent?: number;
  durationMs?: number;
  wifi?: Record<string, unknown>;
}

export async function runDay(o: DayOptions): Promise<DayRun> {
  const app = await bootApp({ seed: 11, settings: { clientId: "d1", qos: 1, ...o.settings }, battery: { percent: o.batteryPercent ?? 20 }, wifi: o.wifi ?? {} });
  const { board } = app;
  const seqs: number[] = [];
  const statuses: string[] = [];
  app.observer.on("message", (topic, payload) => {
    if (topic.endsWith("/telemetry")) seqs.push(JSON.parse(payload.toString()).seq);
    else if (topic.endsWith("/status")) statuses.push(payload.toString());
  });
  try {
    await board.runFor(o.durationMs ?? 24 * 3600_000);
    // Let the last acknowledgement reach the observer (board time stands still: no timer is due).
    const energy = board.energy();
    const before = statuses.length;
    board.stop();
    // Power cut: a connected board's socket closes without DISCONNECT, so the broker
    // publishes the will; a board in deep sleep has no connection to lose.
    for (let i = 0; i < 100 && statuses.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    if (statuses.length === before) await new Promise((r) => setTimeout(r, 100));
    const text = app.consoleText();
    const produced = Math.max(0, ...[...text.matchAll(/publish seq=(\d+)/g)].map((m) => Number(m[1])));
    const got = new Set(seqs);
    const missing: number[] = [];
    // The reading published in the last instant may still be in flight when the run ends.
    for (let s = 1; s < produced; s++) if (!got.has(s)) missing.push(s);
    return {
      name: o.name,
      energy,
      seqs,
      delivered: got.size,
      produced,
      missing,
      statuses: statuses.slice(0, before),
      afterPowerCut: statuses.slice(before),
      policyLines: text.split(/\r?\n/).filter((l) => l.startsWith("policy ")),
      board,
    };
  } finally {
    await app.close();
  }
}

/** The comparison of the issue: same workload (a QoS 1 reading every `intervalSeconds`), 20 % battery, 24 h. */
export async function compareDay(intervalSeconds = 300, durationMs = 24 * 3600_000): Promise<{ baseline: DayRun; policy: DayRun }> {
  const baseline = await runDay({ name: "fixed 60 s keep-alive, stay connected", settings: { mode: "stay", keepAliveSeconds: 60, intervalSeconds }, durationMs });
  const policy = await runDay({ name: "battery-aware policy", settings: { mode: "auto", intervalSeconds }, durationMs });
  return { baseline, policy };
}
