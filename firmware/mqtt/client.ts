/**
 * The MQTT 3.1.1 client session: the connection state machine (connect, back-off,
 * reconnect), keep-alive, and the flows of QoS 0/1/2 both ways. Its tables are units
 * of their own whose arrays are fields of the Client (no object, class or constructor
 * each): the in-flight table (inflight.ts), the subscription table (subscriptions.ts);
 * the offline queue (offline-ring.ts); the session image is session-image.ts;
 * the link callbacks are in conn.ts, the packet flows in flows.ts. docs/client.md
 * describes it.
 *
 * Memory: every packet buffer (RX, TX, in-flight slots, offline queue slots) is
 * allocated in the constructor. After that, a QoS 1/2 PUBLISH is encoded once into its
 * slot and re-sent from there (DUP set in place); acks and pings use the TX buffer.
 * Only the strings handed to Link.write and to handlers are allocated. On Espruino
 * every method, parameter, closure and stored name holds RAM for good, so the rarely
 * run paths (connect, drop, back-off) are few big methods, and one timer with one
 * closure serves the reconnect, the CONNACK timeout and the keep-alive (only one of
 * them is ever due: which one follows from the state).
 */
import type { ClientPlatform, Link } from "../hal/platform";
import { ClientConfig, MessageHandler } from "./config";
import { encodeEmpty } from "./encode";
import { ringPut } from "./offline-ring";
import { ERR_QOS } from "./errors";
import { flushSubs, sendNew } from "./flows";
import { flFree } from "./inflight";
import { DISCONNECT, PINGREQ } from "./packet";
import { PacketReader } from "./reader";
import * as R from "./results";
import { sessionImage } from "./session-image";
import { SUB_FAILED, SUB_NEW, SUB_OK, SUB_SENT, subAdd, subMove, UNSUB_NEW, UNSUB_SENT } from "./subscriptions";
import { Conn } from "./conn";
import { S_BACKOFF, S_CONNACK, S_CONNECTED, S_IDLE, S_OPENING, S_STOPPED, S_WAIT_WIFI } from "./results";

export class Client {
  cfg: ClientConfig;
  p: ClientPlatform;
  state = S_IDLE;
  /** Session present flag of the last CONNACK. */
  sessionPresent = false;
  dropped = 0;
  oversized = 0;
  /** The last error reported (0 = none). */
  lastError = 0;
  /** Why the client last backed off further (refusal, ERR_TAKEOVER, ERR_BROKER_FAULTS, bad CONNECT): for the app to publish and clear. */
  trouble = 0;

  /** Events (null = not interested). */
  onConnect: ((sessionPresent: boolean) => void) | null = null;
  onDisconnect: ((code: number, reason: string) => void) | null = null;
  onMessage: MessageHandler | null = null;
  onPublished: ((id: number) => void) | null = null;
  onSubscribed: ((filter: string, code: number) => void) | null = null;
  onError: ((code: number, detail: string) => void) | null = null;
  /** The link closed by disconnect() has closed. */
  onClosed: (() => void) | null = null;

  // @internal: shared with conn.ts and flows.ts (names of 8 characters or fewer: one block each).
  reader: PacketReader;
  tx: Bytes;
  /** The in-flight table (inflight.ts): slot buffers, lengths, ids, flow states, sending order; incoming QoS 2 ids (0 = free). */
  fBuf: Bytes[] = [];
  fLen: number[] = [];
  fId: number[] = [];
  fState: number[] = [];
  fOrder: number[] = [];
  fSeq = 0;
  rIds: number[] = [];
  /** The offline queue (offline-ring.ts): slot buffers, lengths, the oldest's slot, how many. */
  qBuf: Bytes[] = [];
  qLen: number[] = [];
  qHead = 0;
  qCount = 0;
  /** The subscription table (subscriptions.ts): filter, QoS, handler, state, packet id in flight. */
  sFilter: string[] = [];
  sQos: number[] = [];
  sHandler: (MessageHandler | null)[] = [];
  sState: number[] = [];
  sPid: number[] = [];
  gen = 0;
  lastId = 0;
  lastRecv = 0;
  /** When the last CONNACK arrived. */
  upAt = 0;
  /** Packet id of the birth while it is in flight (0 = none): a reconnect re-sends it rather than queueing another. */
  birthId = 0;
  /** When the PINGREQ awaiting its answer was sent (-1 = none). */
  pingAt = -1;
  /** Generation of the link disconnect() is closing (-1 = none). */
  closing = -1;
  private link: Link | null = null;
  private lastSent = 0;
  /** Why a write threw (null = it did not): the link is dead, the drop follows from the timer. */
  private broke: string | null = null;
  /** The one timer (-1 = none) and its closure. */
  private tm = -1;
  private tick: () => void;
  // Back-off: ordinary failures in a row (>= 0), or minus the rounds of the longer
  // back-off since the last healthy connection; connections in a row that failed soon
  // after CONNACK or on a protocol error, and how many of them were protocol errors.
  private bo = 0;
  private faults = 0;
  private protoFaults = 0;

