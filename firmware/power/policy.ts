/**
 * KeepAlivePolicy: chooses the MQTT keep-alive, the publish interval and the
 * connection mode ("stay" connected, or "sleep": deep-sleep between publishes)
 * from battery percent, charging, RSSI, recent downlink activity and the limits
 * in config (broker maximum keep-alive, NAT idle timeout). See docs/power.md.
 *
 * Energy reasoning (all figures from PowerConfig, so a board can override them):
 *   - staying connected costs `stayCurrentMa` all the time (modem sleep) plus one
 *     keep-alive exchange (`pingCostMas`) per keep-alive period;
 *   - a reconnect costs `reconnectCostMas` (association, CONNECT, birth), times
 *     `weakReconnectFactor` when the signal is weak (retries, lower PHY rate).
 * The policy only pays a reconnect (a mode switch to deep sleep, or a new
 * keep-alive) when what it saves is larger than that cost.
 *
 * Hysteresis: the battery band drops as soon as a threshold is crossed, but rises
 * only `hysteresisPct` above it; the weak-signal flag clears `rssiHysteresisDb`
 * above `weakRssi`. The state (band and flag) survives deep sleep via state()/restore().
 */

/** The two modes. Written as literals in the code below: a module-level string is held in RAM on Espruino. */
export const MODE_STAY = "stay";
export const MODE_SLEEP = "sleep";

/** Battery bands, lowest first. */
export const BAND_EMPTY = 0;
export const BAND_CRITICAL = 1;
export const BAND_LOW = 2;
export const BAND_MID = 3;
export const BAND_HIGH = 4;

/** The names live in this function's body (flash), not in an array held in RAM. */
export function bandName(b: number): string {
  if (b === BAND_EMPTY) return "empty";
  if (b === BAND_CRITICAL) return "critical";
  if (b === BAND_LOW) return "low";
  if (b === BAND_MID) return "mid";
  if (b === BAND_HIGH) return "high";
  return "unknown";
}

/**
 * Every threshold, with its default. Set from wisp.json / flash.config.json `power` by
 * setField, which takes the settings' names (docs/power.md, in brackets below); the
 * fields have short names of their own because on Espruino a stored name of 9 or more
 * characters takes a second block, per field.
 */
export class PowerConfig {
  /** The workload: publish interval (s) while the battery allows it (`intervalSeconds`). */
  interval = 60;
  /** Longest publish interval (s): used when the battery reads empty (`maxIntervalSeconds`). */
  maxIntvl = 3600;
  /** Critical band: interval = interval * stretch, capped by maxIntvl (`criticalStretch`). */
  stretch = 4;
  /** Battery bands (percent): >= highPct high, >= lowPct mid, >= critPct (`criticalPct`) low, > 0 critical, else empty. */
  highPct = 50;
  lowPct = 30;
  critPct = 10;
  /** A band is entered upwards only this many percent above its threshold (`hysteresisPct`). */
  hystPct = 5;
  /** Broker's maximum keep-alive (s); 0 = none configured (`brokerMaxKeepAlive`). */
  brokerKa = 0;
  /** NAT / firewall idle timeout (s) between the board and the broker; 0 = none (`natIdleSeconds`). */
  natIdle = 300;
  /** Keep-alive stays this far below the NAT idle timeout (`natMarginSeconds`). */
  natSlack = 30;
  /** Keep-alive bounds (s) (`minKeepAlive`, `maxKeepAlive`). */
  minKa = 10;
  maxKa = 1200;
  /** While charging energy is free: a short keep-alive detects a dead link fast (`chargingKeepAlive`). */
  chargeKa = 60;
  /** Keep-alive in sleep mode, the connection lasts one wake (`sleepKeepAlive`). */
  sleepKa = 30;
  /** RSSI (dBm) at or below which the signal counts as weak (`weakRssi`); clears this many dB above (`rssiHysteresisDb`). */
  weakRssi = -85;
  rssiHyst = 5;
  /** A downlink message within this many seconds keeps the board connected in the mid band (`downlinkActiveSeconds`). */
  dlActive = 600;
  /** Charging detected when the cell reads at least this (V): a charger lifts it above full (`chargingVolts`). */
  chargeV = 4.22;
  /**
   * Energy model for the break-even decisions: modem-sleep current (mA, `stayCurrentMa`),
   * one ping (mA·s, `pingCostMas`), one reconnect (mA·s, `reconnectCostMas`), and its
   * factor on a weak signal (`weakReconnectFactor`).
   */
  stayMa = 25;
  pingMas = 5;
  connMas = 150;
  weakMul = 2;
  /** A new keep-alive is worth a reconnect when its saving over this horizon (s) exceeds the cost (`savingHorizonSeconds`). */
  horizon = 3600;
  /**
   * The battery curve in use, packed as a byte string: per point (volts ascending) the
   * millivolts and the percent x 100, each in two bytes, big-endian. On Espruino a
   * number[] of the 21 points of a board curve held ~64 blocks; this string ~8.
   * The fallback until setCurve takes the board's.
   */
  private curve = "";

