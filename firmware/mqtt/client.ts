/**
 * The MQTT 3.1.1 client session: connect / reconnect, keep-alive, publish and
 * receive at QoS 0/1/2, subscriptions with local dispatch, an offline queue and a
 * persistent session that survives deep sleep. docs/client.md describes it.
 *
 * Memory: every packet buffer (RX, TX, in-flight slots, offline queue slots) is
 * allocated in the constructor from ClientConfig sizes. After that, publishing,
 * receiving, acknowledging and re-sending allocate no buffers: a QoS 1/2 PUBLISH is
 * encoded once into its in-flight slot and re-sent from there (DUP set in place);
 * acks and pings are encoded into the TX buffer. Only the byte strings handed to
 * Link.write and the topic/payload strings handed to handlers are allocated.
 */
import type { Link, LinkHandler, Platform } from "../hal/platform";
import { encodeAck, encodeConnect, encodeEmpty, encodePublish, encodeSubscribe, encodeUnsubscribe, setDup } from "./encode";
import { ERR_BUFFER_TOO_SMALL, ERR_PACKET_TOO_LARGE, ERR_QOS, ERR_VALUE, PACKET_READY } from "./errors";
import {
  CONNACK,
  ConnectOptions,
  DISCONNECT,
  PINGREQ,
  PINGRESP,
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  SUBACK,
  UNSUBACK,
} from "./packet";
import { PacketReader } from "./reader";
import {
  clientErrorName,
  connackError,
  DEFERRED,
  ERR_CLOSED,
  ERR_CONNECT_TIMEOUT,
  ERR_DEAD_LINK,
  ERR_INFLIGHT_FULL,
  ERR_NO_ID,
  ERR_NO_LINK,
  ERR_NOT_CONNECTED,
  ERR_QOS2_FULL,
  ERR_QUEUE_DROP,
  ERR_SESSION_DATA,
  ERR_SUBS_FULL,
  ERR_TAKEOVER,
  ERR_UNEXPECTED,
  ERR_WRITE,
  ERR_BROKER_FAULTS,
  ERR_UNKNOWN_ID,
  isRefusal,
  QUEUED,
} from "./results";
import { checkFilter, topicMatches } from "./topic";

export type MessageHandler = (topic: string, payload: string, qos: number, retain: boolean) => void;

/** Everything the client needs, fixed at boot. Sizes are bytes unless noted. */
export class ClientConfig {
  host = "";
  port = 1883;
  secure = false;
  /** CONNECT fields: client id, clean session, keep-alive, credentials, will. */
  connect: ConnectOptions = new ConnectOptions();
  /** RX buffer: the largest packet body accepted. */
  rxSize = 512;
  /** TX buffer: QoS 0 publishes, acks, pings, (un)subscribes, CONNECT. */
  txSize = 512;
  /** In-flight slots (outgoing QoS 1/2 awaiting their acks) and the size of each. */
  inflight = 4;
  slotSize = 256;
  /** Offline queue: slots (0 = no queue) and the size of each (0 = slotSize). */
  queue = 8;
  queueSlotSize = 0;
  /** Subscription table entries. */
  maxSubs = 8;
  /**
   * Incoming QoS 2 ids remembered until PUBREL. When a QoS 2 PUBLISH finds the table
   * full, it is neither delivered nor acknowledged and the connection is closed.
   */
  qos2Ids = 16;
  /** Dead link: no answer this long after a PINGREQ (0 = half the keep-alive, i.e. 1.5x in all). */
  pingTimeoutMs = 0;
  /** Reconnect back-off: doubles from min to max, with jitter (each delay is 50..100 %). */
  backoffMinMs = 1000;
  backoffMaxMs = 60000;
  /**
   * After a refusal (CONNACK 1, 2, 4, 5), a suspected take-over or repeated protocol
   * errors the back-off goes on doubling from backoffMaxMs up to this ceiling: the
   * client never gives up by itself, it only asks less often.
   */
  backoffCeilingMs = 3600000;
  /** How often to look again while Wi-Fi is down. */
  wifiPollMs = 2000;
  /** CONNACK must arrive within this after the transport opens. */
  connectTimeoutMs = 10000;
  /**
   * Take-over (or a broker that breaks the protocol): `takeoverCount` connections in a
   * row closed within `takeoverMs` of CONNACK, or failed on a protocol error.
   */
  takeoverMs = 3000;
  takeoverCount = 3;
  /** Oversized incoming PUBLISH: false = report, acknowledge and skip it; true = report and close. */
  closeOnOversize = false;
  /** Reconnect by itself after a lost connection. */
  autoReconnect = true;
  /**
   * Birth message (null topic = none), published after every CONNACK, after the
   * re-sends of the session and before the offline queue drains.
   */
  birthTopic: string | null = null;
  birthMessage = "";
  birthQos = 1;
  birthRetain = true;
}

/** Connection states. */
export const S_IDLE = 0;
export const S_WAIT_WIFI = 1;
export const S_OPENING = 2;
export const S_CONNACK = 3;
export const S_CONNECTED = 4;
export const S_BACKOFF = 5;
export const S_STOPPED = 6;

// In-flight slot states.
const F_FREE = 0;
const F_PUBACK = 1; // QoS 1 PUBLISH sent
const F_PUBREC = 2; // QoS 2 PUBLISH sent
const F_PUBCOMP = 3; // QoS 2 PUBREL sent

// Subscription entry states.
const SUB_NEW = 0; // to send
const SUB_SENT = 1; // awaiting SUBACK
const SUB_OK = 2;
const SUB_FAILED = 3; // SUBACK 0x80
const UNSUB_NEW = 4; // to unsubscribe
const UNSUB_SENT = 5; // awaiting UNSUBACK