  constructor(platform: ClientPlatform, cfg: ClientConfig) {
    this.p = platform;
    this.cfg = cfg;
    this.reader = new PacketReader(cfg.rxSize);
    this.tx = bytesNew(cfg.txSize);
    for (let i = 0; i < cfg.inflight; i++) {
      this.fBuf.push(bytesNew(cfg.slotSize));
      this.fLen.push(0);
      this.fId.push(0);
      this.fState.push(0);
      this.fOrder.push(0);
    }
    for (let i = 0; i < cfg.qos2Ids; i++) this.rIds.push(0);
    for (let i = 0; i < cfg.queue; i++) {
      this.qBuf.push(bytesNew(cfg.queueSlotSize > 0 ? cfg.queueSlotSize : cfg.slotSize));
      this.qLen.push(0);
    }
    this.tick = () => {
      this.tm = -1;
      const s = this.state;
      if (this.broke !== null && this.link !== null) this.drop(R.ERR_WRITE, this.broke);
      else if (s === S_CONNACK || s === S_OPENING) this.drop(R.ERR_CONNECT_TIMEOUT, "no CONNACK in time");
      else if (s === S_WAIT_WIFI || s === S_BACKOFF) this.attempt();
      else if (s === S_CONNECTED && this.cfg.connect.keepAlive > 0) {
        // Keep-alive: PINGREQ when nothing was sent or nothing received for the
        // keep-alive; no answer in time: dead link.
        const ka = this.cfg.connect.keepAlive * 1000;
        const wait = this.cfg.pingTimeoutMs > 0 ? this.cfg.pingTimeoutMs : this.cfg.connect.keepAlive * 500;
        const now = this.p.millis();
        let next = 0;
        if (this.pingAt >= 0) {
          if (now - this.pingAt >= wait) {
            this.drop(R.ERR_DEAD_LINK, "");
            return;
          }
          next = this.pingAt + wait - now;
        } else {
          const idle = now - (this.lastSent < this.lastRecv ? this.lastSent : this.lastRecv);
          if (idle >= ka) {
            this.pingAt = now;
            this.send(this.tx, encodeEmpty(this.tx, PINGREQ));
            next = wait;
          } else {
            next = ka - idle;
          }
        }
        this.arm(next > 0 ? next : 1);
      }
    };
  }

  // ---------------------------------------------------------------- public API

  /** Start connecting; reconnects after every failure until disconnect(). */
  connect(): void {
    if (this.state !== S_IDLE && this.state !== S_STOPPED) return;
    this.bo = 0;
    this.faults = 0;
    this.protoFaults = 0;
    this.attempt();
  }

  /**
   * Send DISCONNECT (so no will is published) and close; no reconnect. Returns true
   * when a link is closing: onClosed follows once it has closed, i.e. once what was
   * written has left (Espruino's socket.write only queues; a deep sleep before the
   * close would drop the DISCONNECT and the broker would publish the will).
   */
  disconnect(): boolean {
    if (this.state === S_CONNECTED) this.send(this.tx, encodeEmpty(this.tx, DISCONNECT));
    this.drop(0, "disconnected");
    return this.closing >= 0;
  }

  connected(): boolean {
    return this.state === S_CONNECTED;
  }

  /** Returns the packet id (QoS 1/2 sent), 0 (QoS 0 sent), QUEUED, or an error (docs/client.md). */
  publish(topic: string, payload: string, qos: number, retain: boolean): number {
    if (qos < 0 || qos > 2) return ERR_QOS;
    if (this.state === S_CONNECTED && this.qCount === 0) return sendNew(this, topic, payload, qos, retain);
    if (this.qBuf.length === 0) return this.state === S_CONNECTED ? R.ERR_INFLIGHT_FULL : R.ERR_NOT_CONNECTED;
    return ringPut(this, topic, payload, qos, retain);
  }

  inflightFree(): number {
    return flFree(this);
  }
  queued(): number {
    return this.qCount;
  }

