/**
 * Board clocks. Everything time-related in the emulator (firmware timers, the
 * Wi-Fi model's scripted drop-outs, deep-sleep wake-ups, the energy meter) goes
 * through one `Clock`, so switching between real and virtual time is one choice.
 *
 * - `RealClock`: wall time. Timers are Node timers. Use with a real broker.
 * - `VirtualClock`: time stands still while the board is busy and jumps straight
 *   to the next due timer when the board is idle, so 24 h of keep-alives runs in
 *   seconds. Socket I/O stays real, so "idle" means: no socket operation in
 *   flight (`beginIo`), no socket activity for `quietMs` of real time, and no
 *   socket waiting for a reply: after a write the socket layer says whether a
 *   reply is due (MQTT: CONNECT, PINGREQ, PUBLISH QoS>0, ... wait up to
 *   `replyTimeoutMs` for any data), unknown (wait `replyGraceMs`) or not due. Timers due at the same instant fire in the order
 *   they were set. For a given program, seed and broker the run is deterministic.
 */
import { performance } from "node:perf_hooks";

export type TimerFn = () => void;
export type Expect = "reply" | "maybe" | "none";

export interface Clock {
  readonly kind: "real" | "virtual";
  /** Milliseconds since the Unix epoch, as the board sees it. */
  now(): number;
  /** Run `fn` after `delayMs` (>= 0). Returns an id > 0. */
  schedule(fn: TimerFn, delayMs: number): number;
  cancel(id: number): void;
  /** Mark a socket operation in flight; call the returned function when it settles. */
  beginIo(): () => void;
  /**
   * Note socket activity on `channel`. `expect`: after a write, "reply" (a reply is
   * due: wait up to `replyTimeoutMs` for it), "maybe" (unknown protocol: wait
   * `replyGraceMs`), "none" (nothing is due); after a read, "none".
   */
  noteActivity(channel?: object, expect?: Expect): void;
  /** Forget a channel (socket closed). */
  dropChannel(channel: object): void;
  /** Resolve when the clock reaches `atMs` (or `stop()` is called). */
  runUntil(atMs: number): Promise<void>;
  /** Stop driving timers; pending `runUntil` calls resolve. */
  stop(): void;
}

/** 2026-01-01T00:00:00Z: where virtual time starts unless told otherwise. */
export const DEFAULT_VIRTUAL_EPOCH = Date.UTC(2026, 0, 1);

export class RealClock implements Clock {
  readonly kind = "real" as const;
  private nextId = 1;
  private handles = new Map<number, NodeJS.Timeout>();
  private stopped = false;
  private waiters = new Set<() => void>();

  now(): number {
    return Date.now();
  }
  schedule(fn: TimerFn, delayMs: number): number {
    const id = this.nextId++;
    const at = Date.now() + Math.max(0, delayMs);
    const arm = () => {
      const h = setTimeout(() => {
        if (Date.now() < at) return arm(); // longer than setTimeout's 24.8-day limit
        this.handles.delete(id);
        fn();
      }, Math.min(0x7fffffff, Math.max(0, at - Date.now())));
      this.handles.set(id, h);
    };
    arm();
    return id;
  }
  cancel(id: number): void {
    const h = this.handles.get(id);
    if (h) clearTimeout(h);
    this.handles.delete(id);
  }
  beginIo(): () => void {
    return () => {};
  }
  noteActivity(): void {}
  dropChannel(): void {}
  runUntil(atMs: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (h) clearTimeout(h);
        this.waiters.delete(done);
        resolve();
      };
      // setTimeout holds at most 2^31-1 ms; longer waits re-arm
      const arm = (): NodeJS.Timeout | undefined =>
        Number.isFinite(atMs) ? setTimeout(() => (Date.now() >= atMs ? done() : (h = arm())), Math.min(0x7fffffff, Math.max(0, atMs - Date.now()))) : undefined;
      let h = arm();
      this.waiters.add(done);
    });
  }
  stop(): void {
    this.stopped = true;
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
    for (const w of [...this.waiters]) w();
  }
}

interface VTimer {
  id: number;
  at: number;
  seq: number;
  fn: TimerFn;
}