const SESSION_MAGIC = "WS1";

/** One connection attempt's transport callbacks; stale ones (older generation) are ignored. */
class Conn implements LinkHandler {
  c: Client;
  gen: number;
  constructor(c: Client, gen: number) {
    this.c = c;
    this.gen = gen;
  }
  onOpen(): void {
    this.c.linkOpen(this.gen);
  }
  onData(data: string): void {
    this.c.linkData(this.gen, data);
  }
  onClose(reason: string): void {
    this.c.linkClosed(this.gen, reason);
  }
}

function u16(b: Bytes, o: number): number {
  return shl(byteAt(b, o), 8) | byteAt(b, o + 1);
}

/** Offset of the packet id in a QoS>0 PUBLISH encoded at offset 0 of b. */
function publishIdOffset(b: Bytes): number {
  let o = 1;
  while ((byteAt(b, o) & 128) !== 0) o++;
  o++;
  return o + 2 + u16(b, o);
}

/** The message of something thrown (an Error, or a string on Lua). */
function thrownText(e: unknown): string {
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === "string") return m;
  }
  return "error";
}

function chr2(v: number): string {
  return String.fromCharCode(shr(v, 8) & 255, v & 255);
}

function sget16(s: string, o: number): number {
  return shl(strByte(s, o), 8) | strByte(s, o + 1);
}

export class Client {
  cfg: ClientConfig;
  p: Platform;
  state = S_IDLE;
  /** Session present flag of the last CONNACK. */
  sessionPresent = false;
  /** Counters. */
  dropped = 0;
  oversized = 0;
  connects = 0;
  /** The last error reported (0 = none). */
  lastError = 0;
  /**
   * The last failure that made the client back off further (a refusal, ERR_TAKEOVER,
   * ERR_BROKER_FAULTS, a CONNECT that cannot be encoded); 0 = none. Kept until the app
   * clears it, so the app can publish it once connected.
   */
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

  reader: PacketReader;
  tx: Bytes;
  private link: Link | null = null;
  private gen = 0;
  private lastId = 0;

  // In-flight table.
  private fBuf: Bytes[] = [];
  private fLen: number[] = [];
  private fId: number[] = [];
  private fState: number[] = [];
  private fSeq: number[] = [];
  private seq = 0;

  // Offline queue: a ring of encoded PUBLISH packets (id patched when sent).
  private qBuf: Bytes[] = [];
  private qLen: number[] = [];
  private qQos: number[] = [];
  private qHead = 0;
  private qCount = 0;

  // Incoming QoS 2 ids received and not yet released (0 = free).
  private rIds: number[] = [];

  // Subscriptions.
  private sFilter: string[] = [];
  private sQos: number[] = [];
  private sHandler: (MessageHandler | null)[] = [];
  private sState: number[] = [];
  private sPid: number[] = [];

  // Timing.
  private lastSent = 0;
  private lastRecv = 0;
  private pingOut = false;
  private pingAt = 0;
  private connectedAt = 0;
  /** Connections in a row that failed soon after CONNACK or on a protocol error; how many of those were protocol errors. */
  private faults = 0;
  private protoFaults = 0;
  private attempt = 0;
  /** Rounds of the longer back-off since the last healthy connection. */
  private strikes = 0;
  /** Packet id of the birth while it is in flight (0 = none): a reconnect re-sends it rather than queueing another. */
  private birthId = 0;
  /** A write threw: the link is dead, the drop follows from a timer. */
  private writeBroken = false;
  /** Generation of the link disconnect() is closing (-1 = none). */
  private closingGen = -1;
  private kaTimer = -1;
  private rcTimer = -1;
  private ctTimer = -1;
  private kaTick: () => void;
  private rcTick: () => void;
  private ctTick: () => void;

  constructor(platform: Platform, cfg: ClientConfig) {
    this.p = platform;
    this.cfg = cfg;
    this.reader = new PacketReader(cfg.rxSize);
    this.tx = bytesNew(cfg.txSize);
    for (let i = 0; i < cfg.inflight; i++) {
      this.fBuf.push(bytesNew(cfg.slotSize));
      this.fLen.push(0);
      this.fId.push(0);
      this.fState.push(F_FREE);
      this.fSeq.push(0);
    }
    const qs = cfg.queueSlotSize > 0 ? cfg.queueSlotSize : cfg.slotSize;
    for (let i = 0; i < cfg.queue; i++) {
      this.qBuf.push(bytesNew(qs));
      this.qLen.push(0);
      this.qQos.push(0);
    }
    for (let i = 0; i < cfg.qos2Ids; i++) this.rIds.push(0);
    this.kaTick = () => {
      this.kaTimer = -1;
      this.keepAlive();
    };
    this.rcTick = () => {
      this.rcTimer = -1;
      this.attemptConnect();
    };
    this.ctTick = () => {
      this.ctTimer = -1;
      if (this.state === S_CONNACK || this.state === S_OPENING) this.drop(ERR_CONNECT_TIMEOUT, "no CONNACK in time");
    };
  }

  // ---------------------------------------------------------------- public API

  /** Start connecting (and keep reconnecting when autoReconnect). */
  connect(): void {
    if (this.state !== S_IDLE && this.state !== S_STOPPED) return;
    this.attempt = 0;
    this.faults = 0;
    this.protoFaults = 0;
    this.strikes = 0;
    this.attemptConnect();
  }