  /** filters[i] at qos[i], `handler` (or null) gets their messages; the SUBSCRIBE id, DEFERRED or an error; results in onSubscribed. */
  subscribe(filters: string[], qos: number[], handler: MessageHandler | null): number {
    const e = subAdd(this, filters, qos, handler);
    if (e < 0) return e;
    return this.state === S_CONNECTED ? flushSubs(this, SUB_NEW) : R.DEFERRED;
  }

  /** Unsubscribe; local dispatch stops at UNSUBACK. Returns the packet id, DEFERRED or an error. */
  unsubscribe(filters: string[]): number {
    const e = subAdd(this, filters, null, null);
    if (e < 0) return e;
    if (this.state === S_CONNECTED) return flushSubs(this, UNSUB_NEW);
    if (this.cfg.connect.cleanSession) subMove(this, UNSUB_NEW, -1, -1, 0);
    return R.DEFERRED;
  }

  /** SUBACK result of a filter: 0..2 granted, 0x80 refused, -1 pending or unknown. */
  subscription(filter: string): number {
    const k = this.sFilter.indexOf(filter);
    const st = k < 0 ? -1 : this.sState[k];
    return st === SUB_OK ? this.sQos[k] : st === SUB_FAILED ? 0x80 : -1;
  }

  /** Save the persistent-session state (session-image.ts) to Storage file `name` (before deep sleep). */
  saveSession(name: string): boolean {
    return this.p.storageWrite(name, sessionImage(this, null));
  }

  /** Load the session saved under `name`; false (state untouched) when absent, for another client id or unreadable. */
  restoreSession(name: string): boolean {
    const s = this.p.storageRead(name);
    if (s === null) return false;
    const ok = sessionImage(this, s) === "";
    if (!ok) this.report(R.ERR_SESSION_DATA, name);
    return ok;
  }

  // ------------------------------------------------------------- connection

  /**
   * @internal The connection is gone (code says why; 0: disconnect(); no link: it
   * could not be opened, nothing to lose but a retry all the same): close the link
   * (its late events are ignored: new generation), stop the timer, clean up what does
   * not survive a connection, then reconnect after a back-off. Refusals, suspected
   * take-overs and repeated protocol errors back off further; the client stops only
   * when the application says so (disconnect(), autoReconnect false). A protocol
   * error: a codec error on what the broker sent (-1..-29, not a packet merely too
   * large for our RX buffer) or a packet it must not send (isBrokerFault).
   */
  drop(code: number, reason: string): void {
    const was = this.state;
    const l = this.link;
    if (code === 0) this.closing = l !== null && this.broke === null ? this.gen : -1;
    this.link = null;
    this.gen++;
    this.arm(-1);
    if (l !== null) l.close();
    if (code === 0) {
      this.state = S_STOPPED;
      if (was !== S_CONNECTED && was !== S_CONNACK) return;
    } else {
      if (code !== R.ERR_CLOSED) this.report(code, reason);
      const proto = R.isBrokerFault(code);
      if (was === S_CONNECTED && this.p.millis() - this.upAt >= this.cfg.takeoverMs && !proto) {
        this.bo = 0;
        this.faults = 0;
        this.protoFaults = 0;
      } else if (was === S_CONNECTED || proto) {
        this.faults++;
        if (proto) this.protoFaults++;
      }
      this.state = S_BACKOFF;
    }
    if (l !== null) {
      // A connection (or its attempt) is lost: requests in flight go out again on the next one.
      this.pingAt = -1;
      subMove(this, SUB_SENT, -1, SUB_NEW, 0);
      subMove(this, UNSUB_SENT, -1, UNSUB_NEW, 0);
      this.p.log("mqtt: closed (" + (reason === "" ? R.clientErrorName(code) : reason) + ")");
      const h = this.onDisconnect;
      if (h !== null) h(code, reason);
    }
    if (this.state !== S_BACKOFF) return; // stopped, or the handler decided (disconnect/connect)
    const refusal = R.isRefusal(code);
    let severe = refusal || code === this.trouble;
    if (refusal) this.trouble = code;
    if (this.faults >= this.cfg.takeoverCount) {
      const t = this.protoFaults > 0 ? R.ERR_BROKER_FAULTS : R.ERR_TAKEOVER;
      this.faults = 0;
      this.protoFaults = 0;
      this.trouble = t;
      this.report(t, t === R.ERR_TAKEOVER ? this.cfg.connect.clientId : reason);
      severe = true;
    }
    if (!this.cfg.autoReconnect && l !== null) {
      this.state = S_STOPPED;
      return;
    }
    // Try again after a back-off. Ordinary failures back off from backoffMinMs,
    // doubling to backoffMaxMs; severe ones (refusals, take-overs, repeated protocol
    // errors, "strikes") go on doubling from backoffMaxMs up to backoffCeilingMs: the
    // client never gives up by itself, it only asks less often. Each delay is
    // 50..100 % of the bound (jitter), so a fleet does not reconnect in step.
    const c = this.cfg;
    let d = c.backoffMinMs;
    let cap = c.backoffMaxMs;
    let n = this.bo;
    if (severe || n < 0) {
      d = c.backoffMaxMs;
      cap = c.backoffCeilingMs > d ? c.backoffCeilingMs : d;
      n = n < 0 ? -n : 0; // strikes so far
      if (severe) this.bo = -n - 1;
    } else {
      this.bo++;
    }
    for (let i = 0; i < n && d < cap; i++) d = d * 2;
    if (d > cap) d = cap;
    d = Math.floor(d * 0.5 + this.p.random() * d * 0.5);
    this.p.log("mqtt: reconnect in " + d + " ms");
    this.arm(d);
  }

