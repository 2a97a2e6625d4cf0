/**
 * Energy meter: integrates the board's supply current over time, per radio state.
 *
 * Radio state model (currents from the board JSON `currentMa`):
 *   - deepSleep   during ESP32.deepSleep();
 *   - wifiRx      while Wi-Fi is associating (scan, auth, DHCP: the receiver is on);
 *   - modemSleep  Wi-Fi connected and idle (radio wakes for beacons, CPU on);
 *   - lightSleep  awake with the radio off (Wi-Fi never connected or disconnected);
 *   - wifiTx      while bytes are on the air: airtime = perWriteOverheadUs + bytes*8/phyRateMbps µs
 *                 per socket write, back to back;
 *   - wifiRx      the airtime of received bytes, and an `rxWindowMs` listening window
 *                 after each transmission or reception.
 * TX and RX windows overlay the base state and only exist while the radio is on;
 * switching the radio off (deep sleep, Wi-Fi down) cuts them short.
 *
 * mAh = sum over states of (ms in state / 3,600,000) * currentMa[state].
 */
import type { BoardConfig, RadioState } from "./board.ts";
import { RADIO_STATES } from "./board.ts";

export interface EnergyReport {
  elapsedMs: number;
  timeMs: Record<RadioState, number>;
  mAh: number;
  avgMa: number;
  mAhPerDay: number;
  /** Days a full battery of the board's capacity lasts at this average; null without a battery. */
  daysOnBattery: number | null;
  bytesTx: number;
  bytesRx: number;
  writes: number;
}

export class EnergyMeter {
  private base: RadioState = "lightSleep";
  private txUntil = -Infinity;
  private rxUntil = -Infinity;
  private last: number;
  private readonly start: number;
  private readonly timeMs = Object.fromEntries(RADIO_STATES.map((s) => [s, 0])) as Record<RadioState, number>;
  bytesTx = 0;
  bytesRx = 0;
  writes = 0;

  constructor(
    private readonly board: BoardConfig,
    private readonly now: () => number,
  ) {
    this.start = this.last = now();
  }

  get state(): RadioState {
    const t = this.now();
    if (this.txUntil > t) return "wifiTx";
    if (this.rxUntil > t) return "wifiRx";
    return this.base;
  }

  private radioOn(): boolean {
    return this.base === "wifiRx" || this.base === "modemSleep";
  }

  /** Integrate up to the current time. */
  advance(): void {
    const now = this.now();
    let t = this.last;
    if (now <= t) return;
    if (this.txUntil > t) {
      const d = Math.min(now, this.txUntil) - t;
      this.timeMs.wifiTx += d;
      t += d;
    }
    if (t < now && this.rxUntil > t) {
      const d = Math.min(now, this.rxUntil) - t;
      this.timeMs.wifiRx += d;
      t += d;
    }
    if (t < now) this.timeMs[this.base] += now - t;
    this.last = now;
  }

  /** Change the base state (the state the board is in when not sending or listening). */
  setBase(state: RadioState): void {
    this.advance();
    this.base = state;
    if (!this.radioOn()) {
      const now = this.now();
      this.txUntil = Math.min(this.txUntil, now);
      this.rxUntil = Math.min(this.rxUntil, now);
    }
  }

  airtimeMs(bytes: number): number {
    const r = this.board.radio;
    return (r.perWriteOverheadUs + (bytes * 8) / r.phyRateMbps) / 1000;
  }

  transmit(bytes: number): void {
    this.advance();
    this.bytesTx += bytes;
    this.writes++;
    if (!this.radioOn()) return;
    const now = this.now();
    this.txUntil = Math.max(now, this.txUntil) + this.airtimeMs(bytes);
    this.rxUntil = Math.max(this.rxUntil, this.txUntil + this.board.radio.rxWindowMs);
  }

  receive(bytes: number): void {
    this.advance();
    this.bytesRx += bytes;
    if (!this.radioOn()) return;
    const now = this.now();
    this.rxUntil = Math.max(this.rxUntil, Math.max(now, this.txUntil) + this.airtimeMs(bytes) + this.board.radio.rxWindowMs);
  }

  /** mAh used so far. */
  mAh(): number {
    this.advance();
    return mAhFor(this.timeMs, this.board.currentMa);
  }

  report(): EnergyReport {
    this.advance();
    const elapsedMs = this.last - this.start;
    const mAh = mAhFor(this.timeMs, this.board.currentMa);
    const avgMa = elapsedMs > 0 ? (mAh * 3_600_000) / elapsedMs : 0;
    const mAhPerDay = avgMa * 24;
    const cap = this.board.battery?.capacityMah;
    return {
      elapsedMs,
      timeMs: { ...this.timeMs },
      mAh,
      avgMa,
      mAhPerDay,
      daysOnBattery: cap && avgMa > 0 ? cap / mAhPerDay : null,
      bytesTx: this.bytesTx,
      bytesRx: this.bytesRx,
      writes: this.writes,
    };
  }
}

/** The hand calculation: ms per state times the board's current for that state. */
export function mAhFor(timeMs: Record<RadioState, number>, currentMa: Record<RadioState, number>): number {
  let sum = 0;
  for (const s of RADIO_STATES) sum += (timeMs[s] / 3_600_000) * currentMa[s];
  return sum;
}