  /**
   * Send DISCONNECT (so no will is published) and close; no reconnect. Returns true
   * when a link is closing: onClosed follows once it has closed, i.e. once what was
   * written has left (Espruino's socket.write only queues; a deep sleep before the
   * close would drop the DISCONNECT and the broker would publish the will).
   */
  disconnect(): boolean {
    this.stopTimers();
    if (this.state === S_CONNECTED) {
      const n = encodeEmpty(this.tx, DISCONNECT);
      this.send(this.tx, n);
    }
    const closing = this.link !== null && !this.writeBroken;
    this.closingGen = closing ? this.gen : -1;
    this.closeLink();
    const was = this.state;
    this.state = S_STOPPED;
    if (was === S_CONNECTED || was === S_CONNACK) this.lost(0, "disconnected");
    return closing;
  }

  connected(): boolean {
    return this.state === S_CONNECTED;
  }

  /**
   * Publish. Returns the packet id (QoS 1/2 sent), 0 (QoS 0 sent), QUEUED (offline:
   * in the offline queue), or an error: ERR_INFLIGHT_FULL, ERR_NOT_CONNECTED, or a
   * codec error (bad topic, ERR_BUFFER_TOO_SMALL when it does not fit its buffer).
   */
  publish(topic: string, payload: string, qos: number, retain: boolean): number {
    if (qos < 0 || qos > 2) return ERR_QOS;
    if (this.state === S_CONNECTED && this.qCount === 0) return this.sendNew(topic, payload, qos, retain);
    if (this.qBuf.length === 0) return this.state === S_CONNECTED ? ERR_INFLIGHT_FULL : ERR_NOT_CONNECTED;
    return this.enqueue(topic, payload, qos, retain);
  }

  /** Free in-flight slots. */
  inflightFree(): number {
    let n = 0;
    for (let i = 0; i < this.fState.length; i++) if (this.fState[i] === F_FREE) n++;
    return n;
  }

  /** Messages waiting in the offline queue. */
  queued(): number {
    return this.qCount;
  }

  /**
   * Subscribe to filters[i] at qos[i]; `handler` (may be null) receives the
   * matching messages. Returns the SUBSCRIBE packet id, DEFERRED when not
   * connected (sent on connect), or an error. Results arrive per filter in onSubscribed.
   */
  subscribe(filters: string[], qos: number[], handler: MessageHandler | null): number {
    if (filters.length !== qos.length || filters.length === 0) return ERR_VALUE;
    for (let i = 0; i < filters.length; i++) {
      const e = checkFilter(filters[i]);
      if (e !== 0) return e;
      if (qos[i] < 0 || qos[i] > 2) return ERR_QOS;
    }
    let free = this.cfg.maxSubs - this.sFilter.length;
    for (const f of filters) if (this.findSub(f) < 0) free--;
    if (free < 0) return ERR_SUBS_FULL;
    for (let i = 0; i < filters.length; i++) {
      let k = this.findSub(filters[i]);
      if (k < 0) {
        k = this.sFilter.length;
        this.sFilter.push(filters[i]);
        this.sQos.push(0);
        this.sHandler.push(null);
        this.sState.push(SUB_NEW);
        this.sPid.push(0);
      }
      this.sQos[k] = qos[i];
      this.sHandler[k] = handler;
      this.sState[k] = SUB_NEW;
      this.sPid[k] = 0;
    }
    if (this.state !== S_CONNECTED) return DEFERRED;
    return this.flushSubs(SUB_NEW);
  }

  /** Unsubscribe; local dispatch stops at UNSUBACK. Returns the packet id, DEFERRED or an error. */
  unsubscribe(filters: string[]): number {
    if (filters.length === 0) return ERR_VALUE;
    for (const f of filters) {
      const e = checkFilter(f);
      if (e !== 0) return e;
    }
    for (const f of filters) {
      const k = this.findSub(f);
      if (k >= 0) {
        this.sState[k] = UNSUB_NEW;
        this.sPid[k] = 0;
      } else {
        if (this.sFilter.length >= this.cfg.maxSubs) return ERR_SUBS_FULL;
        this.sFilter.push(f);
        this.sQos.push(0);
        this.sHandler.push(null);
        this.sState.push(UNSUB_NEW);
        this.sPid.push(0);
      }
    }
    if (this.state !== S_CONNECTED) {
      if (this.cfg.connect.cleanSession) this.removeSubs(UNSUB_NEW, 0);
      return DEFERRED;
    }
    return this.flushSubs(UNSUB_NEW);
  }

  /** SUBACK result of a filter: 0..2 granted, 0x80 refused, -1 pending or unknown. */
  subscription(filter: string): number {
    const k = this.findSub(filter);
    if (k < 0) return -1;
    const s = this.sState[k];
    return s === SUB_OK ? this.sQos[k] : s === SUB_FAILED ? 0x80 : -1;
  }

  /**
   * The persistent-session state (client id, next id, in-flight slots, incoming
   * QoS 2 ids, offline queue) as a byte string; restoreSession() takes it back.
   */
  sessionData(): string {
    let s = SESSION_MAGIC + chr2(strLen(this.cfg.connect.clientId)) + this.cfg.connect.clientId + chr2(this.lastId);
    let n = 0;
    for (let i = 0; i < this.fState.length; i++) if (this.fState[i] !== F_FREE) n++;
    s += chr2(n);
    for (let k = 0; k < n; k++) {
      const i = this.oldestSlot(k);
      s += chr2(this.fState[i]) + chr2(this.fId[i]) + chr2(this.fLen[i]) + bytesToStr(this.fBuf[i], 0, this.fLen[i]);
    }
    n = 0;
    for (const id of this.rIds) if (id !== 0) n++;
    s += chr2(n);
    for (const id of this.rIds) if (id !== 0) s += chr2(id);
    s += chr2(this.qCount);
    for (let k = 0; k < this.qCount; k++) {
      const i = (this.qHead + k) % this.qBuf.length;
      s += chr2(this.qQos[i]) + chr2(this.qLen[i]) + bytesToStr(this.qBuf[i], 0, this.qLen[i]);
    }
    return s;
  }