  /** Open a link now (connect(), or the timer after a back-off or while Wi-Fi is down). */
  private attempt(): void {
    if (this.state === S_CONNECTED || this.state === S_CONNACK || this.state === S_OPENING) return;
    if (!this.p.wifiUp()) {
      if (this.state !== S_WAIT_WIFI) this.p.log("mqtt: waiting for wifi");
      this.state = S_WAIT_WIFI;
      this.arm(this.cfg.wifiPollMs);
      return;
    }
    this.gen++;
    this.state = S_OPENING;
    this.broke = null;
    this.reader.reset();
    let nl: Link | null = null;
    let why = this.cfg.host;
    try {
      nl = this.p.open(this.cfg.host, this.cfg.port, this.cfg.secure, new Conn(this, this.gen));
    } catch (e) {
      // Espruino's net.connect throws at once for an unknown host or when no socket is left.
      why = why + ": " + R.thrownText(e);
      nl = null;
    }
    if (nl === null) {
      this.drop(R.ERR_NO_LINK, why); // no link to lose: a report and a retry
      return;
    }
    this.link = nl;
    this.arm(this.cfg.connectTimeoutMs);
  }

  /**
   * @internal (Re)start the timer for ms (-1: stop it). While a failed write waits for
   * its drop (a 0 ms timer), nothing else re-arms it.
   */
  arm(ms: number): void {
    if (ms !== 0 && this.broke !== null && this.link !== null) return;
    if (this.tm >= 0) this.p.cancel(this.tm);
    this.tm = ms >= 0 ? this.p.after(ms, this.tick) : -1;
  }

  /** @internal */
  report(code: number, detail: string): void {
    this.lastError = code;
    this.p.log("mqtt: " + R.clientErrorName(code) + (detail === "" ? "" : " (" + detail + ")"));
    const h = this.onError;
    if (h !== null) h(code, detail);
  }

  /** @internal */
  send(b: Bytes, n: number): boolean {
    const l = this.link;
    if (l === null || this.broke !== null || n <= 0) return false;
    this.lastSent = this.p.millis();
    let ok = false;
    try {
      ok = l.write(bytesToStr(b, 0, n));
    } catch (e) {
      // Dropped from the timer, not here: the caller may be half-way through a table.
      // What was being sent stays in its slot or queue and goes out on the next link.
      this.broke = R.thrownText(e);
      this.arm(0);
    }
    return ok;
  }
}

export { ClientConfig } from "./config";
export type { MessageHandler } from "./config";
// What the tests and apps name; every other code is a number in docs/client.md, and
// clientErrorName names them all (each export holds RAM in the bundle for good).
export {
  clientErrorName,
  DEFERRED,
  ERR_BROKER_FAULTS,
  ERR_DEAD_LINK,
  ERR_INFLIGHT_FULL,
  ERR_NO_LINK,
  ERR_TAKEOVER,
  ERR_WRITE,
  isConnackError,
  isPacketId,
  QUEUED,
  S_BACKOFF,
  S_STOPPED,
} from "./results";

/** A ClientConfig with the defaults (a plain function, for Lua callers). */
export function newClientConfig(): ClientConfig {
  return new ClientConfig();
}

/** A client; allocates all its buffers now (a plain function, for Lua callers). */
export function newClient(platform: ClientPlatform, cfg: ClientConfig): Client {
  return new Client(platform, cfg);
}
