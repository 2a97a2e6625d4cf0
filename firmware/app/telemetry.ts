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
 *
 * RAM (issue 11): on Espruino every method held costs ~5 blocks plus one per
 * parameter, every field one or two, every closure ~7 plus the scope it keeps. So the
 * app keeps only what it uses after boot (AppOptions and DeviceSettings are read in the
 * constructor and dropped), the rarely run paths (boot, policy, sleep) are a few big
 * methods, and callbacks are set only in the modes that use them.
 */
import type { DeviceSettings, Platform } from "../hal/platform";
import { Client, ClientConfig } from "../mqtt/client";
import { clientErrorName, isConnackError, isPacketId, QUEUED } from "../mqtt/results";
import { bandName, NO_BATTERY_PCT, KeepAlivePolicy, PowerConfig, PowerInputs } from "../power/policy";

/** Sleep mode: how often the client checks for Wi-Fi while associating (ms); short, so the radio is not on idle after association. */
const WAKE_POLL_MS = 100;
/** Sleep mode: give up on the broker after this long awake, and sleep anyway. */
const AWAKE_LIMIT_MS = 30000;
/** Before deep sleep: wait at most this long for the socket to close (the DISCONNECT to leave). */
const FLUSH_MS = 2000;

/**
 * power() steps on the way into deep sleep: asked to (cancel the pending timer); the
 * awake limit passed (at boot: log, one last reading; after a switch); the flush wait
 * ran out; the socket closed; a message was acknowledged (onPublished, its id in
 * power()'s `id`).
 */
const SLEEP_NOW = 0;
const SLEEP_AWAKE_LIMIT = 1;
const SLEEP_SWITCH_LIMIT = 2;
const SLEEP_FLUSH_OVER = 3;
const SLEEP_CLOSED = 4;
const SLEEP_ACKED = 5;

/** reading() steps: only say why the board was quiet (see reading()); a reading asked for; the stay-mode timer's reading. */
const READ_TROUBLE = 0;
const READ_NOW = 1;
const READ_TICK = 2;

/** power() steps of mode "auto": the decision at boot or wake; the review after a stay-mode reading; saving the state before deep sleep. */
const POLICY_BOOT = 6;
const POLICY_REVIEW = 7;
const POLICY_SAVE = 8;

/**
 * App options beyond DeviceSettings (Storage wisp.json extras and board buffer sizes;
 * main.ts has the defaults). An interface, not a class: read by the TelemetryApp
 * constructor only, so the app holds neither the object nor a constructor for it.
 */
export interface AppOptions {
  keepAliveSeconds: number;
  intervalSeconds: number;
  qos: number;
  cleanSession: boolean;
  /** "stay", "sleep" or "auto" (the power policy decides). */
  mode: string;
  /** Power policy thresholds; used in mode "auto" only (null: the defaults). */
  power: PowerConfig | null;
  rx: number;
  tx: number;
  inflight: number;
  offlineQueue: number;
  /** Subscribe to `<prefix>/<id>/cmd` for commands such as interval=N (docs/power.md). */
  commands: boolean;
  /**
   * What the client opens its links through instead of the board's Platform: the
   * WebSocket transport for ws:// and wss:// (main.ts loads it from Storage only then,
   * so a plain TCP app holds none of its blocks); null = the Platform itself.
   */
  transport: Platform | null;
}

/*
 * Storage files: `wisp.session` (the client's session image), `wisp.seq` (the reading
 * sequence, 4 bytes) and `wisp.power` (policy state across deep sleep: band/weak state,
 * -RSSI, downlink flag; 3 bytes). Written as literals where used: a module-level string
 * is held in RAM on Espruino.
 */

export class TelemetryApp {
  private p: Platform;
  private c: Client;
  /** `<prefix>/<id>`: the topics are this plus /status, /telemetry, /cmd, /problem. */
  private base: string;
  private seq = 0;
  private qos: number;
  private clean: boolean;
  private cmds: boolean;
  /** Mode in effect now ("stay" or "sleep"); with "auto" the policy sets it. */
  private mode: string;
  /** Interval in effect now (s). */
  private interval: number;
  private pol: KeepAlivePolicy | null = null;
  /** millis() of the last command received; -1 none. */
  private lastDownlink = -1;
  /** From Storage: a command arrived during the previous wake. */
  private downlinkBefore = false;
  private savedRssi = 0;
  /** What publish() returned for the last reading. */
  private lastId = -1;
  private timer = -1;
  private waitId = -1;
  private phase = 0; // sleep mode: 0 telemetry pending, 1 awaiting its ack, 2 awaiting "sleeping" ack, 3 asleep
  /** Stay mode's timer callback, made once in start() (a closure keeps its maker's scope alive: start's is small). */
  private tick: (() => void) | null = null;

