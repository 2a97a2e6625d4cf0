/**
 * The Espruino app entry (dist/espruino/app.js): Espruino platform + settings from
 * Storage wisp.json + the telemetry app. wisp.json is read once, by EspruinoPlatform;
 * everything here comes from that one read (settings(), `json`).
 */
import { EspruinoPlatform, load, RESUME_SLEEP } from "../platform/espruino";
import { PowerConfig } from "../power/policy";
import { TelemetryApp } from "./telemetry";
import type { AppOptions } from "./telemetry";
import { WifiKeeper } from "./wifi-keeper";
import type { WsPlatform } from "../net/websocket";

/**
 * Boot, once. A function, not top-level code: its locals (wisp.json, the settings,
 * the options) are freed when it returns, and the platform drops its copy of
 * wisp.json here, so the running app holds only what it uses (issue 11).
 */
function boot(): void {
  const p = new EspruinoPlatform();
  const j = p.json;
  const s = p.settings();
  p.json = null;
  if (p.deepSleep(RESUME_SLEEP)) return; // a wake in the middle of a long sleep: asleep again already
  if (s === null) {
    p.log("no device settings: write wisp.json (wisp flash / wisp emulate do)");
    return;
  }
  // The app's extras and the board's buffer sizes, each kept at its default unless
  // wisp.json has a value of the same type.
  const o: AppOptions = {
    keepAliveSeconds: 60,
    intervalSeconds: 60,
    qos: 1,
    cleanSession: false,
    mode: "auto",
    power: null,
    rx: 512,
    tx: 512,
    inflight: 4,
    offlineQueue: 8,
    commands: true,
    transport: null,
  };
  const a: any = o;
  for (const n of ["keepAliveSeconds", "intervalSeconds", "qos", "cleanSession", "mode", "commands"]) if (typeof j[n] === typeof a[n]) a[n] = j[n];
  const board = j.board !== undefined && j.board !== null && typeof j.board === "object" ? j.board : null;
  const buffers = board !== null && board.buffers !== null && typeof board.buffers === "object" ? board.buffers : null;
  if (buffers !== null) for (const n of ["rx", "tx", "inflight", "offlineQueue"]) if (typeof buffers[n] === typeof a[n]) a[n] = buffers[n];
  // wisp.json `power`: every number goes through PowerConfig.setField (named errors).
  const pc = new PowerConfig();
  const pw = j.power;
  if (pw !== undefined && pw !== null && typeof pw === "object") {
    const names: string[] = Object.keys(pw);
    for (const n of names) {
      const err = pc.setField(n, pw[n]);
      if (err !== "") p.log("config: " + err + " (default kept)");
    }
    const bad = pc.validate();
    if (bad !== "") p.log("config: " + bad);
  }
  // The board's battery curve (board.battery.curve); without one the policy's fallback curve stays.
  const bat = board !== null && board.battery !== null && typeof board.battery === "object" ? board.battery : null;
  const curve = bat !== null ? bat.curve : null;
  if (curve !== undefined && curve !== null && typeof curve === "object") {
    const err = pc.setCurve(curve);
    if (err !== "") p.log("config: " + err + " (default curve kept)");
  }
  o.power = pc;
  // ws:// and wss://: the WebSocket transport from the Storage module `wisp-ws`
  // (dist/espruino/wsnet.js, which wisp flash and both emulators install beside
  // .bootcde: host-tools/device/app-modules.ts). Loaded only here, so an app on plain
  // TCP never holds its ~400 blocks. Missing: a console line and no app.
  if (s.brokerScheme === "ws" || s.brokerScheme === "wss") {
    try {
      const m = load("wisp-ws");
      const t: WsPlatform = new m.WsPlatform(p, typeof s.brokerPath === "string" ? s.brokerPath : "/mqtt", o.tx, 512);
      o.transport = t;
    } catch (e) {
      p.log("no WebSocket transport: Storage module wisp-ws is missing (wisp flash installs it): " + e);
      return;
    }
  }
  const app = new TelemetryApp(p, s, o);
  // Sleep mode is awake only briefly: a failed join is tried again sooner.
  new WifiKeeper(p, s.wifiSsid, s.wifiPassword, o.mode === "sleep" ? 1000 : 5000); // starts joining
  app.start();
}

boot();