  /** Save the session to Storage file `name` (before deep sleep). */
  saveSession(name: string): boolean {
    return this.p.storageWrite(name, this.sessionData());
  }

  /** Load the session saved under `name`; false (state untouched) when absent, for another client id or unreadable. */
  restoreSession(name: string): boolean {
    const s = this.p.storageRead(name);
    if (s === null) return false;
    const ok = this.loadSession(s);
    if (!ok) this.report(ERR_SESSION_DATA, name);
    return ok;
  }

  /** Take back sessionData(). */
  loadSession(s: string): boolean {
    const len = strLen(s);
    if (len < 5 || s.substring(0, 3) !== SESSION_MAGIC) return false;
    const cl = sget16(s, 3);
    let o = 5 + cl;
    if (o + 4 > len || s.substring(5, 5 + cl) !== this.cfg.connect.clientId) return false;
    // Validate the whole image before touching any state.
    const lastId = sget16(s, o);
    o += 2;
    const nf = sget16(s, o);
    o += 2;
    if (nf > this.fBuf.length) return false;
    const fStart = o;
    for (let k = 0; k < nf; k++) {
      if (o + 6 > len) return false;
      const st = sget16(s, o);
      const n = sget16(s, o + 4);
      if (st < F_PUBACK || st > F_PUBCOMP || n > this.cfg.slotSize || o + 6 + n > len) return false;
      o += 6 + n;
    }
    if (o + 2 > len) return false;
    const nr = sget16(s, o);
    if (nr > this.rIds.length || o + 2 + nr * 2 + 2 > len) return false;
    const rStart = o + 2;
    o = rStart + nr * 2;
    const nq = sget16(s, o);
    o += 2;
    if (nq > this.qBuf.length) return false;
    const qStart = o;
    const qs = this.qBuf.length > 0 ? bytesLen(this.qBuf[0]) : 0;
    for (let k = 0; k < nq; k++) {
      if (o + 4 > len) return false;
      const n = sget16(s, o + 2);
      if (n > qs || o + 4 + n > len) return false;
      o += 4 + n;
    }
    // Apply.
    this.lastId = lastId;
    o = fStart;
    for (let i = 0; i < this.fState.length; i++) this.fState[i] = F_FREE;
    for (let k = 0; k < nf; k++) {
      const n = sget16(s, o + 4);
      this.fState[k] = sget16(s, o);
      this.fId[k] = sget16(s, o + 2);
      this.fLen[k] = n;
      this.seq++;
      this.fSeq[k] = this.seq;
      const b = this.fBuf[k];
      for (let j = 0; j < n; j++) byteSet(b, j, strByte(s, o + 6 + j));
      o += 6 + n;
    }
    for (let i = 0; i < this.rIds.length; i++) this.rIds[i] = i < nr ? sget16(s, rStart + i * 2) : 0;
    o = qStart;
    this.qHead = 0;
    this.qCount = nq;
    for (let k = 0; k < nq; k++) {
      const n = sget16(s, o + 2);
      this.qQos[k] = sget16(s, o);
      this.qLen[k] = n;
      const b = this.qBuf[k];
      for (let j = 0; j < n; j++) byteSet(b, j, strByte(s, o + 4 + j));
      o += 4 + n;
    }
    return true;
  }

  // ------------------------------------------------------------- connection

  private attemptConnect(): void {
    if (this.state === S_CONNECTED || this.state === S_CONNACK || this.state === S_OPENING) return;
    if (!this.p.wifiUp()) {
      if (this.state !== S_WAIT_WIFI) this.p.log("mqtt: waiting for wifi");
      this.state = S_WAIT_WIFI;
      this.rcTimer = this.p.after(this.cfg.wifiPollMs, this.rcTick);
      return;
    }
    this.gen++;
    this.state = S_OPENING;
    this.writeBroken = false;
    this.reader.reset();
    let l: Link | null = null;
    let why = this.cfg.host;
    try {
      l = this.p.open(this.cfg.host, this.cfg.port, this.cfg.secure, new Conn(this, this.gen));
    } catch (e) {
      // Espruino's net.connect throws at once for an unknown host or when no socket is left.
      why = why + ": " + thrownText(e);
      l = null;
    }
    if (l === null) {
      this.state = S_BACKOFF;
      this.report(ERR_NO_LINK, why);
      this.scheduleReconnect(false);
      return;
    }
    this.link = l;
    this.ctTimer = this.p.after(this.cfg.connectTimeoutMs, this.ctTick);
  }

  /** @internal transport opened: send CONNECT. */
  linkOpen(gen: number): void {
    if (gen !== this.gen || this.state !== S_OPENING) return;
    const n = encodeConnect(this.tx, this.cfg.connect);
    if (n < 0) {
      // A setting the app may still change (keep-alive, credentials): retry, rarely.
      this.trouble = n;
      this.drop(n, "CONNECT");
      return;
    }
    this.state = S_CONNACK;
    this.lastRecv = this.p.millis();
    this.send(this.tx, n);
  }

  /** @internal bytes from the broker. */
  linkData(gen: number, data: string): void {
    if (gen !== this.gen) return;
    const r = this.reader;
    const n = strLen(data);
    let pos = 0;
    while (pos < n) {
      pos = r.feed(data, pos);
      if (r.status === PACKET_READY) {
        this.lastRecv = this.p.millis();
        this.pingOut = false;
        this.handle();
      } else if (r.status < 0) {
        this.lastRecv = this.p.millis();
        this.badPacket(r.status);
      }
      if (gen !== this.gen) return;
    }
  }