  constructor(p: Platform, s: DeviceSettings, o: AppOptions) {
    this.p = p;
    this.base = s.topicPrefix + "/" + s.clientId;
    this.qos = o.qos;
    this.clean = o.cleanSession;
    this.cmds = o.commands;
    this.mode = o.mode === "sleep" ? "sleep" : "stay";
    this.interval = o.intervalSeconds;
    if (o.mode === "auto") {
      const pc = o.power !== null ? o.power : new PowerConfig();
      pc.interval = o.intervalSeconds;
      if (pc.maxIntvl < o.intervalSeconds) pc.maxIntvl = o.intervalSeconds;
      this.pol = new KeepAlivePolicy(pc);
    }
    const status = this.base + "/status";
    const c = new ClientConfig();
    c.host = s.brokerHost;
    c.port = s.brokerPort;
    c.secure = s.brokerScheme === "mqtts" || s.brokerScheme === "wss";
    c.rxSize = o.rx;
    c.txSize = o.tx;
    // A slot (in flight, or in the offline queue) holds one of this app's PUBLISH packets,
    // encoded: fixed header (3 bytes below 16 KiB), topic (2 + base + "/telemetry", the
    // longest suffix), packet id (2) and a payload of at most 96 bytes (the telemetry JSON
    // is at most 72, a problem name 61, "sleeping" 8). Not the whole TX buffer: with the
    // default board (4 in flight, 8 queued, TX 512) 512-byte slots held ~264 blocks more
    // on the real interpreter than these.
    const slot = 3 + 2 + strLen(this.base) + 10 + 2 + 96;
    c.slotSize = slot < o.tx ? slot : o.tx;
    c.inflight = o.inflight;
    c.queue = o.offlineQueue;
    const k = c.connect;
    k.clientId = s.clientId;
    k.cleanSession = o.cleanSession;
    k.keepAlive = o.keepAliveSeconds;
    k.username = s.username;
    k.password = s.password;
    k.willTopic = status;
    k.willMessage = "offline";
    k.willQos = 1;
    k.willRetain = true;
    c.birthTopic = status;
    c.birthMessage = "online";
    c.birthQos = 1;
    c.birthRetain = true;
    this.c = new Client(o.transport !== null ? o.transport : p, c);
  }

  start(): void {
    const p = this.p;
    const c = this.c;
    p.log("boot " + p.wakeCause() + " free " + p.freeMemory());
    const saved = p.storageRead("wisp.seq");
    if (saved !== null && strLen(saved) === 4) {
      this.seq = shl(strByte(saved, 0) & 127, 24) | shl(strByte(saved, 1), 16) | shl(strByte(saved, 2), 8) | strByte(saved, 3);
    }
    if (!this.clean && c.restoreSession("wisp.session") && (c.queued() > 0 || c.inflightFree() < c.cfg.inflight)) {
      p.log("session restored inflight=" + (c.cfg.inflight - c.inflightFree()) + " queued=" + c.queued());
    }
    if (this.pol !== null) this.power(POLICY_BOOT, 0);
    const sleep = this.mode === "sleep";
    // A command, `interval=N`: validated, applied from the next reading (rare: written
    // in the handler itself rather than in a method of its own, which would cost RAM).
    if (this.cmds) {
      c.subscribe([this.base + "/cmd"], [1], (topic: string, payload: string) => {
        this.lastDownlink = p.millis();
        const pre = "interval=";
        let ok = strLen(payload) > strLen(pre) && strLen(payload) - strLen(pre) <= 6;
        for (let i = 0; ok && i < strLen(pre); i++) ok = strByte(payload, i) === strByte(pre, i);
        let n = 0;
        for (let i = strLen(pre); ok && i < strLen(payload); i++) {
          const d = strByte(payload, i);
          ok = d >= 48 && d <= 57;
          n = n * 10 + (d - 48);
        }
        if (!ok || n < 10 || n > 86400) {
          p.log("command rejected: expected interval=N with N in 10..86400 s");
          return;
        }
        this.interval = n;
        const pol = this.pol;
        if (pol !== null) {
          pol.cfg.interval = n;
          if (pol.cfg.maxIntvl < n) pol.cfg.maxIntvl = n;
        }
        p.log("command interval=" + n);
      });
    }
    c.onConnect = (sp: boolean) => {
      // With a command subscription pending, sleep mode waits for its SUBACK so that
      // queued commands arrive before the board goes back to sleep.
      const now = this.mode === "sleep" && this.phase === 0 && (!this.cmds || c.subscription(this.base + "/cmd") >= 0);
      this.reading(now ? READ_NOW : READ_TROUBLE);
    };
    c.onError = (code: number, detail: string) => {
      if (isConnackError(code)) p.log("broker refused: " + clientErrorName(code));
    };
    if (sleep) {
      // Only sleep mode waits for acks and SUBACKs (a switch from stay sets onPublished then).
      c.onSubscribed = (filter: string, code: number) => {
        if (this.mode === "sleep" && this.phase === 0) this.reading(READ_NOW);
      };
      c.onPublished = (id: number) => this.power(SLEEP_ACKED, id);
      c.cfg.wifiPollMs = WAKE_POLL_MS;
    }
    c.connect();
    if (sleep) {
      this.timer = p.after(AWAKE_LIMIT_MS, () => this.power(SLEEP_AWAKE_LIMIT, 0));
    } else {
      const tick = () => this.reading(READ_TICK);
      this.tick = tick;
      this.timer = p.after(1000, tick);
    }
  }

