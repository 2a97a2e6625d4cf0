/**
 * Platform on Espruino (ESP32): the thin glue between firmware/hal/platform.ts and
 * Espruino's own modules (net, tls, Wifi, Storage) and globals (ESP32, analogRead,
 * getTime, setTimeout, process). Nothing else in the firmware touches them.
 */
import { NO_BATTERY_READING } from "../hal/platform";
import type { DeviceSettings, Link, LinkHandler, Platform, WifiRadio } from "../hal/platform";

declare function require(name: string): any;
declare function getTime(): number;
declare function analogRead(pin: string): number;
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare const ESP32: { deepSleep(us: number): void; getWakeupCause(): number };
declare const process: { memory(): { free: number } };
declare const console: { log(line: string): void };

/**
 * Espruino's module loader. Called through this function (never with a literal at
 * the call site), so the bundler leaves the name for the board to resolve.
 */
function load(name: string): any {
  return require(name);
}

/** Settings file written by the host tools (flasher, emulator). */
export const SETTINGS_FILE = "wisp.json";

/**
 * A long sleep's end, as getTime() milliseconds in decimal: written once when a sleep
 * longer than one piece starts, only read at the wakes in between (flash wear).
 */
export const WAKE_FILE = "wisp.wake";

/**
 * The longest piece of deep sleep: ESP32.deepSleep takes a C int of microseconds
 * (targets/esp32/jswrap_esp32.c, jswrap_ESP32_deepSleep), so more than 2147 s wraps
 * around. 2000 s keeps a margin.
 */
export const SLEEP_PIECE_MS = 2000000;

/** Longest interval the app accepts (86400 s) plus a margin: a larger remainder is a clock that jumped. */
const SLEEP_LIMIT_MS = 90000000;

/** A socket from require("net"/"tls").connect. */
class EspLink implements Link {
  sock: any;
  closed = false;
  constructor(sock: any) {
    this.sock = sock;
  }
  write(data: string): boolean {
    if (this.closed) return false;
    this.sock.write(data);
    return true;
  }
  close(): void {
    if (this.closed) return;
    this.sock.end();
  }
}

function str(v: any, dflt: string): string {
  return typeof v === "string" ? v : dflt;
}

function strOrNull(v: any): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: any, dflt: number): number {
  return typeof v === "number" ? v : dflt;
}

export class EspruinoPlatform implements Platform, WifiRadio {
  private t0: number;
  private json: any = null;
  private storage: any;
  private wifi: any;

  /** Reads wisp.json, the only read of it on the board: the app asks this object for every setting. */
  constructor() {
    this.t0 = getTime();
    this.storage = load("Storage");
    this.wifi = load("Wifi");
    const j = this.storage.readJSON(SETTINGS_FILE, true);
    if (j !== undefined && j !== null && typeof j === "object") this.json = j;
  }

