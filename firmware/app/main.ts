/**
 * The Espruino app entry (dist/espruino/app.js): Espruino platform + settings from
 * Storage wisp.json + the telemetry app. wisp.json is read once, by EspruinoPlatform;
 * everything here comes from that one read (settings(), extra*(), buffer()).
 */
import { EspruinoPlatform } from "../platform/espruino";
import { AppOptions, TelemetryApp } from "./telemetry";
import { WifiKeeper } from "./wifi-keeper";
import type { DeviceSettings, Platform } from "../hal/platform";
import type { WsPlatform } from "../net/websocket";

declare function require(name: string): any;

/**
 * The WebSocket transport for ws:// and wss:// brokers, from the Storage module
 * `wisp-ws` (dist/espruino/wsnet.js, which wisp flash and both emulators install
 * beside .bootcde: host-tools/device/app-modules.ts). Loaded only here, so an app on
 * plain TCP never holds its ~400 blocks. null (and a console line) when it is missing.
 */
function wsTransport(p: EspruinoPlatform, s: DeviceSettings, frameSize: number): Platform | null {
  const path = typeof s.brokerPath === "string" ? s.brokerPath : "/mqtt";
  try {
    const m = require("wisp-ws");
    const t: WsPlatform = new m.WsPlatform(p, path, frameSize, 512);
    return t;
  } catch (e) {
    p.log("no WebSocket transport: Storage module wisp-ws is missing (wisp flash installs it): " + e);
    return null;
  }
}

/** wisp.json `power`: every number goes through PowerConfig.setField (named errors). */
function powerSettings(o: AppOptions, p: EspruinoPlatform): void {
  const j = p.extraObject("power");
  if (j === null) return;
  const names: string[] = Object.keys(j);
  for (const n of names) {
    const err = o.power.setField(n, j[n]);
    if (err !== "") p.log("config: " + err + " (default kept)");
  }
  const bad = o.power.validate();
  if (bad !== "") p.log("config: " + bad);
}

/** The board's battery curve (wisp.json board.battery.curve); without one the policy's DEFAULT_CURVE stays. */
function batteryCurve(o: AppOptions, p: EspruinoPlatform): void {
  const c = p.batteryCurve();
  if (c === null) return;
  const err = o.power.setCurve(c);
  if (err !== "") p.log("config: " + err + " (default curve kept)");
}

const p = new EspruinoPlatform();
const s = p.settings();
if (p.resumeSleep()) {
  // a wake in the middle of a long sleep: asleep again already
} else if (s === null) {
  p.log("no device settings: write wisp.json (wisp flash / wisp emulate do)");
} else {
  const o = new AppOptions();
  o.keepAliveSeconds = p.extra("keepAliveSeconds", o.keepAliveSeconds);
  o.intervalSeconds = p.extra("intervalSeconds", o.intervalSeconds);
  o.qos = p.extra("qos", o.qos);
  o.cleanSession = p.extraBool("cleanSession", o.cleanSession);
  o.mode = p.extraStr("mode", o.mode);
  o.commands = p.extraBool("commands", o.commands);
  o.rx = p.buffer("rx", o.rx);
  o.tx = p.buffer("tx", o.tx);
  o.inflight = p.buffer("inflight", o.inflight);
  o.offlineQueue = p.buffer("offlineQueue", o.offlineQueue);
  powerSettings(o, p);
  batteryCurve(o, p);
  const ws = s.brokerScheme === "ws" || s.brokerScheme === "wss";
  if (ws) o.transport = wsTransport(p, s, o.tx);
  if (!ws || o.transport !== null) {
    const app = new TelemetryApp(p, s, o);
    const wifi = new WifiKeeper(p, p, s.wifiSsid, s.wifiPassword);
    if (o.mode === "sleep") wifi.minMs = 1000; // awake briefly: try again soon
    wifi.start();
    app.start();
  }
}