  /**
   * Starts on the fallback curve: the LiPo curve of boards/esp32-lipo-sensor.json, used
   * only when wisp.json carries no board curve (`board.battery.curve`, written by the
   * host tools from boards/*.json) or a bad one.
   */
  constructor() {
    this.setCurve([[3.27, 0], [3.61, 5], [3.69, 10], [3.71, 15], [3.73, 20], [3.75, 25], [3.77, 30], [3.79, 35], [3.8, 40], [3.82, 45], [3.84, 50], [3.85, 55], [3.87, 60], [3.91, 65], [3.95, 70], [3.98, 75], [4.02, 80], [4.08, 85], [4.11, 90], [4.15, 95], [4.2, 100]]);
  }

  /**
   * Take the board's curve: `[volts, percent]` points as wisp.json `board.battery.curve`
   * has them (the host tools sort them by volts), kept to the millivolt and to 0.01 %.
   * Returns "" or what was wrong; on an error the curve in use is kept.
   */
  setCurve(points: number[][]): string {
    const where = "board.battery.curve";
    if (points.length < 2) return where + " needs at least two [volts, percent] points";
    let packed = "";
    let before = 0;
    for (let k = 0; k < points.length; k++) {
      const pt = points[k];
      if (typeof pt !== "object" || pt === null || pt.length !== 2 || typeof pt[0] !== "number" || typeof pt[1] !== "number") {
        return where + "[" + k + "] must be [volts, percent]";
      }
      const mv = Math.round(pt[0] * 1000);
      const pc = Math.round(pt[1] * 100);
      if (!(pt[0] > 0)) return where + "[" + k + "]: volts must be > 0";
      if (mv > 65535) return where + "[" + k + "]: volts must be below 65.5";
      if (!(pt[1] >= 0 && pt[1] <= 100)) return where + "[" + k + "]: percent must be 0..100";
      if (k > 0 && !(mv > before)) return where + "[" + k + "]: volts must rise from point to point";
      if (k > 0 && pt[1] < points[k - 1][1]) return where + "[" + k + "]: percent must not fall as volts rise";
      before = mv;
      packed = packed + String.fromCharCode(shr(mv, 8), mv & 255, shr(pc, 8), pc & 255);
    }
    this.curve = packed;
    return "";
  }

  /** Battery percent for `volts`: piecewise linear on the curve, clamped at both ends. */
  percent(volts: number): number {
    const c = this.curve;
    let v0 = 0;
    let p0 = 0;
    for (let k = 0; k < strLen(c); k += 4) {
      const v = (strByte(c, k) * 256 + strByte(c, k + 1)) / 1000;
      const p = (strByte(c, k + 2) * 256 + strByte(c, k + 3)) / 100;
      if (volts <= v) return k === 0 ? p : p0 + ((volts - v0) / (v - v0)) * (p - p0);
      v0 = v;
      p0 = p;
    }
    return p0;
  }

