/**
 * Platform on Espruino (ESP32): the thin glue between firmware/hal/platform.ts and
 * Espruino's own modules (net, tls, Wifi, Storage) and globals (ESP32, analogRead,
 * getTime, setTimeout, process). Nothing else in the firmware touches them.
 *
 * RAM (issue 11): every method held costs blocks on the board, so this class has the
 * interface's methods and few more; wisp.json is parsed once at boot and dropped once
 * the app is built (main.ts), the battery ADC is kept as two numbers.
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
export function load(name: string): any {
  return require(name);
}

/**
 * The longest piece of deep sleep: ESP32.deepSleep takes a C int of microseconds
 * (targets/esp32/jswrap_esp32.c, jswrap_ESP32_deepSleep), so more than 2147 s wraps
 * around. 2000 s keeps a margin.
 */
export const SLEEP_PIECE_MS = 2000000;

/** deepSleep()'s `ms` at boot: resume a long sleep if one is under way (see deepSleep). */
export const RESUME_SLEEP = -1;

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

export class EspruinoPlatform implements Platform, WifiRadio {
  /**
   * Storage `wisp.json` (written by the host tools: flasher, emulator), parsed once in
   * the constructor, the only read of it on the board; null when missing or not an
   * object. Boot only: main.ts reads settings and extras from it, then sets it to null.
   */
  json: any = null;
  private t0: number;
  private storage: any;
  private wifi: any;
  /** Battery ADC pin ("" = none: wisp.json `board.adc` null or absent) and volts per analogRead() unit. */
  private pin = "";
  private scale = 0;
  /**
   * cancel(), random() and log() are the natives themselves, held in a field each (one
   * block) instead of a method wrapping them (~6 blocks): none of them looks at `this`.
   */
  cancel: (id: number) => void = clearTimeout;
  random: () => number = Math.random;
  log: (line: string) => void = console.log;

  constructor() {
    this.t0 = getTime();
    this.storage = load("Storage");
    this.wifi = load("Wifi");
    const j = this.storage.readJSON("wisp.json", true);
    if (j === undefined || j === null || typeof j !== "object") return;
    this.json = j;
    // The divider is undone once here: volts = reading * refVolts * (top + bottom) / bottom.
    const b = j.board;
    const a = b !== undefined && b !== null && typeof b === "object" ? b.adc : null;
    if (a === undefined || a === null || typeof a !== "object") return;
    const bottom = typeof a.dividerBottomOhms === "number" ? a.dividerBottomOhms : 1;
    const top = typeof a.dividerTopOhms === "number" ? a.dividerTopOhms : 0;
    this.pin = typeof a.pin === "string" ? a.pin : "D34";
    this.scale = ((typeof a.refVolts === "number" ? a.refVolts : 3.3) * (top + bottom)) / bottom;
  }

  millis(): number {
    return Math.floor((getTime() - this.t0) * 1000);
  }
  after(ms: number, fn: () => void): number {
    return setTimeout(fn, ms);
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
    const r = this.wifi.getStatus().rssi;
    return typeof r === "number" ? r : 0;
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
    return this.pin === "" ? NO_BATTERY_READING : analogRead(this.pin) * this.scale;
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
  /** From the boot-time parse of wisp.json (see `json`). */
  settings(): DeviceSettings | null {
    const j = this.json;
    if (j === null || typeof j.clientId !== "string" || typeof j.brokerHost !== "string") return null;
    const s: DeviceSettings = {
      clientId: j.clientId,
      brokerHost: j.brokerHost,
      brokerPort: 1883,
      brokerScheme: "mqtt",
      brokerPath: "/mqtt",
      username: typeof j.username === "string" ? j.username : null,
      password: typeof j.password === "string" ? j.password : null,
      topicPrefix: "wisp",
      wifiSsid: "",
      wifiPassword: "",
    };
    // Each kept at its default unless wisp.json has a value of the same type.
    const a: any = s;
    for (const n of ["brokerPort", "brokerScheme", "brokerPath", "topicPrefix", "wifiSsid", "wifiPassword"]) if (typeof j[n] === typeof a[n]) a[n] = j[n];
    return s;
  }
  /**
   * Sleeps longer than one piece are split: the end time goes to Storage `wisp.wake`
   * (getTime() milliseconds in decimal) once, then each wake before it only reads that
   * file and sleeps on. ESP32 keeps getTime() running through deep sleep (the RTC
   * timer), so no count per piece is written; the port has no RTC memory a program can use.
   *
   * RESUME_SLEEP (at boot; one method with the sleep itself, as each method holds RAM):
   * woken by the timer before a long sleep's end, sleep the next piece at once (no
   * Wi-Fi, no app, no Storage write) and return true. A boot for another reason
   * forgets an unfinished long sleep. Otherwise false.
   */
  deepSleep(ms: number): boolean {
    if (ms === RESUME_SLEEP) {
      const s = this.storageRead("wisp.wake");
      if (s === null) return false;
      if (ESP32.getWakeupCause() !== 4) {
        this.storage.erase("wisp.wake");
        return false;
      }
      const left = Number(s) - getTime() * 1000;
      if (!(left > 1000) || left > SLEEP_LIMIT_MS) return false;
      ms = left;
    } else if (ms > SLEEP_PIECE_MS) {
      this.storageWrite("wisp.wake", "" + Math.round(getTime() * 1000 + ms));
    }
    ESP32.deepSleep(Math.round(ms > SLEEP_PIECE_MS ? SLEEP_PIECE_MS : ms) * 1000);
    return true;
  }
  wakeCause(): string {
    return ESP32.getWakeupCause() === 4 ? "timer" : "power-on";
  }
}