  /** @internal the transport closed. */
  linkClosed(gen: number, reason: string): void {
    if (gen === this.closingGen) {
      this.closingGen = -1;
      const h = this.onClosed;
      if (h !== null) h();
      return;
    }
    if (gen !== this.gen) return;
    this.drop(ERR_CLOSED, reason);
  }

  private closeLink(): void {
    const l = this.link;
    this.link = null;
    this.gen++;
    if (l !== null) l.close();
  }

  /**
   * The connection is gone (code says why): clean up, then reconnect after a back-off.
   * Refusals, suspected take-overs and repeated protocol errors back off further; the
   * client stops only when the application says so (disconnect(), autoReconnect false).
   */
  private drop(code: number, reason: string): void {
    const was = this.state;
    this.closeLink();
    this.stopTimers();
    if (code !== ERR_CLOSED && code !== 0) this.report(code, reason);
    const now = this.p.millis();
    const proto = code < 0 && ((code > -30 && code !== ERR_PACKET_TOO_LARGE) || code === ERR_UNEXPECTED);
    if (was === S_CONNECTED && now - this.connectedAt >= this.cfg.takeoverMs && !proto) {
      // A healthy connection: start the back-off from the bottom again.
      this.faults = 0;
      this.protoFaults = 0;
      this.attempt = 0;
      this.strikes = 0;
    } else if (was === S_CONNECTED || proto) {
      this.faults++;
      if (proto) this.protoFaults++;
    }
    this.state = S_BACKOFF;
    this.lost(code, reason);
    if (this.state !== S_BACKOFF) return; // the handler decided (disconnect/connect)
    let severe = isRefusal(code) || code === this.trouble;
    if (isRefusal(code)) this.trouble = code;
    if (this.faults >= this.cfg.takeoverCount) {
      const t = this.protoFaults > 0 ? ERR_BROKER_FAULTS : ERR_TAKEOVER;
      this.faults = 0;
      this.protoFaults = 0;
      this.trouble = t;
      this.report(t, t === ERR_TAKEOVER ? this.cfg.connect.clientId : reason);
      severe = true;
    }
    if (!this.cfg.autoReconnect) {
      this.state = S_STOPPED;
      return;
    }
    this.scheduleReconnect(severe);
  }

  /** Per-connection state that does not survive a connection. */
  private lost(code: number, reason: string): void {
    this.pingOut = false;
    for (let i = 0; i < this.sState.length; i++) {
      if (this.sState[i] === SUB_SENT) this.sState[i] = SUB_NEW;
      else if (this.sState[i] === UNSUB_SENT) this.sState[i] = UNSUB_NEW;
      this.sPid[i] = 0;
    }
    this.p.log("mqtt: closed (" + (reason === "" ? clientErrorName(code) : reason) + ")");
    const h = this.onDisconnect;
    if (h !== null) h(code, reason);
  }

  private scheduleReconnect(severe: boolean): void {
    let d = this.cfg.backoffMinMs;
    let cap = this.cfg.backoffMaxMs;
    let n = this.attempt;
    if (severe || this.strikes > 0) {
      // The longer back-off: from the ordinary ceiling up to backoffCeilingMs.
      d = this.cfg.backoffMaxMs;
      cap = this.cfg.backoffCeilingMs > d ? this.cfg.backoffCeilingMs : d;
      n = this.strikes;
      if (severe) this.strikes++;
    } else {
      this.attempt++;
    }
    for (let i = 0; i < n && d < cap; i++) d = d * 2;
    if (d > cap) d = cap;
    d = Math.floor(d * 0.5 + this.p.random() * d * 0.5);
    this.p.log("mqtt: reconnect in " + d + " ms");
    this.rcTimer = this.p.after(d, this.rcTick);
  }

  private stopTimers(): void {
    if (this.kaTimer >= 0) this.p.cancel(this.kaTimer);
    if (this.rcTimer >= 0) this.p.cancel(this.rcTimer);
    if (this.ctTimer >= 0) this.p.cancel(this.ctTimer);
    this.kaTimer = -1;
    this.rcTimer = -1;
    this.ctTimer = -1;
  }

  private report(code: number, detail: string): void {
    this.lastError = code;
    this.p.log("mqtt: " + clientErrorName(code) + (detail === "" ? "" : " (" + detail + ")"));
    const h = this.onError;
    if (h !== null) h(code, detail);
  }

  private send(b: Bytes, n: number): boolean {
    const l = this.link;
    if (l === null || this.writeBroken || n <= 0) return false;
    this.lastSent = this.p.millis();
    let ok = false;
    let why = "";
    try {
      ok = l.write(bytesToStr(b, 0, n));
    } catch (e) {
      why = thrownText(e);
    }
    if (why !== "") {
      // Dropped from a timer, not here: the caller may be half-way through a table.
      // What was being sent stays in its slot or queue and goes out on the next link.
      this.writeBroken = true;
      const g = this.gen;
      this.p.after(0, () => {
        if (g === this.gen) this.drop(ERR_WRITE, why);
      });
    }
    return ok;
  }

  private sendAck(type: number, id: number): void {
    this.send(this.tx, encodeAck(this.tx, type, id));
  }

  // ------------------------------------------------------------- keep-alive