  /**
   * Publish one reading: the telemetry JSON, built by hand (no JSON on the board),
   * `"v":null` on a board without a battery ADC. First, once connected, say why the
   * board was quiet (refused, taken over, broker faults): READ_TROUBLE does only that
   * (one method for both: each method holds RAM on Espruino). READ_TICK: called by the
   * stay-mode timer, which this re-arms after asking the policy (mode "auto").
   */
  private reading(step: number): void {
    const p = this.p;
    const c = this.c;
    const tick = step === READ_TICK;
    if (tick) this.timer = -1;
    if (c.trouble !== 0 && c.connected()) {
      const t = c.publish(this.base + "/problem", clientErrorName(c.trouble), 1, false);
      if (t >= 0) c.trouble = 0; // else (in-flight full) with the next reading
    }
    if (step === READ_TROUBLE) return;
    this.seq++;
    const n = this.seq;
    p.storageWrite("wisp.seq", String.fromCharCode(shr(n, 24) & 255, shr(n, 16) & 255, shr(n, 8) & 255, n & 255));
    const v = p.batteryVolts();
    const json =
      '{"seq":' + n +
      ',"v":' + (v < 0 ? "null" : "" + Math.round(v * 1000) / 1000) +
      ',"rssi":' + p.rssi() +
      ',"up":' + Math.floor(p.millis() * 0.001) +
      ',"mem":' + p.freeMemory() +
      "}";
    const r = c.publish(this.base + "/telemetry", json, this.qos, false);
    this.lastId = r;
    if (r < 0) {
      p.log("publish seq=" + n + " failed: " + clientErrorName(r));
    } else {
      p.log("publish seq=" + n + (r === QUEUED ? " queued" : ""));
      if (this.mode === "sleep") {
        this.phase = 1;
        this.waitId = r;
        if (r === 0) this.power(SLEEP_ACKED, 0);
      }
    }
    if (!tick || this.mode === "sleep") return;
    if (this.pol !== null) this.power(POLICY_REVIEW, 0);
    if (this.mode !== "sleep" && this.tick !== null) this.timer = p.after(this.interval * 1000, this.tick);
  }