  /** Set one field by name (from a config file). Returns "" or what was wrong. */
  setField(name: string, v: number): string {
    if (typeof v !== "number" || v !== v) return "power." + name + " must be a number";
    if (name === "weakRssi") {
      if (v > 0 || v < -127) return "power.weakRssi must be between -127 and 0";
      this.weakRssi = v;
      return "";
    }
    if (v < 0) return "power." + name + " must be >= 0";
    if (name === "intervalSeconds") this.interval = v;
    else if (name === "maxIntervalSeconds") this.maxIntvl = v;
    else if (name === "criticalStretch") this.stretch = v;
    else if (name === "highPct") this.highPct = v;
    else if (name === "lowPct") this.lowPct = v;
    else if (name === "criticalPct") this.critPct = v;
    else if (name === "hysteresisPct") this.hystPct = v;
    else if (name === "brokerMaxKeepAlive") this.brokerKa = v;
    else if (name === "natIdleSeconds") this.natIdle = v;
    else if (name === "natMarginSeconds") this.natSlack = v;
    else if (name === "minKeepAlive") this.minKa = v;
    else if (name === "maxKeepAlive") this.maxKa = v;
    else if (name === "chargingKeepAlive") this.chargeKa = v;
    else if (name === "sleepKeepAlive") this.sleepKa = v;
    else if (name === "rssiHysteresisDb") this.rssiHyst = v;
    else if (name === "downlinkActiveSeconds") this.dlActive = v;
    else if (name === "chargingVolts") this.chargeV = v;
    else if (name === "stayCurrentMa") this.stayMa = v;
    else if (name === "pingCostMas") this.pingMas = v;
    else if (name === "reconnectCostMas") this.connMas = v;
    else if (name === "weakReconnectFactor") this.weakMul = v;
    else if (name === "savingHorizonSeconds") this.horizon = v;
    else return "power." + name + " is not a known setting";
    return "";
  }

  /** "" when consistent, else the first problem found. */
  validate(): string {
    if (this.interval < 1) return "power.intervalSeconds must be >= 1";
    if (this.maxIntvl < this.interval) return "power.maxIntervalSeconds must be >= intervalSeconds";
    if (!(this.critPct <= this.lowPct && this.lowPct <= this.highPct && this.highPct <= 100)) return "power: need criticalPct <= lowPct <= highPct <= 100";
    if (this.minKa < 1 || this.maxKa < this.minKa || this.maxKa > 65535) return "power: need 1 <= minKeepAlive <= maxKeepAlive <= 65535";
    if (this.stretch < 1) return "power.criticalStretch must be >= 1";
    return "";
  }
}

/**
 * PowerInputs.batteryPct on a board that cannot measure its battery (no ADC): the
 * policy stays connected with the longest allowed keep-alive (as in the high band),
 * keeps the configured interval, and reports the band as "unknown".
 */
export const NO_BATTERY_PCT = -1;

/** What the policy looks at. */
export class PowerInputs {
  /** Battery state of charge, 0..100; NO_BATTERY_PCT when there is no reading. */
  batteryPct = 100;
  charging = false;
  /** dBm; 0 = unknown (treated as not weak). */
  rssi = 0;
  /** Seconds since the last downlink message; -1 = none seen. */
  downlinkAgoSeconds = -1;
  /** Keep-alive of the connection now open (s); 0 = not connected. */
  currentKeepAlive = 0;
}

/** What the policy chose, and why. */
export class PowerDecision {
  mode = "stay";
  keepAlive = 60;
  intervalSeconds = 60;
  /** Close the open connection now and reconnect with `keepAlive`. */
  reconnect = false;
  band = BAND_HIGH;
  weak = false;
  reason = "";
}

export class KeepAlivePolicy {
  cfg: PowerConfig;
  /** Band after the last decision; -1 before the first. */
  band = -1;
  weak = false;

  constructor(cfg: PowerConfig) {
    this.cfg = cfg;
  }