  private keepAlive(): void {
    if (this.state !== S_CONNECTED) return;
    const ka = this.cfg.connect.keepAlive * 1000;
    if (ka <= 0) return;
    const wait = this.cfg.pingTimeoutMs > 0 ? this.cfg.pingTimeoutMs : this.cfg.connect.keepAlive * 500;
    const now = this.p.millis();
    let next = 0;
    if (this.pingOut) {
      if (now - this.pingAt >= wait) {
        this.drop(ERR_DEAD_LINK, "");
        return;
      }
      next = this.pingAt + wait - now;
    } else {
      const idle = now - (this.lastSent < this.lastRecv ? this.lastSent : this.lastRecv);
      if (idle >= ka) {
        this.pingOut = true;
        this.pingAt = now;
        this.send(this.tx, encodeEmpty(this.tx, PINGREQ));
        next = wait;
      } else {
        next = ka - idle;
      }
    }
    this.kaTimer = this.p.after(next > 0 ? next : 1, this.kaTick);
  }

  // ------------------------------------------------------------- incoming

  private handle(): void {
    const r = this.reader;
    const pk = r.packet;
    const t = pk.type;
    if (t === CONNACK) {
      this.connack(pk.sessionPresent, pk.returnCode);
      return;
    }
    if (this.state !== S_CONNECTED) {
      this.drop(ERR_UNEXPECTED, "packet type " + t + " before CONNACK");
      return;
    }
    if (t === PUBLISH) {
      const id = pk.id;
      const qos = pk.qos;
      if (qos === 2) {
        if (this.rxHas(id)) {
          this.sendAck(PUBREC, id); // a re-send before PUBREL: already delivered
          return;
        }
        if (!this.rxAdd(id)) {
          // Not delivered, not acknowledged: close, so the broker re-sends it (with a
          // persistent session) once PUBRELs have freed the table. Never a duplicate.
          this.drop(ERR_QOS2_FULL, "id " + id + " topic " + r.str(pk.topicOff, pk.topicLen));
          return;
        }
      }
      this.deliver(r.str(pk.topicOff, pk.topicLen), r.str(pk.payloadOff, pk.payloadLen), qos, pk.retain);
      if (qos === 1) this.sendAck(PUBACK, id);
      else if (qos === 2) this.sendAck(PUBREC, id);
    } else if (t === PUBACK || t === PUBREC || t === PUBCOMP) {
      const want = t === PUBACK ? F_PUBACK : t === PUBREC ? F_PUBREC : F_PUBCOMP;
      let k = -1;
      for (let i = 0; i < this.fId.length; i++) {
        if (this.fId[i] === pk.id && this.fState[i] !== F_FREE) k = i;
      }
      if (t === PUBREC) {
        // Answer every PUBREC (also a repeated one, or one for a flow we no longer hold).
        if (k >= 0 && this.fState[k] === F_PUBREC) this.fState[k] = F_PUBCOMP;
        else if (k < 0) this.report(ERR_UNKNOWN_ID, "PUBREC " + pk.id);
        this.sendAck(PUBREL, pk.id);
        return;
      }
      if (k >= 0 && this.fState[k] === want) {
        this.fState[k] = F_FREE;
        this.fId[k] = 0;
        const h = this.onPublished;
        if (h !== null) h(pk.id);
        this.drain();
      } else if (k < 0) {
        // Nothing to free; the spec asks nothing more. Named, so a confused broker shows.
        this.report(ERR_UNKNOWN_ID, (t === PUBACK ? "PUBACK " : "PUBCOMP ") + pk.id);
      }
    } else if (t === PUBREL) {
      this.rxRemove(pk.id);
      this.sendAck(PUBCOMP, pk.id);
    } else if (t === SUBACK) {
      let j = 0;
      for (let i = 0; i < this.sPid.length; i++) {
        if (this.sPid[i] === pk.id && this.sState[i] === SUB_SENT) {
          const code = r.codeAt(j);
          j++;
          this.sPid[i] = 0;
          this.sState[i] = code === 0x80 || code < 0 ? SUB_FAILED : SUB_OK;
          if (code >= 0 && code <= 2) this.sQos[i] = code;
          const h = this.onSubscribed;
          if (h !== null) h(this.sFilter[i], code);
        }
      }
    } else if (t === UNSUBACK) {
      this.removeSubs(UNSUB_SENT, pk.id);
    } else if (t === PINGRESP) {
      // lastRecv and pingOut already updated
    } else {
      this.drop(ERR_UNEXPECTED, "packet type " + t);
    }
  }

  private connack(sp: boolean, rc: number): void {
    if (this.state !== S_CONNACK) {
      this.drop(ERR_UNEXPECTED, "CONNACK out of turn");
      return;
    }
    if (this.ctTimer >= 0) this.p.cancel(this.ctTimer);
    this.ctTimer = -1;
    if (rc !== 0) {
      this.drop(connackError(rc), "CONNACK " + rc);
      return;
    }
    const now = this.p.millis();
    this.state = S_CONNECTED;
    this.sessionPresent = sp;
    this.connectedAt = now;
    this.lastRecv = now;
    this.connects++;
    this.p.log("mqtt connected session=" + (sp ? 1 : 0));
    if (!sp) {
      for (let i = 0; i < this.rIds.length; i++) this.rIds[i] = 0;
    }
    this.resend(sp);
    // Subscriptions: the broker kept them only when the session is present.
    if (!sp) {
      this.removeSubs(UNSUB_NEW, 0);
      for (let i = 0; i < this.sState.length; i++) this.sState[i] = SUB_NEW;
    }
    if (this.state !== S_CONNECTED) return;
    this.flushSubs(SUB_NEW);
    this.flushSubs(UNSUB_NEW);
    const bt = this.cfg.birthTopic;
    if (bt !== null && !this.inFlight(this.birthId)) {
      // An unacknowledged birth from an earlier connection was re-sent above: one is enough.
      const r = this.sendNew(bt, this.cfg.birthMessage, this.cfg.birthQos, this.cfg.birthRetain);
      if (r < 0) this.report(r, "birth " + bt);
      this.birthId = r > 0 ? r : 0;
    }
    this.drain();
    if (this.cfg.connect.keepAlive > 0) this.kaTimer = this.p.after(this.cfg.connect.keepAlive * 1000, this.kaTick);
    const h = this.onConnect;
    if (h !== null) h(sp);
  }