export interface VirtualClockOptions {
  /** Virtual start time (ms since epoch). */
  epochMs?: number;
  /** Real ms without socket activity before virtual time may jump. */
  quietMs?: number;
  /** Real ms to wait for a possible reply after a write whose protocol is unknown. */
  replyGraceMs?: number;
  /** Real ms to wait at most for a reply that the protocol says is due (CONNACK, PINGRESP, PUBACK...). */
  replyTimeoutMs?: number;
}

export class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  private t: number;
  private timers: VTimer[] = []; // kept sorted by (at, seq)
  private nextId = 1;
  private seq = 0;
  private inFlight = 0;
  private lastActivity = 0;
  private awaiting = new Map<object, number>(); // channel -> real time until which to wait
  private stopped = false;
  private running = false;
  private target = -Infinity;
  private waiters: { at: number; resolve: () => void }[] = [];
  readonly quietMs: number;
  readonly replyGraceMs: number;
  readonly replyTimeoutMs: number;
  /** Timers fired so far (for tests and stats). */
  fired = 0;

  constructor(opts: VirtualClockOptions = {}) {
    this.t = opts.epochMs ?? DEFAULT_VIRTUAL_EPOCH;
    this.quietMs = opts.quietMs ?? 2;
    this.replyGraceMs = opts.replyGraceMs ?? 10;
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 2000;
  }

  now(): number {
    return this.t;
  }
  schedule(fn: TimerFn, delayMs: number): number {
    const id = this.nextId++;
    const tm: VTimer = { id, at: this.t + Math.max(0, delayMs), seq: this.seq++, fn };
    // binary insertion keeps (at, seq) order
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.timers[mid];
      if (m.at < tm.at || (m.at === tm.at && m.seq < tm.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, tm);
    return id;
  }
  cancel(id: number): void {
    const i = this.timers.findIndex((x) => x.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }
  beginIo(): () => void {
    this.inFlight++;
    this.lastActivity = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.lastActivity = performance.now();
    };
  }
  noteActivity(channel?: object, expect: Expect = "none"): void {
    this.lastActivity = performance.now();
    if (!channel) return;
    if (expect === "none") {
      this.awaiting.delete(channel);
      return;
    }
    const until = this.lastActivity + (expect === "reply" ? this.replyTimeoutMs : this.replyGraceMs);
    this.awaiting.set(channel, Math.max(until, this.awaiting.get(channel) ?? 0));
  }
  dropChannel(channel: object): void {
    this.awaiting.delete(channel);
    this.lastActivity = performance.now();
  }
  /** Pending timer count (for tests). */
  pending(): number {
    return this.timers.length;
  }

  runUntil(atMs: number): Promise<void> {
    if (this.stopped || atMs <= this.t) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ at: atMs, resolve }));
    this.target = Math.max(this.target, atMs);
    if (!this.running) void this.loop();
    return p;
  }

  stop(): void {
    this.stopped = true;
    this.timers = [];
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Real milliseconds still to wait before virtual time may move; 0 when idle. */
  private busyFor(): number {
    if (this.inFlight > 0) return 1;
    const realNow = performance.now();
    let wait = this.lastActivity + this.quietMs - realNow;
    for (const until of this.awaiting.values()) wait = Math.max(wait, until - realNow);
    return Math.max(0, wait);
  }

  private settleWaiters(): void {
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.at <= this.t) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private async loop(): Promise<void> {
    this.running = true;
    let spins = 0;
    try {
      while (!this.stopped && this.waiters.length > 0) {
        const wait = this.busyFor();
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, Math.min(wait, 5)));
          continue;
        }
        const next = this.timers[0];
        const limit = Math.min(...this.waiters.map((w) => w.at));
        if (!next && limit === Infinity) {
          // nothing scheduled and no end: wait for real I/O to create work
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if (!next || next.at > limit) {
          this.t = Math.max(this.t, limit);
          this.settleWaiters();
          continue;
        }
        this.timers.shift();
        if (next.at > this.t) this.t = next.at;
        this.fired++;
        next.fn();
        this.settleWaiters();
        // let real I/O (sockets, the broker) run between timers
        if (++spins % 64 === 0) await new Promise((r) => setTimeout(r, 0));
        else await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }
}

export type ClockSpec = "real" | "virtual" | Clock | ({ kind: "virtual" } & VirtualClockOptions);

export function makeClock(spec: ClockSpec | undefined): Clock {
  if (spec === undefined || spec === "real") return new RealClock();
  if (spec === "virtual") return new VirtualClock();
  if ("now" in spec) return spec;
  return new VirtualClock(spec);
}
