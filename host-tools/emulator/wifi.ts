/**
 * Wi-Fi: a model of the access point and the station radio (board level, lives
 * across reboots), and the Espruino `require("Wifi")` module built on it for
 * each program run.
 *
 * Model: the AP is up unless a scripted or random drop-out is in progress. A
 * station connect takes `connectMs` (board JSON `radio.wifiConnectMs`) once the
 * AP is up; a drop-out disconnects the station, and (as on Espruino ESP32) the
 * station retries by itself when the AP is back, until `disconnect()`. RSSI is a
 * base value plus seeded noise. Drop-outs are scheduled on the board clock, at
 * times relative to emulator start.
 */
import type { Clock } from "./clock.ts";
import { EspruinoEmitter, type Invoke } from "./emitter.ts";
import { seededRng, type Rng } from "./random.ts";

export type StationState = "off" | "connecting" | "connected";

export interface Dropout {
  /** ms after emulator start. */
  atMs: number;
  durationMs: number;
}

export interface WifiModelOptions {
  /** SSID of the emulated AP; undefined accepts any SSID. */
  ssid?: string;
  /** Password the AP wants; undefined accepts any. A wrong one fails with "auth_fail"-like error. */
  password?: string;
  connectMs?: number;
  rssi?: number;
  rssiNoiseDb?: number;
  dropouts?: Dropout[];
  /** Random drop-outs: exponential gaps with this mean (ms), each lasting meanDurationMs on average. */
  randomDropouts?: { meanIntervalMs: number; meanDurationMs: number };
  seed?: number;
  ip?: string;
}

export type WifiChange = { state: StationState; reason?: string };

export class WifiModel {
  station: StationState = "off";
  apUp = true;
  wanted: { ssid: string; password?: string } | null = null;
  readonly ip: string;
  readonly mac = "24:0a:c4:00:00:01";
  private baseRssi: number;
  private readonly noise: number;
  private readonly rng: Rng;
  private connectTimer = 0;
  private listeners: ((c: WifiChange) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly opts: WifiModelOptions,
    defaultConnectMs: number,
  ) {
    this.ip = opts.ip ?? "192.168.4.20";
    this.baseRssi = opts.rssi ?? -60;
    this.noise = opts.rssiNoiseDb ?? 2;
    this.rng = seededRng((opts.seed ?? 1) ^ 0x57a1);
    this.connectMs = opts.connectMs ?? defaultConnectMs;
    for (const d of opts.dropouts ?? []) this.scheduleDropout(d.atMs, d.durationMs);
    if (opts.randomDropouts) this.scheduleRandom(opts.randomDropouts);
  }
  readonly connectMs: number;

  onChange(fn: (c: WifiChange) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }
  private set(state: StationState, reason?: string): void {
    if (this.station === state) return;
    this.station = state;
    for (const fn of [...this.listeners]) fn({ state, reason });
  }

  rssi(): number {
    if (this.station !== "connected") return 0;
    return Math.round(this.baseRssi + (this.rng() * 2 - 1) * this.noise);
  }
  /** Script the signal strength (dBm). */
  setRssi(dbm: number): void {
    this.baseRssi = dbm;
  }

  /** Start (or keep) connecting; `onResult(err)` fires once on success or a hard failure. */
  connect(ssid: string, password: string | undefined, onResult: (err: string | null) => void): void {
    if (this.opts.ssid !== undefined && ssid !== this.opts.ssid) {
      // Espruino keeps retrying an unknown SSID and reports nothing; status stays "connecting".
      this.wanted = { ssid, password };
      this.set("connecting");
      return;
    }
    if (this.opts.password !== undefined && password !== this.opts.password) {
      this.set("off", "wrong_password");
      this.clock.schedule(() => onResult("wrong_password"), this.connectMs);
      return;
    }
    if (this.station === "connected" && this.wanted?.ssid === ssid) {
      this.clock.schedule(() => onResult(null), 0);
      return;
    }
    this.wanted = { ssid, password };
    this.set("connecting");
    this.tryAssociate(onResult);
  }

  private pendingResult?: (err: string | null) => void;
  private tryAssociate(onResult?: (err: string | null) => void): void {
    if (onResult) this.pendingResult = onResult;
    if (!this.apUp || !this.wanted || this.connectTimer) return;
    this.connectTimer = this.clock.schedule(() => {
      this.connectTimer = 0;
      if (!this.apUp || !this.wanted) return;
      this.set("connected");
      const r = this.pendingResult;
      this.pendingResult = undefined;
      r?.(null);
    }, this.connectMs);
  }

