/**
 * The telemetry application, on any Platform: connect with a will
 * (`<prefix>/<id>/status` = "offline", retained, QoS 1), publish the birth "online"
 * (retained) after each CONNACK, then compact JSON telemetry on
 * `<prefix>/<id>/telemetry` every interval.
 * Modes:
 *   - "stay":  stay connected; publish every interval (offline queue while down);
 *   - "sleep": per wake, publish one reading, then "sleeping" (retained), DISCONNECT,
 *              save the session and deep-sleep for the interval;
 *   - "auto":  the KeepAlivePolicy (firmware/power) picks stay or sleep, the keep-alive
 *              and the interval at boot/wake and after each reading in stay mode;
 *              every decision is logged as a `policy ...` console line.
 * Commands on `<prefix>/<id>/cmd` (QoS 1): `interval=N` (N whole seconds, 10..86400);
 * anything else is rejected with a console line. A command counts as downlink activity.
 */
import type { DeviceSettings, Platform } from "../hal/platform";
import { Client, ClientConfig } from "../mqtt/client";
import { clientErrorName, isConnackError, isPacketId, QUEUED } from "../mqtt/results";
import { bandName, NO_BATTERY_PCT, KeepAlivePolicy, MODE_SLEEP, PowerConfig, PowerDecision, PowerInputs } from "../power/policy";

/** App options beyond DeviceSettings (Storage wisp.json extras and board buffer sizes). */
export class AppOptions {
  keepAliveSeconds = 60;
  intervalSeconds = 60;
  qos = 1;
  cleanSession = false;
  /** "stay", "sleep" or "auto" (the power policy decides). */
  mode = "auto";
  /** Power policy thresholds (mode "auto"). */
  power: PowerConfig = new PowerConfig();
  rx = 512;
  tx = 512;
  inflight = 4;
  offlineQueue = 8;
  /** Sleep mode: how often the client checks for Wi-Fi while associating (ms); short, so the radio is not on idle after association. */
  wakePollMs = 100;
  /** Subscribe to `<prefix>/<id>/cmd` for commands such as interval=N (docs/power.md). */
  commands = true;
  /** Sleep mode: give up on the broker after this long awake, and sleep anyway. */
  awakeLimitMs = 30000;
  /** Before deep sleep: wait at most this long for the socket to close (the DISCONNECT to leave). */
  flushMs = 2000;
  /**
   * What the client opens its links through instead of the board's Platform: the
   * WebSocket transport for ws:// and wss:// (main.ts loads it from Storage only then,
   * so a plain TCP app holds none of its blocks); null = the Platform itself.
   */
  transport: Platform | null = null;
}

export const SESSION_FILE = "wisp.session";
const SEQ_FILE = "wisp.seq";
/** Policy state across deep sleep: band/weak state, -RSSI, downlink flag (3 bytes). */
export const POWER_FILE = "wisp.power";

