/**
 * The Espruino app entry (dist/espruino/app.js): Espruino platform + settings from
 * Storage wisp.json + the telemetry app.
 */
import { EspruinoPlatform } from "../platform/espruino";
import { AppOptions, TelemetryApp } from "./telemetry";

const p = new EspruinoPlatform();
const s = p.settings();
if (s === null) {
  p.log("no device settings: write wisp.json (wisp flash / wisp emulate do)");
} else {
  const o = new AppOptions();
  o.keepAliveSeconds = p.extra("keepAliveSeconds", o.keepAliveSeconds);
  o.intervalSeconds = p.extra("intervalSeconds", o.intervalSeconds);
  o.qos = p.extra("qos", o.qos);
  o.cleanSession = p.extraBool("cleanSession", o.cleanSession);
  o.mode = p.extraStr("mode", o.mode);
  o.rx = p.buffer("rx", o.rx);
  o.tx = p.buffer("tx", o.tx);
  o.inflight = p.buffer("inflight", o.inflight);
  o.offlineQueue = p.buffer("offlineQueue", o.offlineQueue);
  const app = new TelemetryApp(p, s, o);
  let up = false;
  p.onWifi((on: boolean) => {
    if (on !== up) p.log(on ? "wifi up" : "wifi down");
    up = on;
  });
  if (p.wifiUp()) {
    up = true;
    p.log("wifi up");
  } else {
    p.wifiConnect(s.wifiSsid, s.wifiPassword, (err: string | null) => {
      if (err !== null) p.log("wifi failed: " + err);
    });
  }
  app.start();
}
