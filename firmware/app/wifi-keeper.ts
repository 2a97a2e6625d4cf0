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

/** Longest back-off between joins (ms). */
const MAX_MS = 300000;

/** changed() steps: the link is down; it is up; join now; start (at construction). */
const W_DOWN = 0;
const W_UP = 1;
const W_JOIN = 2;
const W_START = 3;

export class WifiKeeper {
  /** The board: its Platform and its station radio (one object on Espruino). */
  private p: Platform & WifiRadio;
  private ssid: string;
  private password: string;
  /** Back-off between joins: doubles from minMs to MAX_MS; each delay is 50..100 % of that. */
  private minMs: number;
  private up = false;
  /** Joins attempted since the link was last up. */
  private attempts = 0;
  private timer = -1;
  private joining = false;

  /**
   * `minMs`: the first back-off (5000 ms; sleep mode, awake only briefly, tries again
   * sooner). Starts at once: listens for link events, then joins unless already up.
   */
  constructor(p: Platform & WifiRadio, ssid: string, password: string, minMs: number) {
    this.p = p;
    this.ssid = ssid;
    this.password = password;
    this.minMs = minMs;
    this.changed(W_START);
  }

  /**
   * Everything, in one method (each method holds RAM on Espruino; all of this is rare):
   * W_START listens for link events and joins unless the link is up; W_JOIN is one
   * join (after the back-off); W_UP: the link came up; W_DOWN: it is down (an event, or
   * a join that failed): join again after the back-off, once (a failed join reports
   * both an event and a callback).
   */
  private changed(step: number): void {
    const p = this.p;
    if (step === W_START) {
      // First, so the closure keeps only this call's step and p alive.
      p.onWifi((on: boolean) => this.changed(on ? W_UP : W_DOWN));
      step = p.wifiUp() ? W_UP : W_JOIN;
    }
    if (step === W_JOIN) {
      this.timer = -1;
      step = W_UP;
      if (!p.wifiUp()) {
        this.joining = true;
        this.attempts++;
        let why = "";
        try {
          p.wifiConnect(this.ssid, this.password, (err: string | null) => {
            this.joining = false;
            if (err !== null) {
              p.log("wifi failed: " + err);
              if (!this.up) this.changed(W_DOWN);
            }
          });
        } catch (e) {
          why = typeof e === "string" ? e : "Wifi.connect threw";
        }
        if (why === "") return;
        this.joining = false;
        p.log("wifi failed: " + why);
        if (this.up) return;
        step = W_DOWN;
      }
    }
    if (step === W_UP) {
      if (!this.up) p.log("wifi up");
      this.up = true;
      this.attempts = 0;
      if (this.timer >= 0) p.cancel(this.timer);
      this.timer = -1;
      return;
    }
    if (this.up) p.log("wifi down");
    this.up = false;
    if (this.timer >= 0 || this.joining) return;
    let d = this.minMs;
    for (let i = 1; i < this.attempts && d < MAX_MS; i++) d = d * 2;
    if (d > MAX_MS) d = MAX_MS;
    d = Math.floor(d * 0.5 + p.random() * d * 0.5);
    p.log("wifi: join again in " + d + " ms");
    this.timer = p.after(d, () => this.changed(W_JOIN));
  }
}