  millis(): number {
    return Math.floor((getTime() - this.t0) * 1000);
  }
  after(ms: number, fn: () => void): number {
    return setTimeout(fn, ms);
  }
  cancel(id: number): void {
    clearTimeout(id);
  }
  open(host: string, port: number, secure: boolean, h: LinkHandler): Link | null {
    if (!this.wifiUp()) return null;
    let reason = "closed";
    const sock = load(secure ? "tls" : "net").connect({ host: host, port: port }, () => h.onOpen());
    const link = new EspLink(sock);
    sock.on("data", (d: string) => h.onData(d));
    sock.on("error", (e: any) => {
      reason = e !== undefined && e !== null && typeof e.message === "string" ? e.message : "socket error";
    });
    sock.on("close", () => {
      if (link.closed) return;
      link.closed = true;
      h.onClose(reason);
    });
    return link;
  }
  wifiUp(): boolean {
    return this.wifi.getStatus().station === "connected";
  }
  /** getStatus() has the RSSI on ESP32; getDetails() has none (jswrap_esp32_network.c, jswrap_wifi_getStatus). */
  rssi(): number {
    return num(this.wifi.getStatus().rssi, 0);
  }
  /** One join: the port retries it a few times, then calls back with the reason (WifiKeeper joins again). */
  wifiConnect(ssid: string, password: string, done: (err: string | null) => void): void {
    this.wifi.connect(ssid, { password: password }, (err: any) => done(typeof err === "string" ? err : null));
  }
  onWifi(fn: (up: boolean) => void): void {
    this.wifi.on("connected", () => fn(true));
    this.wifi.on("disconnected", () => fn(false));
  }
  /** No ADC in the board data (`"adc": null`, or none at all): no reading, never a throw. */
  batteryVolts(): number {
    const b = this.board();
    if (b === null || b.adc === null || typeof b.adc !== "object") return NO_BATTERY_READING;
    const a = b.adc;
    const bottom = num(a.dividerBottomOhms, 1);
    const r = analogRead(str(a.pin, "D34"));
    return (r * num(a.refVolts, 3.3) * (num(a.dividerTopOhms, 0) + bottom)) / bottom;
  }
  freeMemory(): number {
    return process.memory().free;
  }
  /** Storage throws on a full or damaged flash: a named log line and a failed read/write, never a stuck app. */
  storageRead(name: string): string | null {
    let s: any = null;
    try {
      s = this.storage.read(name);
    } catch (e) {
      this.log("storage: read " + name + " failed");
    }
    return typeof s === "string" ? s : null;
  }
  storageWrite(name: string, data: string): boolean {
    let ok = false;
    try {
      ok = this.storage.write(name, data) === true;
    } catch (e) {
      ok = false;
    }
    if (!ok) this.log("storage: write " + name + " failed");
    return ok;
  }
  settings(): DeviceSettings | null {
    const j = this.json;
    if (j === null || typeof j.clientId !== "string" || typeof j.brokerHost !== "string") return null;
    return {
      clientId: j.clientId,
      brokerHost: j.brokerHost,
      brokerPort: num(j.brokerPort, 1883),
      brokerScheme: str(j.brokerScheme, "mqtt"),
      brokerPath: str(j.brokerPath, "/mqtt"),
      username: strOrNull(j.username),
      password: strOrNull(j.password),
      topicPrefix: str(j.topicPrefix, "wisp"),
      wifiSsid: str(j.wifiSsid, ""),
      wifiPassword: str(j.wifiPassword, ""),
    };
  }
  /** A number from wisp.json (the app's extras), or `dflt`. */
  extra(name: string, dflt: number): number {
    return this.json === null ? dflt : num(this.json[name], dflt);
  }
  extraStr(name: string, dflt: string): string {
    return this.json === null ? dflt : str(this.json[name], dflt);
  }
  /** An object from wisp.json (e.g. `power`), or null: read from the one parse at boot. */
  extraObject(name: string): any {
    if (this.json === null) return null;
    const v = this.json[name];
    return v !== undefined && v !== null && typeof v === "object" ? v : null;
  }
  extraBool(name: string, dflt: boolean): boolean {
    if (this.json === null) return dflt;
    const v = this.json[name];
    return typeof v === "boolean" ? v : dflt;
  }
  /** wisp.json `board.battery.curve` ([volts, percent] points, volts ascending), or null when the board data has none. */
  batteryCurve(): any {
    const b = this.board();
    if (b === null || b.battery === null || typeof b.battery !== "object") return null;
    const c = b.battery.curve;
    return c !== undefined && c !== null && typeof c === "object" ? c : null;
  }
  /** Board buffer size `name` (rx, tx, inflight, offlineQueue) from wisp.json, or `dflt`. */
  buffer(name: string, dflt: number): number {
    const b = this.board();
    return b === null || b.buffers === null || typeof b.buffers !== "object" ? dflt : num(b.buffers[name], dflt);
  }
  private board(): any {
    return this.json === null || this.json.board === null || typeof this.json.board !== "object" ? null : this.json.board;
  }
  /**
   * Sleeps longer than one piece are split: the end time goes to WAKE_FILE once, then
   * each wake before it only reads that file (resumeSleep) and sleeps on. ESP32 keeps
   * getTime() running through deep sleep (the RTC timer), so no count per piece is
   * written; the port has no RTC memory a program can use.
   */
  deepSleep(ms: number): void {
    if (ms > SLEEP_PIECE_MS) {
      this.storageWrite(WAKE_FILE, "" + Math.round(getTime() * 1000 + ms));
      ms = SLEEP_PIECE_MS;
    }
    ESP32.deepSleep(Math.round(ms) * 1000);
  }
  /**
   * At boot: woken by the timer before a long sleep's end, sleep the next piece at
   * once (no Wi-Fi, no app, no Storage write) and return true. A boot for another
   * reason forgets an unfinished long sleep.
   */
  resumeSleep(): boolean {
    const s = this.storageRead(WAKE_FILE);
    if (s === null) return false;
    if (ESP32.getWakeupCause() !== 4) {
      this.storage.erase(WAKE_FILE);
      return false;
    }
    const left = Number(s) - getTime() * 1000;
    if (!(left > 1000) || left > SLEEP_LIMIT_MS) return false;
    ESP32.deepSleep(Math.round(left > SLEEP_PIECE_MS ? SLEEP_PIECE_MS : left) * 1000);
    return true;
  }
  wakeCause(): string {
    return ESP32.getWakeupCause() === 4 ? "timer" : "power-on";
  }
  random(): number {
    return Math.random();
  }
  log(line: string): void {
    console.log(line);
  }
}