  /**
   * After CONNACK: re-send unacknowledged messages in their original order, DUP set.
   * A QoS 2 flow past PUBREC re-sends PUBREL when the session is present; when the
   * broker lost the session, it already had the message, so the flow is complete.
   */
  private resend(sp: boolean): void {
    let n = 0;
    for (let i = 0; i < this.fState.length; i++) if (this.fState[i] !== F_FREE) n++;
    for (let k = 0; k < n; k++) {
      const i = this.oldestSlot(k);
      if (this.fState[i] === F_PUBCOMP) {
        if (sp) this.sendAck(PUBREL, this.fId[i]);
        else {
          this.fState[i] = F_FREE;
          const h = this.onPublished;
          if (h !== null) h(this.fId[i]);
        }
      } else {
        setDup(this.fBuf[i]);
        this.send(this.fBuf[i], this.fLen[i]);
      }
    }
  }

  /** Slot index of the k-th oldest used in-flight slot (order of sending). */
  private oldestSlot(k: number): number {
    let floor = -1;
    let best = -1;
    for (let step = 0; step <= k; step++) {
      best = -1;
      for (let i = 0; i < this.fState.length; i++) {
        if (this.fState[i] !== F_FREE && this.fSeq[i] > floor && (best < 0 || this.fSeq[i] < this.fSeq[best])) best = i;
      }
      if (best < 0) return -1;
      floor = this.fSeq[best];
    }
    return best;
  }

  private badPacket(code: number): void {
    const pk = this.reader.packet;
    if (code === ERR_PACKET_TOO_LARGE) {
      this.oversized++;
      const topic = pk.type === PUBLISH && pk.topicLen >= 0 ? this.reader.str(pk.topicOff, pk.topicLen) : "?";
      const detail = "type " + pk.type + " topic " + topic + " size " + pk.length;
      if (this.cfg.closeOnOversize || pk.type !== PUBLISH) {
        this.drop(code, detail);
        return;
      }
      this.report(code, detail);
      // Skipped: acknowledge it, so the broker does not hold it forever; it was reported, never delivered.
      if (pk.qos > 0 && pk.topicLen >= 0 && pk.topicOff + pk.topicLen + 2 <= this.reader.cap) {
        const id = u16(this.reader.rx, pk.topicOff + pk.topicLen);
        if (id !== 0) this.sendAck(pk.qos === 1 ? PUBACK : PUBREC, id);
      }
      return;
    }
    this.drop(code, "malformed packet from broker");
  }

  private deliver(topic: string, payload: string, qos: number, retain: boolean): void {
    const g = this.gen;
    for (let i = 0; i < this.sFilter.length; i++) {
      const h = this.sHandler[i];
      if (h !== null && this.sState[i] !== SUB_FAILED && topicMatches(this.sFilter[i], topic)) {
        h(topic, payload, qos, retain);
        if (g !== this.gen) return;
      }
    }
    const m = this.onMessage;
    if (m !== null) m(topic, payload, qos, retain);
  }

  private rxHas(id: number): boolean {
    for (const v of this.rIds) if (v === id) return true;
    return false;
  }

  private rxAdd(id: number): boolean {
    for (let i = 0; i < this.rIds.length; i++) {
      if (this.rIds[i] === 0) {
        this.rIds[i] = id;
        return true;
      }
    }
    return false;
  }

  private rxRemove(id: number): void {
    for (let i = 0; i < this.rIds.length; i++) if (this.rIds[i] === id) this.rIds[i] = 0;
  }

  // ------------------------------------------------------------- outgoing

  private inFlight(id: number): boolean {
    if (id <= 0) return false;
    for (let i = 0; i < this.fId.length; i++) if (this.fState[i] !== F_FREE && this.fId[i] === id) return true;
    return false;
  }

  private idInUse(id: number): boolean {
    for (let i = 0; i < this.fId.length; i++) if (this.fState[i] !== F_FREE && this.fId[i] === id) return true;
    for (const v of this.sPid) if (v === id) return true;
    return false;
  }

  private nextId(): number {
    for (let n = 0; n < 65535; n++) {
      this.lastId = this.lastId >= 65535 ? 1 : this.lastId + 1;
      if (!this.idInUse(this.lastId)) return this.lastId;
    }
    return 0;
  }

  private freeSlot(): number {
    for (let i = 0; i < this.fState.length; i++) if (this.fState[i] === F_FREE) return i;
    return -1;
  }

  private sendNew(topic: string, payload: string, qos: number, retain: boolean): number {
    if (qos === 0) {
      const n = encodePublish(this.tx, topic, payload, 0, retain, false, 0);
      if (n < 0) return n;
      this.send(this.tx, n);
      return 0;
    }
    const k = this.freeSlot();
    if (k < 0) return ERR_INFLIGHT_FULL;
    const id = this.nextId();
    if (id === 0) return ERR_NO_ID;
    const n = encodePublish(this.fBuf[k], topic, payload, qos, retain, false, id);
    if (n < 0) return n;
    this.claim(k, id, n, qos);
    this.send(this.fBuf[k], n);
    return id;
  }

  private claim(k: number, id: number, n: number, qos: number): void {
    this.fLen[k] = n;
    this.fId[k] = id;
    this.fState[k] = qos === 1 ? F_PUBACK : F_PUBREC;
    this.seq++;
    this.fSeq[k] = this.seq;
  }

