/**
 * The platform interface the firmware talks to: types only.
 *
 * The MQTT client and the app see the board only through `Platform`; one glue file
 * per OS (firmware/platform/espruino.ts, later nodemcu.ts for Lua) implements it
 * with that OS's own APIs. Data crosses it as byte strings (see intrinsics.d.ts).
 */

/** What batteryVolts() returns on a board that cannot measure its battery (no ADC). */
export const NO_BATTERY_READING = -1;

/** An open transport connection (TCP, TLS or WebSocket-over-TCP underneath). */
export interface Link {
  /** Queue bytes for sending. Returns false when the link is already closed. */
  write(data: string): boolean;
  /** Close the connection; onClose follows. */
  close(): void;
}

/** Callbacks for one connection. */
export interface LinkHandler {
  onOpen(): void;
  onData(data: string): void;
  onClose(reason: string): void;
}

/** What the device needs to know, written by the host tools to Storage, never printed. */
export interface DeviceSettings {
  clientId: string;
  brokerHost: string;
  brokerPort: number;
  /** "mqtt" (TCP), "mqtts" (TLS), "ws" or "wss". */
  brokerScheme: string;
  /** WebSocket path for "ws"/"wss" (absent: "/mqtt"). */
  brokerPath?: string;
  username: string | null;
  password: string | null;
  topicPrefix: string;
  wifiSsid: string;
  wifiPassword: string;
}

/** The station radio, where the firmware joins the network itself (Espruino: require("Wifi")). */
export interface WifiRadio {
  /** Start a join; `done` hears null (joined) or the reason it failed. May throw. */
  wifiConnect(ssid: string, password: string, done: (err: string | null) => void): void;
  /** `fn(true)` when the station got an address, `fn(false)` when the port gave up on it. */
  onWifi(fn: (up: boolean) => void): void;
}

export interface Platform {
  /** Milliseconds since boot, monotonic. */
  millis(): number;
  /** Run `fn` once after `ms`; returns an id for cancel(). */
  after(ms: number, fn: () => void): number;
  cancel(id: number): void;
  /** Open a connection; the handler hears the outcome. Returns null when it cannot even start (no Wi-Fi). */
  open(host: string, port: number, secure: boolean, handler: LinkHandler): Link | null;
  /** Wi-Fi association state and signal strength (dBm). */
  wifiUp(): boolean;
  rssi(): number;
  /**
   * Battery voltage at the cell, after the board's divider is undone; NO_BATTERY_READING
   * (negative) when the board has no battery ADC (boards/*.json `"adc": null`).
   */
  batteryVolts(): number;
  /** Free interpreter memory, in the platform's units (Espruino: variable blocks). */
  freeMemory(): number;
  /** Persistent storage (flash): survives resets and deep sleep. */
  storageRead(name: string): string | null;
  storageWrite(name: string, data: string): boolean;
  /** Device settings from Storage; null when the board was flashed without them. */
  settings(): DeviceSettings | null;
  /** Power everything down for `ms`; the board reboots afterwards (RAM is lost). */
  deepSleep(ms: number): void;
  /** Why the board booted: "power-on", "timer" (deep-sleep wake) or "reset". */
  wakeCause(): string;
  /** A pseudo-random number in [0, 1), for back-off jitter. */
  random(): number;
  /** One line to the console. */
  log(line: string): void;
}

/** The part of Platform the MQTT client uses (firmware/mqtt/client.ts). */
export type ClientPlatform = Pick<Platform, "millis" | "after" | "cancel" | "open" | "wifiUp" | "storageRead" | "storageWrite" | "random" | "log">;
