/**
 * The MQTT 3.1.1 client session: the connection state machine (connect, back-off,
 * reconnect), keep-alive, and the flows of QoS 0/1/2 both ways. Its tables are units
 * of their own: the in-flight table (inflight.ts), the offline ring (offline-ring.ts),
 * the subscription table (subscriptions.ts), the session image (session-image.ts) and
 * the back-off (backoff.ts). docs/client.md describes it.
 *
 * Memory: every packet buffer (RX, TX, in-flight slots, offline queue slots) is
 * allocated in the constructor. After that, a QoS 1/2 PUBLISH is encoded once into its
 * slot and re-sent from there (DUP set in place); acks and pings use the TX buffer.
 * Only the strings handed to Link.write and to handlers are allocated.
 */
import type { ClientPlatform, Link } from "../hal/platform";
import { Backoff } from "./backoff";
import { ClientConfig, MessageHandler } from "./config";
import { encodeAck, encodeConnect, encodeEmpty } from "./encode";
import { ERR_QOS, PACKET_READY } from "./errors";
import { badPacket, flushSubs, handlePacket, sendNew } from "./flows";
import { InflightTable } from "./inflight";
import { OfflineRing, RING_DROPPED_OLDEST } from "./offline-ring";
import { DISCONNECT, PINGREQ } from "./packet";
import { PacketReader } from "./reader";
import * as R from "./results";
import { decodeSession, encodeSession } from "./session-image";
import { SUB_NEW, SubscriptionTable, UNSUB_NEW } from "./subscriptions";
import { Conn } from "./conn";

/** Connection states. */
export const S_IDLE = 0;
export const S_WAIT_WIFI = 1;
export const S_OPENING = 2;
export const S_CONNACK = 3;
export const S_CONNECTED = 4;
export const S_BACKOFF = 5;
export const S_STOPPED = 6;

export class Client {
  cfg: ClientConfig;
  p: ClientPlatform;
  state = S_IDLE;
  /** Session present flag of the last CONNACK. */
  sessionPresent = false;
  dropped = 0;
  oversized = 0;
  connects = 0;
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

  reader: PacketReader;
  tx: Bytes;
  flights: InflightTable;
  ring: OfflineRing;
  subs: SubscriptionTable;
  backoff: Backoff = new Backoff();
  // @internal: shared with flows.ts.
  gen = 0;
  lastId = 0;
  lastRecv = 0;
  connectedAt = 0;
  /** Packet id of the birth while it is in flight (0 = none): a reconnect re-sends it rather than queueing another. */
  birthId = 0;
  private link: Link | null = null;
  private lastSent = 0;
  private pingOut = false;
  private pingAt = 0;
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

