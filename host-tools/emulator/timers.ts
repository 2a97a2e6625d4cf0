/**
 * Espruino's timer globals for one program run: setTimeout, setInterval,
 * clearTimeout, clearInterval, changeInterval, on the board clock.
 *
 * They follow jswrap_interactive.c and jsinteractive.c (docs/emulator.md has the
 * table): one list for timeouts and intervals; a new timer's id is the last one's
 * + 1, so ids start again from 1 once every timer is gone (jsiTimerAdd,
 * jsvArrayAddToEnd); clearTimeout/clearInterval clear either kind.
 */
import type { Clock } from "./clock.ts";

export interface TimerDeps {
  clock: Clock;
  /** Whether the program run is still alive (deep sleep or reset ends it). */
  alive: () => boolean;
  /** Call firmware code the guarded way (errors printed as "Uncaught ..."). */
  invoke: (fn: Function, args: unknown[]) => void;
  /** Run a string of code in the program's realm (a string callback). */
  runCode: (code: string) => unknown;
}

interface Timer {
  clockId: number;
  interval: boolean;
  delay: number;
  arm: () => void;
}

/** The timers of one program run. */
export class RunTimers {
  private timers = new Map<number, Timer>();
  constructor(private readonly deps: TimerDeps) {}

  /** Cancel every timer (the run ended). */
  cancelAll(): void {
    for (const t of this.timers.values()) this.deps.clock.cancel(t.clockId);
    this.timers.clear();
  }

  private add(fn: unknown, ms: unknown, args: unknown[], interval: boolean): number {
    const { clock, alive, invoke } = this.deps;
    if (typeof fn !== "function" && typeof fn !== "string") throw new Error("Function or String not supplied!");
    const call = typeof fn === "function" ? (fn as Function) : () => this.deps.runCode(fn as string);
    let id = 1;
    for (const k of this.timers.keys()) id = Math.max(id, k + 1);
    const t: Timer = { clockId: 0, interval, delay: Math.max(0, Number(ms) || 0), arm: () => {} };
    t.arm = () => {
      t.clockId = clock.schedule(() => {
        if (!alive()) return;
        if (interval) t.arm();
        invoke(call, args);
        // a timeout leaves the list after its callback ran (jsinteractive.c, jsiIdle): ids
        // handed out during the callback count it as still there
        if (!interval && this.timers.get(id) === t) this.timers.delete(id);
      }, t.delay);
    };
    this.timers.set(id, t);
    t.arm();
    return id;
  }

  private clear(ids: unknown[], kind: "Timeout" | "Interval"): void {
    if (ids.length === 0) {
      // no argument: every timer goes
      this.cancelAll();
      return;
    }
    if (ids[0] === undefined) throw new Error(`clear${kind}(undefined) not allowed. Use clear${kind}() instead`);
    const t = this.timers.get(Number(ids[0]));
    if (t) {
      this.deps.clock.cancel(t.clockId);
      this.timers.delete(Number(ids[0]));
    }
  }

  /** The globals a program sees. */
  globals(): Record<string, Function> {
    return {
      setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => this.add(fn, ms, args, false),
      setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => this.add(fn, ms, args, true),
      clearTimeout: (...ids: unknown[]) => this.clear(ids, "Timeout"),
      clearInterval: (...ids: unknown[]) => this.clear(ids, "Interval"),
      changeInterval: (id: unknown, ms: number) => {
        const t = this.timers.get(Number(id));
        if (!t) throw new Error("Unknown Interval");
        this.deps.clock.cancel(t.clockId);
        t.delay = Math.max(0, Number(ms) || 0);
        t.arm();
      },
    };
  }
}
