/**
 * Wi-Fi: a model of the access point and the station radio (board level, lives
 * across reboots), and the Espruino `require("Wifi")` module built on it for
 * each program run.
 *
 * Model: the AP is up unless a scripted or random drop-out is in progress. It
 * follows the ESP32 port (libs/network/esp32/jswrap_esp32_network.c, Espruino 2v29):
 * - `Wifi.connect` sets a budget of three tries (`s_retry_num = 3` in
 *   jswrap_wifi_connect). Each try takes `connectMs` (board JSON
 *   `radio.wifiConnectMs`); a failed one (AP down, unknown SSID, wrong password)
 *   spends one and tries again at once. With the budget spent, the port emits
 *   `disconnected`, calls the connect callback with the reason and stops the radio
 *   (event_handler, SYSTEM_EVENT_STA_DISCONNECTED; stopWifiIfIdle).
 * - A success does not refill the budget, so a link that drops later gets what is
 *   left of it (two quick tries after a first-time join) and is then left down: the
 *   port never rejoins a lost AP by itself; the firmware must call `connect` again.
 * - `getDetails()` has no `rssi` (jswrap_wifi_getDetails); `getStatus()` has it
 *   (jswrap_wifi_getStatus, from esp_wifi_sta_get_ap_info).
 * RSSI is a base value plus seeded noise. Drop-outs are scheduled on the board
 * clock, at times relative to emulator start.
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
  /** Password the AP wants; undefined accepts any. A wrong one fails the join with "wrong_password". */
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

  /** Tries left of the port's join budget (s_retry_num). */
  private triesLeft = 0;
  private pendingResult?: (err: string | null) => void;

  /** `Wifi.connect`: up to three tries; `onResult(err)` fires once, on success or when the tries are spent. */
  connect(ssid: string, password: string | undefined, onResult: (err: string | null) => void): void {
    if (this.station === "connected" && this.wanted?.ssid === ssid && this.wanted.password === password) {
      this.clock.schedule(() => onResult(null), 0);
      return;
    }
    this.wanted = { ssid, password };
    this.triesLeft = 3;
    this.pendingResult = onResult;
    this.set("connecting");
    this.tryJoin();
  }

  /** Why a try fails now, or null when it succeeds. */
  private refusal(): string | null {
    if (!this.wanted || !this.apUp) return "no_ap_found";
    if (this.opts.ssid !== undefined && this.wanted.ssid !== this.opts.ssid) return "no_ap_found";
    if (this.opts.password !== undefined && this.wanted.password !== this.opts.password) return "wrong_password";
    return null;
  }

  private tryJoin(): void {
    if (this.connectTimer) return;
    this.connectTimer = this.clock.schedule(() => {
      this.connectTimer = 0;
      if (!this.wanted) return;
      const why = this.refusal();
      if (why === null) {
        this.set("connected");
        const r = this.pendingResult;
        this.pendingResult = undefined;
        r?.(null);
      } else {
        this.failed(why);
      }
    }, this.connectMs);
  }

  /** A disconnect event in the port: retry while the budget lasts, else give up and report. */
  private failed(reason: string): void {
    this.triesLeft--;
    if (this.triesLeft > 0) {
      if (this.station !== "connecting") this.set("connecting"); // silent in JS: the port retries without an event
      this.tryJoin();
      return;
    }
    this.wanted = null;
    const r = this.pendingResult;
    this.pendingResult = undefined;
    this.set("off", reason);
    r?.(reason);
  }

  disconnect(): void {
    this.wanted = null;
    this.triesLeft = 0;
    this.pendingResult = undefined;
    if (this.connectTimer) this.clock.cancel(this.connectTimer);
    this.connectTimer = 0;
    this.set("off", "assoc_leave");
  }

  /** Power loss / deep sleep: the radio is off and forgets the connection. */
  powerOff(): void {
    this.wanted = null;
    this.triesLeft = 0;
    this.pendingResult = undefined;
    if (this.connectTimer) this.clock.cancel(this.connectTimer);
    this.connectTimer = 0;
    this.station = "off"; // silent: the program run that listened is gone
  }

  /** Take the AP away (drop-out) or bring it back. Bringing it back rejoins nothing by itself. */
  setApUp(up: boolean): void {
    if (this.apUp === up) return;
    this.apUp = up;
    if (!up && this.station === "connected") {
      this.set("connecting", "beacon_timeout"); // sockets close; no JS event while the port retries
      this.failed("beacon_timeout");
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
  let lastSsid = model.wanted?.ssid ?? "";
  const unsubscribe = model.onChange((c) => {
    if (!alive()) return unsubscribe();
    const was = lastState;
    lastState = c.state;
    if (model.wanted) lastSsid = model.wanted.ssid;
    // The port reports a station event only when it gives up (off, with the reason), not per retry.
    if (c.state === "connected" && was !== "connected") em.emit("connected", realm({ ip: model.ip, netmask: "255.255.255.0", gw: "192.168.4.1" }));
    else if (c.state === "off" && c.reason !== undefined) em.emit("disconnected", realm({ ssid: lastSsid, mac: "ac:84:c6:00:00:01", reason: c.reason, msg: c.reason }));
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
      // No rssi here on ESP32 (jswrap_wifi_getDetails): getStatus() has it.
      const d = realm({
        status: model.station === "connected" ? "connected" : model.station === "connecting" ? "connecting" : "off",
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