/** A whole number from decimal digits, or -1. */
function digits(s: string, from: number): number {
  let v = 0;
  if (strLen(s) <= from || strLen(s) - from > 6) return -1;
  for (let i = from; i < strLen(s); i++) {
    const c = strByte(s, i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

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
  cmdTopic: string;
  /** `<prefix>/<id>/problem`: why the client had backed off further, published once connected. */
  problemTopic: string;
  /** Mode in effect now ("stay" or "sleep"); with "auto" the policy sets it. */
  runMode: string;
  /** Interval in effect now (s). */
  interval: number;
  policy: KeepAlivePolicy | null = null;
  /** millis() of the last command received; -1 none. */
  lastDownlink = -1;
  /** From Storage: a command arrived during the previous wake. */
  private downlinkBefore = false;
  private savedRssi = 0;
  /** What publish() returned for the last reading. */
  private lastId = -1;
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
    this.cmdTopic = base + "/cmd";
    this.problemTopic = base + "/problem";
    this.runMode = o.mode === "sleep" ? "sleep" : "stay";
    this.interval = o.intervalSeconds;
    if (o.mode === "auto") {
      o.power.intervalSeconds = o.intervalSeconds;
      if (o.power.maxIntervalSeconds < o.intervalSeconds) o.power.maxIntervalSeconds = o.intervalSeconds;
      this.policy = new KeepAlivePolicy(o.power);
    }
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
    this.client = new Client(o.transport !== null ? o.transport : p, c);
    this.tick = () => {
      this.timer = -1;
      this.publishReading();
      if (this.runMode === "sleep") return;
      if (this.policy !== null) this.review();
      if (this.runMode !== "sleep") this.timer = this.p.after(this.interval * 1000, this.tick);
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
    if (this.policy !== null) this.firstDecision();
    if (this.o.commands) c.subscribe([this.cmdTopic], [1], (topic: string, payload: string, qos: number, retain: boolean) => this.command(payload));
    c.onConnect = (sp: boolean) => {
      this.reportTrouble();
      // With a command subscription pending, sleep mode waits for its SUBACK so that
      // queued commands arrive before the board goes back to sleep.
      if (this.runMode === "sleep" && this.phase === 0 && c.subscription(this.cmdTopic) < 0 && this.o.commands) return;
      if (this.runMode === "sleep" && this.phase === 0) this.publishReading();
    };
    c.onSubscribed = (filter: string, code: number) => {
      if (this.runMode === "sleep" && this.phase === 0) this.publishReading();
    };
    c.onPublished = (id: number) => this.acked(id);
    c.onError = (code: number, detail: string) => {
      if (isConnackError(code)) p.log("broker refused: " + clientErrorName(code));
    };
    if (this.runMode === "sleep") c.cfg.wifiPollMs = this.o.wakePollMs;
    c.connect();
    if (this.runMode === "sleep") {
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

  /** The telemetry JSON, built by hand (no JSON on the board); `"v":null` on a board without a battery ADC. */
  reading(): string {
    const p = this.p;
    const v = p.batteryVolts();
    return (
      '{"seq":' + this.seq +
      ',"v":' + (v < 0 ? "null" : fixed3(v)) +
      ',"rssi":' + p.rssi() +
      ',"up":' + Math.floor(p.millis() * 0.001) +
      ',"mem":' + p.freeMemory() +
      "}"
    );
  }

  /** Say once, when connected, why the board was quiet (refused, taken over, broker faults). */
  private reportTrouble(): void {
    const c = this.client;
    if (c.trouble === 0 || !c.connected()) return;
    const r = c.publish(this.problemTopic, clientErrorName(c.trouble), 1, false);
    if (r >= 0) c.trouble = 0; // else (in-flight full) with the next reading
  }

  publishReading(): void {
    this.reportTrouble();
    this.seq++;
    this.p.storageWrite(SEQ_FILE, num4(this.seq));
    const r = this.client.publish(this.telemetryTopic, this.reading(), this.o.qos, false);
    this.lastId = r;
    if (r < 0) {
      this.p.log("publish seq=" + this.seq + " failed: " + clientErrorName(r));
      return;
    }
    this.p.log("publish seq=" + this.seq + (r === QUEUED ? " queued" : ""));
    if (this.runMode === "sleep") {
      this.phase = 1;
      this.waitId = r;
      if (r === 0) this.acked(0);
    }
  }

  private acked(id: number): void {
    if (this.runMode !== "sleep" || id !== this.waitId) return;
    if (this.phase === 1) {
      this.phase = 2;
      this.waitId = this.client.publish(this.statusTopic, "sleeping", 1, true);
      if (!isPacketId(this.waitId)) this.sleep();
    } else if (this.phase === 2) {
      this.sleep();
    }
  }

  /** DISCONNECT, save, then deep sleep once the socket has closed (or after flushMs). */
  private sleep(): void {
    if (this.phase >= 3) return;
    this.phase = 3;
    if (this.timer >= 0) this.p.cancel(this.timer);
    this.timer = -1;
    const c = this.client;
    c.onClosed = () => this.sleepNow();
    const closing = c.disconnect();
    if (!this.o.cleanSession || c.queued() > 0) c.saveSession(SESSION_FILE);
    if (this.policy !== null) this.savePolicy();
    if (!closing) {
      this.sleepNow();
      return;
    }
    this.timer = this.p.after(this.o.flushMs, () => {
      this.timer = -1;
      this.p.log("sleep: socket not closed in " + this.o.flushMs + " ms");
      this.sleepNow();
    });
  }

  private sleepNow(): void {
    if (this.phase === 4) return;
    this.phase = 4;
    if (this.timer >= 0) this.p.cancel(this.timer);
    this.timer = -1;
    this.p.log("sleep " + this.interval + " s");
    this.p.deepSleep(this.interval * 1000);
  }

  /** `interval=N`: validated, applied from the next reading. */
  private command(payload: string): void {
    this.lastDownlink = this.p.millis();
    const pre = "interval=";
    let ok = strLen(payload) > strLen(pre);
    for (let i = 0; ok && i < strLen(pre); i++) ok = strByte(payload, i) === strByte(pre, i);
    const n = ok ? digits(payload, strLen(pre)) : -1;
    if (n < 10 || n > 86400) {
      this.p.log("command rejected: expected interval=N with N in 10..86400 s");
      return;
    }
    this.o.intervalSeconds = n;
    this.interval = n;
    if (this.policy !== null) {
      this.o.power.intervalSeconds = n;
      if (this.o.power.maxIntervalSeconds < n) this.o.power.maxIntervalSeconds = n;
    }
    this.p.log("command interval=" + n);
  }

  // ------------------------------------------------------------ power policy

  private inputs(currentKa: number): PowerInputs {
    const p = this.p;
    const i = new PowerInputs();
    const v = p.batteryVolts();
    i.batteryPct = v < 0 ? NO_BATTERY_PCT : this.o.power.percent(v);
    i.charging = v >= this.o.power.chargingVolts;
    i.rssi = p.wifiUp() ? p.rssi() : this.savedRssi;
    if (this.lastDownlink >= 0) i.downlinkAgoSeconds = Math.floor((p.millis() - this.lastDownlink) / 1000);
    else if (this.downlinkBefore) i.downlinkAgoSeconds = this.interval;
    i.currentKeepAlive = currentKa;
    return i;
  }

  private logDecision(d: PowerDecision, i: PowerInputs): void {
    this.p.log(
      "policy mode=" + d.mode + " ka=" + d.keepAlive + " interval=" + d.intervalSeconds +
      " band=" + bandName(d.band) + " pct=" + (i.batteryPct < 0 ? "none" : "" + Math.round(i.batteryPct)) + " rssi=" + i.rssi +
      (d.reconnect ? " reconnect" : "") + ": " + d.reason,
    );
  }

  /** Boot / wake: restore the policy state and choose mode, keep-alive and interval. */
  private firstDecision(): void {
    const pol = this.policy;
    if (pol === null) return;
    const s = this.p.storageRead(POWER_FILE);
    if (s !== null && strLen(s) === 3) {
      pol.restore(strByte(s, 0));
      this.savedRssi = -strByte(s, 1);
      this.downlinkBefore = strByte(s, 2) === 1;
    }
    const i = this.inputs(0);
    const d = pol.decide(i);
    this.logDecision(d, i);
    this.runMode = d.mode;
    this.interval = d.intervalSeconds;
    this.client.cfg.connect.keepAlive = d.keepAlive;
    this.savePolicy();
  }

  /** Stay mode, after each reading: apply a new interval, reconnect, or go to deep sleep. */
  private review(): void {
    const pol = this.policy;
    if (pol === null) return;
    const c = this.client;
    const i = this.inputs(c.connected() ? c.cfg.connect.keepAlive : 0);
    const d = pol.decide(i);
    const changed = d.mode !== this.runMode || d.keepAlive !== c.cfg.connect.keepAlive || d.intervalSeconds !== this.interval;
    if (changed) this.logDecision(d, i);
    this.interval = d.intervalSeconds;
    if (d.mode === MODE_SLEEP) {
      // Sleep once this reading is acknowledged (or the awake limit passes).
      this.runMode = MODE_SLEEP;
      c.cfg.connect.keepAlive = d.keepAlive;
      this.phase = 1;
      this.waitId = this.lastId;
      if (!c.connected() || !isPacketId(this.lastId) || c.inflightFree() === c.cfg.inflight) this.acked(this.lastId);
      if (this.phase < 3) {
        this.timer = this.p.after(this.o.awakeLimitMs, () => {
          this.timer = -1;
          this.sleep();
        });
      }
      return;
    }
    if (d.keepAlive !== c.cfg.connect.keepAlive) {
      c.cfg.connect.keepAlive = d.keepAlive;
      if (d.reconnect) {
        c.disconnect();
        c.connect();
      }
    }
    if (changed) this.savePolicy();
  }

  private savePolicy(): void {
    const pol = this.policy;
    if (pol === null) return;
    const rs = this.p.wifiUp() ? this.p.rssi() : this.savedRssi;
    const up = this.lastDownlink >= 0 ? 1 : 0;
    this.p.storageWrite(POWER_FILE, String.fromCharCode(pol.state(), rs < 0 && rs > -128 ? -rs : 0, up));
  }
}
