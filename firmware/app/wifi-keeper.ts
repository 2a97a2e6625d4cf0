/**
 * Keeps the station joined. The ESP32 port tries a join three times, then reports
 * `disconnected`, calls the connect callback with the reason and stops the radio; a
 * link that drops later gets the same few immediate retries and is then left down
 * (libs/network/esp32/jswrap_esp32_network.c, event_handler and s_retry_num). One
 * access-point restart would leave a board offline for ever, so the firmware joins
 * again itself, with a growing, jittered back-off, on timers: readings go on (into
 * the offline queue) while it waits.
 */
import type { Platform, WifiRadio } from "../hal/platform";

export class WifiKeeper {
  p: Platform;
  radio: WifiRadio;
  ssid: string;
  password: string;
  /** Back-off between joins: doubles from min to max; each delay is 50..100 % of that. */
  minMs = 5000;
  maxMs = 300000;
  up = false;
  /** Joins attempted since the link was last up. */
  attempts = 0;
  private timer = -1;
  private joining = false;
  private tick: () => void;

  constructor(p: Platform, radio: WifiRadio, ssid: string, password: string) {
    this.p = p;
    this.radio = radio;
    this.ssid = ssid;
    this.password = password;
    this.tick = () => {
      this.timer = -1;
      this.join();
    };
  }

  start(): void {
    this.radio.onWifi((on: boolean) => this.changed(on));
    if (this.p.wifiUp()) this.changed(true);
    else this.join();
  }

  private changed(on: boolean): void {
    if (on) {
      if (!this.up) this.p.log("wifi up");
      this.up = true;
      this.attempts = 0;
      if (this.timer >= 0) this.p.cancel(this.timer);
      this.timer = -1;
      return;
    }
    if (this.up) this.p.log("wifi down");
    this.up = false;
    this.later();
  }

  private join(): void {
    if (this.p.wifiUp()) {
      this.changed(true);
      return;
    }
    this.joining = true;
    this.attempts++;
    let why = "";
    try {
      this.radio.wifiConnect(this.ssid, this.password, (err: string | null) => {
        this.joining = false;
        if (err !== null) {
          this.p.log("wifi failed: " + err);
          this.later();
        }
      });
    } catch (e) {
      why = typeof e === "string" ? e : "Wifi.connect threw";
    }
    if (why !== "") {
      this.joining = false;
      this.p.log("wifi failed: " + why);
      this.later();
    }
  }

  /** Join again after the back-off (once: a failed join reports both an event and a callback). */
  private later(): void {
    if (this.timer >= 0 || this.joining || this.up) return;
    let d = this.minMs;
    for (let i = 1; i < this.attempts && d < this.maxMs; i++) d = d * 2;
    if (d > this.maxMs) d = this.maxMs;
    d = Math.floor(d * 0.5 + this.p.random() * d * 0.5);
    this.p.log("wifi: join again in " + d + " ms");
    this.timer = this.p.after(d, this.tick);
  }
}