  private enqueue(topic: string, payload: string, qos: number, retain: boolean): number {
    const cap = this.qBuf.length;
    let k = (this.qHead + this.qCount) % cap;
    if (this.qCount === cap) {
      // Full: drop the oldest, keep the newest.
      k = this.qHead;
      const n = encodePublish(this.qBuf[k], topic, payload, qos, retain, false, 1);
      if (n < 0) return n; // nothing dropped
      this.qHead = (this.qHead + 1) % cap;
      this.qLen[k] = n;
      this.qQos[k] = qos;
      this.dropped++;
      this.report(ERR_QUEUE_DROP, "dropped " + this.dropped);
      return QUEUED;
    }
    const n = encodePublish(this.qBuf[k], topic, payload, qos, retain, false, 1);
    if (n < 0) return n;
    this.qLen[k] = n;
    this.qQos[k] = qos;
    this.qCount++;
    return QUEUED;
  }

  /** Send queued messages, oldest first, while connected and in-flight slots allow. */
  private drain(): void {
    while (this.qCount > 0 && this.state === S_CONNECTED) {
      const i = this.qHead;
      const qb = this.qBuf[i];
      const n = this.qLen[i];
      if (this.qQos[i] === 0) {
        if (!this.send(qb, n)) return;
      } else {
        const k = this.freeSlot();
        if (k < 0 || n > bytesLen(this.fBuf[k])) {
          if (k >= 0) {
            // Larger than an in-flight slot (queue slots configured bigger): cannot be tracked.
            this.report(ERR_BUFFER_TOO_SMALL, "queued message of " + n + " bytes");
            this.qHead = (i + 1) % this.qBuf.length;
            this.qCount--;
            this.dropped++;
            continue;
          }
          return;
        }
        const id = this.nextId();
        if (id === 0) return;
        const b = this.fBuf[k];
        bytesCopy(b, 0, qb, 0, n);
        const o = publishIdOffset(b);
        byteSet(b, o, shr(id, 8));
        byteSet(b, o + 1, id & 255);
        this.claim(k, id, n, this.qQos[i]);
        this.send(b, n);
      }
      this.qHead = (i + 1) % this.qBuf.length;
      this.qCount--;
    }
  }

  // ------------------------------------------------------------- subscriptions

  private findSub(f: string): number {
    for (let i = 0; i < this.sFilter.length; i++) if (this.sFilter[i] === f) return i;
    return -1;
  }

  /** Remove entries in state `st` (with packet id `pid`, or any when 0). */
  private removeSubs(st: number, pid: number): void {
    let j = 0;
    const n = this.sFilter.length;
    for (let i = 0; i < n; i++) {
      if (this.sState[i] === st && (pid === 0 || this.sPid[i] === pid)) continue;
      this.sFilter[j] = this.sFilter[i];
      this.sQos[j] = this.sQos[i];
      this.sHandler[j] = this.sHandler[i];
      this.sState[j] = this.sState[i];
      this.sPid[j] = this.sPid[i];
      j++;
    }
    while (this.sFilter.length > j) {
      this.sFilter.pop();
      this.sQos.pop();
      this.sHandler.pop();
      this.sState.pop();
      this.sPid.pop();
    }
  }

  /**
   * Send every entry in state `st` (SUB_NEW or UNSUB_NEW) in one SUBSCRIBE /
   * UNSUBSCRIBE, or one per filter when they do not fit the TX buffer together.
   * Returns the first packet id used, or an error.
   */
  private flushSubs(st: number): number {
    const f: string[] = [];
    const q: number[] = [];
    for (let i = 0; i < this.sState.length; i++) {
      if (this.sState[i] === st) {
        f.push(this.sFilter[i]);
        q.push(this.sQos[i]);
      }
    }
    if (f.length === 0) return DEFERRED;
    const id = this.nextId();
    if (id === 0) return ERR_NO_ID;
    const n = st === SUB_NEW ? encodeSubscribe(this.tx, id, f, q) : encodeUnsubscribe(this.tx, id, f);
    if (n >= 0) {
      this.markSent(st, -1, id);
      this.send(this.tx, n);
      return id;
    }
    if (n !== ERR_BUFFER_TOO_SMALL || f.length === 1) {
      this.report(n, st === SUB_NEW ? "SUBSCRIBE" : "UNSUBSCRIBE");
      return n;
    }
    let first = 0;
    for (let i = 0; i < this.sState.length; i++) {
      if (this.sState[i] !== st) continue;
      const one = this.nextId();
      if (one === 0) return ERR_NO_ID;
      const fl = [this.sFilter[i]];
      const m = st === SUB_NEW ? encodeSubscribe(this.tx, one, fl, [this.sQos[i]]) : encodeUnsubscribe(this.tx, one, fl);
      if (m < 0) {
        this.report(m, this.sFilter[i]);
        if (first === 0) first = m;
        continue;
      }
      this.markSent(st, i, one);
      this.send(this.tx, m);
      if (first === 0) first = one;
    }
    return first;
  }

  private markSent(st: number, only: number, id: number): void {
    for (let i = 0; i < this.sState.length; i++) {
      if (this.sState[i] === st && (only < 0 || only === i)) {
        this.sState[i] = st === SUB_NEW ? SUB_SENT : UNSUB_SENT;
        this.sPid[i] = id;
      }
    }
  }
}

export { ConnectOptions } from "./packet";
export { errorName } from "./errors";
export * from "./results";

/** A ClientConfig with the defaults (a plain function, for Lua callers). */
export function newClientConfig(): ClientConfig {
  return new ClientConfig();
}

/** A client; allocates all its buffers now (a plain function, for Lua callers). */
export function newClient(platform: Platform, cfg: ClientConfig): Client {
  return new Client(platform, cfg);
}