  /**
   * The power paths, all rare, in one method (each method holds RAM on Espruino).
   *
   * Mode "auto": POLICY_BOOT restores the policy state from Storage and chooses mode,
   * keep-alive and interval; POLICY_REVIEW (stay mode, after each reading) applies a new
   * interval, reconnects, or goes to deep sleep. Both, when the decision is new, and
   * POLICY_SAVE (before deep sleep) save the state to Storage.
   *
   * The way into deep sleep: DISCONNECT, save the session and the policy state, then
   * sleep once the socket has closed (or after FLUSH_MS). `step` says who called:
   * SLEEP_NOW (a pending timer is cancelled), a timer that fired (SLEEP_AWAKE_LIMIT,
   * SLEEP_SWITCH_LIMIT, SLEEP_FLUSH_OVER), SLEEP_CLOSED, or SLEEP_ACKED (sleep mode:
   * message `id` acknowledged; the reading's ack sends "sleeping", whose ack, or a
   * failure to send it, leads to sleep).
   */
  private power(step: number, id: number): void {
    const p = this.p;
    const c = this.c;
    if (step >= POLICY_BOOT) {
      const pol = this.pol;
      if (pol === null) return;
      const k = c.cfg.connect;
      const boot = step === POLICY_BOOT;
      let save = step === POLICY_SAVE;
      if (boot) {
        const s = p.storageRead("wisp.power");
        if (s !== null && strLen(s) === 3) {
          pol.restore(strByte(s, 0));
          this.savedRssi = -strByte(s, 1);
          this.downlinkBefore = strByte(s, 2) === 1;
        }
      }
      if (!save) {
        const i = new PowerInputs();
        const v = p.batteryVolts();
        i.batteryPct = v < 0 ? NO_BATTERY_PCT : pol.cfg.percent(v);
        i.charging = v >= pol.cfg.chargeV;
        i.rssi = p.wifiUp() ? p.rssi() : this.savedRssi;
        if (this.lastDownlink >= 0) i.downlinkAgoSeconds = Math.floor((p.millis() - this.lastDownlink) / 1000);
        else if (this.downlinkBefore) i.downlinkAgoSeconds = this.interval;
        i.currentKeepAlive = !boot && c.connected() ? k.keepAlive : 0;
        const d = pol.decide(i);
        save = boot || d.mode !== this.mode || d.keepAlive !== k.keepAlive || d.intervalSeconds !== this.interval;
        if (save) {
          p.log(
            "policy mode=" + d.mode + " ka=" + d.keepAlive + " interval=" + d.intervalSeconds +
            " band=" + bandName(d.band) + " pct=" + (i.batteryPct < 0 ? "none" : "" + Math.round(i.batteryPct)) + " rssi=" + i.rssi +
            (d.reconnect ? " reconnect" : "") + ": " + d.reason,
          );
        }
        this.interval = d.intervalSeconds;
        if (boot) {
          this.mode = d.mode;
          k.keepAlive = d.keepAlive;
        } else if (d.mode === "sleep") {
          // Sleep once this reading is acknowledged (or the awake limit passes); the state is saved then.
          this.mode = "sleep";
          k.keepAlive = d.keepAlive;
          this.phase = 1;
          this.waitId = this.lastId;
          c.onPublished = (id: number) => this.power(SLEEP_ACKED, id);
          if (!c.connected() || !isPacketId(this.lastId) || c.inflightFree() === c.cfg.inflight) this.power(SLEEP_ACKED, this.lastId);
          if (this.phase < 3) this.timer = p.after(AWAKE_LIMIT_MS, () => this.power(SLEEP_SWITCH_LIMIT, 0));
          return;
        } else if (d.keepAlive !== k.keepAlive) {
          k.keepAlive = d.keepAlive;
          if (d.reconnect) {
            c.disconnect();
            c.connect();
          }
        }
      }
      if (!save) return;
      const rs = p.wifiUp() ? p.rssi() : this.savedRssi;
      const up = this.lastDownlink >= 0 ? 1 : 0;
      p.storageWrite("wisp.power", String.fromCharCode(pol.state(), rs < 0 && rs > -128 ? -rs : 0, up));
      return;
    }
    if (step === SLEEP_ACKED) {
      if (this.mode !== "sleep" || id !== this.waitId) return;
      if (this.phase === 1) {
        this.phase = 2;
        this.waitId = c.publish(this.base + "/status", "sleeping", 1, true);
        if (isPacketId(this.waitId)) return; // a packet id: its ack comes back here
      } else if (this.phase !== 2) {
        return;
      }
      step = SLEEP_NOW;
    }
    if (step !== SLEEP_NOW && step !== SLEEP_CLOSED) this.timer = -1;
    if (step === SLEEP_AWAKE_LIMIT) {
      p.log("broker not reached: sleeping anyway");
      if (this.phase === 0) this.reading(READ_NOW); // into the offline queue, saved with the session
    }
    if (step === SLEEP_FLUSH_OVER) p.log("sleep: socket not closed in " + FLUSH_MS + " ms");
    if (step < SLEEP_FLUSH_OVER) {
      if (this.phase >= 3) return;
      this.phase = 3;
      if (this.timer >= 0) p.cancel(this.timer);
      this.timer = -1;
      c.onClosed = () => this.power(SLEEP_CLOSED, 0);
      const closing = c.disconnect();
      if (!this.clean || c.queued() > 0) c.saveSession("wisp.session");
      if (this.pol !== null) this.power(POLICY_SAVE, 0);
      if (closing) {
        this.timer = p.after(FLUSH_MS, () => this.power(SLEEP_FLUSH_OVER, 0));
        return;
      }
    }
    if (this.phase === 4) return;
    this.phase = 4;
    if (this.timer >= 0) p.cancel(this.timer);
    this.timer = -1;
    p.log("sleep " + this.interval + " s");
    p.deepSleep(this.interval * 1000);
  }
}
