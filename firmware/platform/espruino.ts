/**
 * Platform on Espruino (ESP32): the thin glue between firmware/hal/platform.ts and
 * Espruino's own modules (net, tls, Wifi, Storage) and globals (ESP32, analogRead,
 * getTime, setTimeout, process). Nothing else in the firmware touches them.
 */
import type { DeviceSettings, Link, LinkHandler, Platform } from "../hal/platform";

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

export class EspruinoPlatform implements Platform {
  private t0: number;
  private json: any = null;
  private storage: any;
  private wifi: any;

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
  rssi(): number {
    return num(this.wifi.getDetails().rssi, 0);
  }
  /** Start the station (association is kept and retried by Espruino itself). */
  wifiConnect(ssid: string, password: string, done: (err: string | null) => void): void {
    this.wifi.connect(ssid, { password: password }, (err: any) => done(typeof err === "string" ? err : null));
  }
  onWifi(fn: (up: boolean) => void): void {
    this.wifi.on("connected", () => fn(true));
    this.wifi.on("disconnected", () => fn(false));
  }
  batteryVolts(): number {
    const b = this.board();
    if (b === null || typeof b.adc !== "object") return 0;
    const a = b.adc;
    const bottom = num(a.dividerBottomOhms, 1);
    const r = analogRead(str(a.pin, "D34"));
    return (r * num(a.refVolts, 3.3) * (num(a.dividerTopOhms, 0) + bottom)) / bottom;
  }
  freeMemory(): number {
    return process.memory().free;
  }
  storageRead(name: string): string | null {
    const s = this.storage.read(name);
    return typeof s === "string" ? s : null;
  }
  storageWrite(name: string, data: string): boolean {
    return this.storage.write(name, data) === true;
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
  extraBool(name: string, dflt: boolean): boolean {
    if (this.json === null) return dflt;
    const v = this.json[name];
    return typeof v === "boolean" ? v : dflt;
  }
  /** Board buffer size `name` (rx, tx, inflight, offlineQueue) from wisp.json, or `dflt`. */
  buffer(name: string, dflt: number): number {
    const b = this.board();
    return b === null || typeof b.buffers !== "object" ? dflt : num(b.buffers[name], dflt);
  }
  private board(): any {
    return this.json === null || typeof this.json.board !== "object" ? null : this.json.board;
  }
  deepSleep(ms: number): void {
    ESP32.deepSleep(ms * 1000);
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
