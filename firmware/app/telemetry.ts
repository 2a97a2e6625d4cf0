/**
 * The telemetry application, on any Platform: connect with a will
 * (`<prefix>/<id>/status` = "offline", retained, QoS 1), publish the birth "online"
 * (retained) after each CONNACK, then compact JSON telemetry on
 * `<prefix>/<id>/telemetry` every interval. Two modes:
 *   - "stay":  stay connected; publish every interval (offline queue while down);
 *   - "sleep": per wake, publish one reading, then "sleeping" (retained), DISCONNECT,
 *              save the session and deep-sleep for the interval.
 */
import type { DeviceSettings, Platform } from "../hal/platform";
import { Client, ClientConfig } from "../mqtt/client";
import { clientErrorName } from "../mqtt/results";

/** App options beyond DeviceSettings (Storage wisp.json extras and board buffer sizes). */
export class AppOptions {
  keepAliveSeconds = 60;
  intervalSeconds = 60;
  qos = 1;
  cleanSession = false;
  /** "stay" or "sleep". */
  mode = "stay";
  rx = 512;
  tx = 512;
  inflight = 4;
  offlineQueue = 8;
  /** Sleep mode: give up on the broker after this long awake, and sleep anyway. */
  awakeLimitMs = 30000;
}

export const SESSION_FILE = "wisp.session";
const SEQ_FILE = "wisp.seq";

function num4(v: number): string {
  return String.fromCharCode(shr(v, 24) & 255, shr(v, 16) & 255, shr(v, 8) & 255, v & 255);
}

/** A reading with 3 decimals, without trailing float noise. */
function fixed3(v: number): string {
  return "" + Math.round(v * 1000) / 1000;
}

export class TelemetryApp {
  p: Platform;
  s: DeviceSettings;
  o: AppOptions;
  client: Client;
  seq = 0;
  statusTopic: string;
  telemetryTopic: string;
  private timer = -1;
  private waitId = -1;
  private phase = 0; // sleep mode: 0 telemetry pending, 1 awaiting its ack, 2 awaiting "sleeping" ack, 3 asleep
  private tick: () => void;

  constructor(p: Platform, s: DeviceSettings, o: AppOptions) {
    this.p = p;
    this.s = s;
    this.o = o;
    const base = s.topicPrefix + "/" + s.clientId;
    this.statusTopic = base + "/status";
    this.telemetryTopic = base + "/telemetry";
    const c = new ClientConfig();
    c.host = s.brokerHost;
    c.port = s.brokerPort;
    c.secure = s.brokerScheme === "mqtts" || s.brokerScheme === "wss";
    c.rxSize = o.rx;
    c.txSize = o.tx;
    c.slotSize = o.tx;
    c.inflight = o.inflight;
    c.queue = o.offlineQueue;
    const k = c.connect;
    k.clientId = s.clientId;
    k.cleanSession = o.cleanSession;
    k.keepAlive = o.keepAliveSeconds;
    k.username = s.username;
    k.password = s.password;
    k.willTopic = this.statusTopic;
    k.willMessage = "offline";
    k.willQos = 1;
    k.willRetain = true;
    c.birthTopic = this.statusTopic;
    c.birthMessage = "online";
    c.birthQos = 1;
    c.birthRetain = true;
    this.client = new Client(p, c);
    this.tick = () => {
      this.timer = -1;
      this.publishReading();
      if (this.o.mode !== "sleep") this.timer = this.p.after(this.o.intervalSeconds * 1000, this.tick);
    };
  }

  start(): void {
    const p = this.p;
    p.log("boot " + p.wakeCause() + " free " + p.freeMemory());
    const saved = p.storageRead(SEQ_FILE);
    if (saved !== null && strLen(saved) === 4) {
      this.seq = shl(strByte(saved, 0) & 127, 24) | shl(strByte(saved, 1), 16) | shl(strByte(saved, 2), 8) | strByte(saved, 3);
    }
    const c = this.client;
    if (!this.o.cleanSession && c.restoreSession(SESSION_FILE) && (c.queued() > 0 || c.inflightFree() < c.cfg.inflight)) {
      p.log("session restored inflight=" + (c.cfg.inflight - c.inflightFree()) + " queued=" + c.queued());
    }
    c.onConnect = (sp: boolean) => {
      if (this.o.mode === "sleep" && this.phase === 0) this.publishReading();
    };
    c.onPublished = (id: number) => this.acked(id);
    c.onError = (code: number, detail: string) => {
      if (code < -40 && code > -46) p.log("broker refused: " + clientErrorName(code));
    };
    c.connect();
    if (this.o.mode === "sleep") {
      this.timer = this.p.after(this.o.awakeLimitMs, () => {
        this.timer = -1;
        p.log("broker not reached: sleeping anyway");
        if (this.phase === 0) this.publishReading(); // into the offline queue, saved with the session
        this.sleep();
      });
    } else {
      this.timer = this.p.after(1000, this.tick);
    }
  }

  /** The telemetry JSON, built by hand (no JSON on the board). */
  reading(): string {
    const p = this.p;
    return (
      '{"seq":' + this.seq +
      ',"v":' + fixed3(p.batteryVolts()) +
      ',"rssi":' + p.rssi() +
      ',"up":' + Math.floor(p.millis() * 0.001) +
      ',"mem":' + p.freeMemory() +
      "}"
    );
  }

  publishReading(): void {
    this.seq++;
    this.p.storageWrite(SEQ_FILE, num4(this.seq));
    const r = this.client.publish(this.telemetryTopic, this.reading(), this.o.qos, false);
    if (r < 0) {
      this.p.log("publish seq=" + this.seq + " failed: " + clientErrorName(r));
      return;
    }
    this.p.log("publish seq=" + this.seq + (r === 65536 ? " queued" : ""));
    if (this.o.mode === "sleep") {
      this.phase = 1;
      this.waitId = r;
      if (r === 0) this.acked(0);
    }
  }

  private acked(id: number): void {
    if (this.o.mode !== "sleep" || id !== this.waitId) return;
    if (this.phase === 1) {
      this.phase = 2;
      this.waitId = this.client.publish(this.statusTopic, "sleeping", 1, true);
      if (this.waitId <= 0 || this.waitId === 65536) this.sleep();
    } else if (this.phase === 2) {
      this.sleep();
    }
  }

  private sleep(): void {
    if (this.phase === 3) return;
    this.phase = 3;
    if (this.timer >= 0) this.p.cancel(this.timer);
    this.client.disconnect();
    if (!this.o.cleanSession || this.client.queued() > 0) this.client.saveSession(SESSION_FILE);
    this.p.log("sleep " + this.o.intervalSeconds + " s");
    this.p.deepSleep(this.o.intervalSeconds * 1000);
  }
}