  constructor(platform: ClientPlatform, cfg: ClientConfig) {
    this.p = platform;
    this.cfg = cfg;
    this.reader = new PacketReader(cfg.rxSize);
    this.tx = bytesNew(cfg.txSize);
    this.flights = new InflightTable(cfg.inflight, cfg.slotSize, cfg.qos2Ids);
    this.ring = new OfflineRing(cfg.queue, cfg.queueSlotSize > 0 ? cfg.queueSlotSize : cfg.slotSize);
    this.subs = new SubscriptionTable(cfg.maxSubs);
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
      if (this.state === S_CONNACK || this.state === S_OPENING) this.drop(R.ERR_CONNECT_TIMEOUT, "no CONNACK in time");
    };
  }

  // ---------------------------------------------------------------- public API

  /** Start connecting; reconnects after every failure until disconnect(). */
  connect(): void {
    if (this.state !== S_IDLE && this.state !== S_STOPPED) return;
    this.backoff.reset();
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
    if (this.state === S_CONNECTED) this.send(this.tx, encodeEmpty(this.tx, DISCONNECT));
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

  /** Returns the packet id (QoS 1/2 sent), 0 (QoS 0 sent), QUEUED, or an error (docs/client.md). */
  publish(topic: string, payload: string, qos: number, retain: boolean): number {
    if (qos < 0 || qos > 2) return ERR_QOS;
    if (this.state === S_CONNECTED && this.ring.count === 0) return sendNew(this, topic, payload, qos, retain);
    if (this.ring.capacity() === 0) return this.state === S_CONNECTED ? R.ERR_INFLIGHT_FULL : R.ERR_NOT_CONNECTED;
    const r = this.ring.put(topic, payload, qos, retain);
    if (r < 0) return r;
    if (r === RING_DROPPED_OLDEST) {
      this.dropped++;
      this.report(R.ERR_QUEUE_DROP, "dropped " + this.dropped);
    }
    return R.QUEUED;
  }

  inflightFree(): number {
    return this.flights.free();
  }
  queued(): number {
    return this.ring.count;
  }

  /** filters[i] at qos[i], `handler` (or null) gets their messages; the SUBSCRIBE id, DEFERRED or an error; results in onSubscribed. */
  subscribe(filters: string[], qos: number[], handler: MessageHandler | null): number {
    const e = this.subs.subscribe(filters, qos, handler);
    if (e < 0) return e;
    return this.state === S_CONNECTED ? flushSubs(this, SUB_NEW) : R.DEFERRED;
  }

  /** Unsubscribe; local dispatch stops at UNSUBACK. Returns the packet id, DEFERRED or an error. */
  unsubscribe(filters: string[]): number {
    const e = this.subs.unsubscribe(filters);
    if (e < 0) return e;
    if (this.state === S_CONNECTED) return flushSubs(this, UNSUB_NEW);
    if (this.cfg.connect.cleanSession) this.subs.remove(UNSUB_NEW, 0);
    return R.DEFERRED;
  }

  /** SUBACK result of a filter: 0..2 granted, 0x80 refused, -1 pending or unknown. */
  subscription(filter: string): number {
    return this.subs.result(filter);
  }

  /** The persistent-session state as a byte string (session-image.ts); loadSession() takes it back. */
  sessionData(): string {
    return encodeSession(this.cfg.connect.clientId, this.lastId, this.flights, this.ring);
  }

  /** Save the session to Storage file `name` (before deep sleep). */
  saveSession(name: string): boolean {
    return this.p.storageWrite(name, this.sessionData());
  }

  /** Load the session saved under `name`; false (state untouched) when absent, for another client id or unreadable. */
  restoreSession(name: string): boolean {
    const s = this.p.storageRead(name);
    const ok = s !== null && this.loadSession(s);
    if (s !== null && !ok) this.report(R.ERR_SESSION_DATA, name);
    return ok;
  }
  loadSession(s: string): boolean {
    const id = decodeSession(s, this.cfg.connect.clientId, this.flights, this.ring);
    if (id < 0) return false;
    this.lastId = id;
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
      why = why + ": " + R.thrownText(e);
      l = null;
    }
    if (l === null) {
      this.state = S_BACKOFF;
      this.report(R.ERR_NO_LINK, why);
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
        handlePacket(this);
      } else if (r.status < 0) {
        this.lastRecv = this.p.millis();
        badPacket(this, r.status);
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
    if (gen === this.gen) this.drop(R.ERR_CLOSED, reason);
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
  /** @internal */
  drop(code: number, reason: string): void {
    const was = this.state;
    const b = this.backoff;
    this.closeLink();
    this.stopTimers();
    if (code !== R.ERR_CLOSED && code !== 0) this.report(code, reason);
    const proto = R.isBrokerFault(code);
    if (was === S_CONNECTED && this.p.millis() - this.connectedAt >= this.cfg.takeoverMs && !proto) b.reset();
    else if (was === S_CONNECTED || proto) b.fault(proto);
    this.state = S_BACKOFF;
    this.lost(code, reason);
    if (this.state !== S_BACKOFF) return; // the handler decided (disconnect/connect)
    let severe = R.isRefusal(code) || code === this.trouble;
    if (R.isRefusal(code)) this.trouble = code;
    if (b.faults >= this.cfg.takeoverCount) {
      const t = b.protoFaults > 0 ? R.ERR_BROKER_FAULTS : R.ERR_TAKEOVER;
      b.faults = 0;
      b.protoFaults = 0;
      this.trouble = t;
      this.report(t, t === R.ERR_TAKEOVER ? this.cfg.connect.clientId : reason);
      severe = true;
    }
    if (!this.cfg.autoReconnect) this.state = S_STOPPED;
    else this.scheduleReconnect(severe);
  }

  /** Per-connection state that does not survive a connection. */
  private lost(code: number, reason: string): void {
    this.pingOut = false;
    this.subs.unsent();
    this.p.log("mqtt: closed (" + (reason === "" ? R.clientErrorName(code) : reason) + ")");
    const h = this.onDisconnect;
    if (h !== null) h(code, reason);
  }

  private scheduleReconnect(severe: boolean): void {
    const c = this.cfg;
    const d = this.backoff.next(severe, c.backoffMinMs, c.backoffMaxMs, c.backoffCeilingMs, this.p.random());
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
    if (l === null || this.writeBroken || n <= 0) return false;
    this.lastSent = this.p.millis();
    let ok = false;
    let why = "";
    try {
      ok = l.write(bytesToStr(b, 0, n));
    } catch (e) {
      why = R.thrownText(e);
    }
    if (why !== "") {
      // Dropped from a timer, not here: the caller may be half-way through a table.
      // What was being sent stays in its slot or queue and goes out on the next link.
      this.writeBroken = true;
      const g = this.gen;
      this.p.after(0, () => {
        if (g === this.gen) this.drop(R.ERR_WRITE, why);
      });
    }
    return ok;
  }

  /** @internal */
  sendAck(type: number, id: number): void {
    this.send(this.tx, encodeAck(this.tx, type, id));
  }

  /** @internal CONNACK arrived. */
  cancelConnectTimer(): void {
    if (this.ctTimer >= 0) this.p.cancel(this.ctTimer);
    this.ctTimer = -1;
  }

  /** @internal connected: the keep-alive timer starts. */
  startKeepAlive(): void {
    if (this.cfg.connect.keepAlive > 0) this.kaTimer = this.p.after(this.cfg.connect.keepAlive * 1000, this.kaTick);
  }

  /** PINGREQ when nothing was sent or nothing received for the keep-alive; no answer in time: dead link. */
  private keepAlive(): void {
    if (this.state !== S_CONNECTED) return;
    const ka = this.cfg.connect.keepAlive * 1000;
    if (ka <= 0) return;
    const wait = this.cfg.pingTimeoutMs > 0 ? this.cfg.pingTimeoutMs : this.cfg.connect.keepAlive * 500;
    const now = this.p.millis();
    let next = 0;
    if (this.pingOut) {
      if (now - this.pingAt >= wait) {
        this.drop(R.ERR_DEAD_LINK, "");
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
}

export { ClientConfig } from "./config";
export type { MessageHandler } from "./config";
export { ConnectOptions } from "./packet";
export { Backoff } from "./backoff";
export { InflightTable } from "./inflight";
export { OfflineRing } from "./offline-ring";
export { SubscriptionTable } from "./subscriptions";
export { decodeSession, encodeSession } from "./session-image";
export { errorName } from "./errors";
export * from "./results";

/** A ClientConfig with the defaults (a plain function, for Lua callers). */
export function newClientConfig(): ClientConfig {
  return new ClientConfig();
}

/** A client; allocates all its buffers now (a plain function, for Lua callers). */
export function newClient(platform: ClientPlatform, cfg: ClientConfig): Client {
  return new Client(platform, cfg);
}