  disconnect(): void {
    this.wanted = null;
    this.pendingResult = undefined;
    if (this.connectTimer) this.clock.cancel(this.connectTimer);
    this.connectTimer = 0;
    this.set("off", "assoc_leave");
  }

  /** Power loss / deep sleep: the radio is off and forgets the connection. */
  powerOff(): void {
    this.wanted = null;
    this.pendingResult = undefined;
    if (this.connectTimer) this.clock.cancel(this.connectTimer);
    this.connectTimer = 0;
    this.station = "off"; // silent: the program run that listened is gone
  }

  /** Take the AP away (drop-out) or bring it back. */
  setApUp(up: boolean): void {
    if (this.apUp === up) return;
    this.apUp = up;
    if (!up) {
      if (this.connectTimer) {
        this.clock.cancel(this.connectTimer);
        this.connectTimer = 0;
      }
      if (this.station === "connected") this.set("connecting", "beacon_timeout");
    } else if (this.wanted) {
      this.tryAssociate();
    }
  }

  private scheduleDropout(atMs: number, durationMs: number): void {
    this.clock.schedule(() => {
      this.setApUp(false);
      this.clock.schedule(() => this.setApUp(true), durationMs);
    }, atMs);
  }

  private scheduleRandom(r: { meanIntervalMs: number; meanDurationMs: number }): void {
    const exp = (mean: number) => -Math.log(1 - this.rng()) * mean;
    const next = () => {
      this.clock.schedule(() => {
        this.setApUp(false);
        this.clock.schedule(() => {
          this.setApUp(true);
          next();
        }, exp(r.meanDurationMs));
      }, exp(r.meanIntervalMs));
    };
    next();
  }
}

/** The object firmware gets from `require("Wifi")` during one program run. */
export function makeWifiModule(model: WifiModel, invoke: Invoke, realm: <T>(v: T) => T, alive: () => boolean) {
  const em = new EspruinoEmitter(invoke);
  let hostname = "espruino";
  let lastState: StationState = model.station;
  const unsubscribe = model.onChange((c) => {
    if (!alive()) return unsubscribe();
    const was = lastState;
    lastState = c.state;
    if (c.state === "connected") em.emit("connected", realm({ ip: model.ip, netmask: "255.255.255.0", gw: "192.168.4.1" }));
    else if (was === "connected") em.emit("disconnected", realm({ ssid: model.wanted?.ssid ?? "", mac: "ac:84:c6:00:00:01", reason: c.reason ?? "unspecified" }));
  });
  const status = () =>
    realm({
      station: model.station,
      ap: "disabled",
      mode: model.station === "off" ? "off" : "sta",
      phy: "11n",
      powersave: "ps-poll",
      savedMode: "off",
      rssi: model.rssi(),
    });
  const reply = (cb: unknown, v: unknown, withErr: boolean) => {
    if (typeof cb === "function") invoke(cb, withErr ? [null, v] : [v]);
    return v;
  };
  const mod = Object.assign(em, {
    connect(ssid: string, opts?: { password?: string }, cb?: Function) {
      if (typeof opts === "function") {
        cb = opts as unknown as Function;
        opts = {};
      }
      model.connect(String(ssid), opts?.password, (err) => {
        if (alive() && typeof cb === "function") invoke(cb, [err]);
      });
    },
    disconnect(cb?: Function) {
      model.disconnect();
      if (typeof cb === "function") invoke(cb, []);
    },
    getStatus(cb?: Function) {
      return reply(cb, status(), false);
    },
    getDetails(cb?: Function) {
      const d = realm({
        status: model.station === "connected" ? "connected" : model.station === "connecting" ? "connecting" : "off",
        rssi: model.rssi(),
        ssid: model.wanted?.ssid ?? "",
        authMode: "wpa2",
        savedSsid: null,
      });
      return reply(cb, d, false);
    },
    getIP(cb?: Function) {
      const ip = model.station === "connected"
        ? realm({ ip: model.ip, netmask: "255.255.255.0", gw: "192.168.4.1", mac: model.mac })
        : realm({ mac: model.mac });
      return reply(cb, ip, true);
    },
    setHostname(h: string) {
      hostname = String(h);
    },
    getHostname(cb?: Function) {
      return reply(cb, hostname, false);
    },
    save() {},
    stopAP() {},
    scan(cb: Function) {
      const list = model.apUp ? [{ ssid: model.wanted?.ssid ?? "wisp-ap", rssi: model.rssi() || -60, authMode: "wpa2", channel: 6 }] : [];
      if (typeof cb === "function") invoke(cb, [realm(list)]);
    },
  });
  return mod;
}