  /**
   * One decision (once per reading at most: one function, since on Espruino each
   * function held costs RAM and only the hot path needs to be short).
   */
  decide(i: PowerInputs): PowerDecision {
    const c = this.cfg;
    const d = new PowerDecision();
    if (i.rssi < 0) {
      this.weak = this.weak ? i.rssi < c.weakRssi + c.rssiHyst : i.rssi <= c.weakRssi;
    }
    const noReading = i.batteryPct < 0;
    if (noReading) this.band = -1;
    // Band, with hysteresis: the plain band (every threshold raised by h = 0) when it is
    // not above the previous one; else the band with thresholds raised by h = hystPct,
    // if that is above the previous one. So a band is left downwards at once, and
    // entered upwards only hystPct above its threshold.
    for (let pass = 0; !noReading && pass < 2; pass++) {
      const pct = i.batteryPct;
      const h = pass === 0 ? 0 : c.hystPct;
      let b = BAND_CRITICAL;
      if (pct <= 0) b = BAND_EMPTY;
      else if (pct >= c.highPct + h) b = BAND_HIGH;
      else if (pct >= c.lowPct + h) b = BAND_MID;
      else if (pct >= c.critPct + h) b = BAND_LOW;
      if (pass === 0 && (this.band < 0 || b <= this.band)) {
        this.band = b;
        break;
      }
      if (pass === 1 && b > this.band) this.band = b;
    }
    d.band = this.band;
    d.weak = this.weak;
    // The longest keep-alive the broker and the NAT allow (s).
    let limit = c.brokerKa > 0 && c.brokerKa < c.maxKa ? c.brokerKa : c.maxKa;
    if (c.natIdle > 0 && c.natIdle - c.natSlack < limit) limit = c.natIdle - c.natSlack;
    if (limit < c.minKa) limit = c.minKa;
    limit = Math.floor(limit);
    // Energy of one reconnect at the present signal (mA·s).
    const reconnectCost = this.weak ? c.connMas * c.weakMul : c.connMas;
    const recent = i.downlinkAgoSeconds >= 0 && i.downlinkAgoSeconds <= c.dlActive;

    // Interval.
    d.intervalSeconds = c.interval;
    if (!i.charging && this.band === BAND_CRITICAL) {
      d.intervalSeconds = Math.min(c.interval * c.stretch, c.maxIntvl);
    } else if (!i.charging && this.band === BAND_EMPTY) {
      d.intervalSeconds = c.maxIntvl;
    }

    // Mode.
    let why = "";
    let stay = false;
    if (i.charging) {
      stay = true;
      why = "charging";
    } else if (noReading) {
      stay = true;
      why = "no battery reading";
    } else if (this.band === BAND_HIGH) {
      stay = true;
      why = "battery high";
    } else if (this.band === BAND_MID && recent) {
      stay = true;
      why = "downlink active";
    } else {
      why = "battery " + bandName(this.band) + (this.band === BAND_MID ? ", no downlink" : "");
      // Deep sleep only pays when one interval connected (modem sleep plus the pings
      // of keep-alive `limit`) costs more than a reconnect (deep-sleep current is negligible).
      const n = d.intervalSeconds;
      if (n * c.stayMa + (limit > 0 ? Math.floor(n / limit) * c.pingMas : 0) <= reconnectCost) {
        stay = true;
        why = why + ", but a reconnect costs more than " + n + " s connected";
      }
    }
    if (this.weak) why = why + ", weak signal";
    d.mode = stay ? "stay" : "sleep";

    // Keep-alive.
    if (!stay) d.keepAlive = Math.min(c.sleepKa, limit);
    else if (i.charging) d.keepAlive = Math.min(c.chargeKa, limit);
    else d.keepAlive = limit;
    if (d.keepAlive < c.minKa) d.keepAlive = c.minKa;

    // Reconnect for a new keep-alive (stay mode, connected, keep-alive changed).
    const cur = i.currentKeepAlive;
    if (stay && cur > 0 && cur !== d.keepAlive) {
      if (cur > limit) {
        d.reconnect = true;
        why = why + "; reconnect: keep-alive " + cur + " s above the limit " + limit + " s";
      } else {
        const saving = c.horizon * c.pingMas * (1 / cur - 1 / d.keepAlive);
        if (saving > reconnectCost) {
          d.reconnect = true;
          why = why + "; reconnect: saves " + Math.round(saving) + " mAs/" + c.horizon + " s > cost " + reconnectCost;
        } else {
          why = why + "; keep-alive " + d.keepAlive + " s at next connect (saving " + Math.round(saving) + " < cost " + reconnectCost + ")";
        }
      }
    }
    d.reason = why;
    return d;
  }

  /** Band and signal flag in one small integer, for Storage across deep sleep. */
  state(): number {
    return (this.band + 1) * 2 + (this.weak ? 1 : 0);
  }

  restore(s: number): void {
    if (s < 0 || s > 11) return;
    this.band = Math.floor(s / 2) - 1;
    this.weak = s % 2 === 1;
  }
}

export function newPowerConfig(): PowerConfig {
  return new PowerConfig();
}
export function newPowerInputs(): PowerInputs {
  return new PowerInputs();
}
export function newKeepAlivePolicy(cfg: PowerConfig): KeepAlivePolicy {
  return new KeepAlivePolicy(cfg);
}
