/**
 * MQTT over WebSocket (RFC 6455), written in the subset on fixed buffers.
 *
 * `WsPlatform` wraps a Platform: every call goes to the inner one, except `open()`,
 * which opens the inner TCP (or TLS, for wss) link and returns a `WsLink` on top of
 * it. The client above sees an ordinary Link: it gets `onOpen` only once the server
 * has answered the HTTP Upgrade with 101, the `websocket` upgrade and the `mqtt`
 * subprotocol; what it writes goes out as masked binary frames; what the server sends
 * comes back as the payload bytes of its binary (and continuation) frames.
 *
 * Buffers (frame header, control payload, TX frame, HTTP answer, SHA-1) belong to the
 * WsPlatform and are allocated once in its constructor; a connection only costs a
 * small WsLink object. Strings are made only where the platform forces them
 * (Link.write, LinkHandler.onData).
 *
 * The HTTP Upgrade (request, and the check of the answer's status, upgrade,
 * subprotocol and Sec-WebSocket-Accept) is in ws-handshake.ts.
 *
 * Errors end the connection; the inner handler's onClose gets the reason, which
 * starts with "ws: " (see WS_* below).
 */
import type { DeviceSettings, Link, LinkHandler, Platform } from "../hal/platform";
import { get16, put16 } from "../mqtt/u16";
import { checkUpgrade, upgradeRequest } from "./ws-handshake";
export { sha1Hex } from "./sha1";
export { WS_BAD_ACCEPT, WS_BAD_PROTOCOL, WS_BAD_STATUS, WS_NO_UPGRADE } from "./ws-handshake";

export const WS_HTTP_TOO_LARGE = "ws: upgrade answer too large";
export const WS_CLOSED_IN_UPGRADE = "ws: closed during upgrade";
export const WS_MASKED = "ws: masked server frame";
export const WS_RESERVED = "ws: reserved bits set";
export const WS_TEXT = "ws: text frame";
export const WS_OPCODE = "ws: bad opcode";
export const WS_BAD_CONTROL = "ws: bad control frame";
export const WS_TOO_LARGE = "ws: frame too large";
export const WS_SERVER_CLOSE = "ws: closed by server";

// Link states.
const L_TCP = 0; // waiting for the transport
const L_UPGRADE = 1; // request sent, reading the HTTP answer
const L_OPEN = 2;
const L_CLOSED = 3;

// Frame reader states.
const F_HEAD = 0;
const F_BODY = 1;

const OP_CONT = 0;
const OP_TEXT = 1;
const OP_BIN = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

/** A Platform whose links speak WebSocket; everything else is the inner platform's. */
export class WsPlatform implements Platform {
  inner: Platform;
  path: string;
  /** Frame header being read (at most 14 bytes). */
  hdr: Bytes;
  /** Control frame payload (at most 125 bytes). */
  ctl: Bytes;
  /** Outgoing frame: header + masked payload; longer writes become several frames. */
  tx: Bytes;
  /** The HTTP answer to the Upgrade request; the Sec-WebSocket-Key after it. */
  http: Bytes;
  key: Bytes;
  mask: Bytes;
  /** SHA-1: message (key + GUID, padded), schedule, digest, and its base64. */
  shaMsg: Bytes;
  shaW: Bytes;
  digest: Bytes;
  accept: Bytes;
  /** The connection that owns the buffers (the latest one opened). */
  cur: WsLink | null = null;

  /** `frameSize`: the largest payload sent in one frame (at least 125); `httpSize`: room for the 101 answer. */
  constructor(inner: Platform, path: string, frameSize: number, httpSize: number) {
    this.inner = inner;
    this.path = path;
    this.hdr = bytesNew(14);
    this.ctl = bytesNew(125);
    this.tx = bytesNew((frameSize < 125 ? 125 : frameSize) + 14);
    this.http = bytesNew(httpSize < 128 ? 128 : httpSize);
    this.key = bytesNew(24);
    this.mask = bytesNew(4);
    this.shaMsg = bytesNew(128);
    this.shaW = bytesNew(64);
    this.digest = bytesNew(20);
    this.accept = bytesNew(28);
  }

  open(host: string, port: number, secure: boolean, handler: LinkHandler): Link | null {
    const w = new WsLink(this, host, port, handler);
    const prev = this.cur;
    this.cur = w;
    const l = this.inner.open(host, port, secure, w);
    if (l === null) {
      this.cur = prev;
      return null;
    }
    w.link = l;
    return w;
  }

  millis(): number {
    return this.inner.millis();
  }
  after(ms: number, fn: () => void): number {
    return this.inner.after(ms, fn);
  }
  cancel(id: number): void {
    this.inner.cancel(id);
  }
  wifiUp(): boolean {
    return this.inner.wifiUp();
  }
  rssi(): number {
    return this.inner.rssi();
  }
  batteryVolts(): number {
    return this.inner.batteryVolts();
  }
  freeMemory(): number {
    return this.inner.freeMemory();
  }
  storageRead(name: string): string | null {
    return this.inner.storageRead(name);
  }
  storageWrite(name: string, data: string): boolean {
    return this.inner.storageWrite(name, data);
  }
  settings(): DeviceSettings | null {
    return this.inner.settings();
  }
  deepSleep(ms: number): void {
    this.inner.deepSleep(ms);
  }
  wakeCause(): string {
    return this.inner.wakeCause();
  }
  random(): number {
    return this.inner.random();
  }
  log(line: string): void {
    this.inner.log(line);
  }
}

/** A WsPlatform (for Lua callers, which cannot use `new` on a bundle's class). */
export function newWsPlatform(inner: Platform, path: string, frameSize: number, httpSize: number): WsPlatform {
  return new WsPlatform(inner, path, frameSize, httpSize);
}

/** One WebSocket connection: the Link the client writes to, the handler of the transport under it. */
export class WsLink implements Link, LinkHandler {
  p: WsPlatform;
  host: string;
  port: number;
  h: LinkHandler;
  link: Link | null = null;
  state = L_TCP;
  /** Why we closed (reported instead of the transport's reason). */
  reason = "";
  private closeSent = false;
  private told = false;
  private httpLen = 0;
  private fstate = F_HEAD;
  private hlen = 0;
  private need = 2;
  private op = 0;
  private remain = 0;
  private clen = 0;
  /** Opcode of the data message in progress (continuations carry 0). */
  private msgOp = 0;

  constructor(p: WsPlatform, host: string, port: number, h: LinkHandler) {
    this.p = p;
    this.host = host;
    this.port = port;
    this.h = h;
  }

  // ------------------------------------------------------------ Link (client side)

  write(data: string): boolean {
    if (this.state !== L_OPEN) return false;
    const n = strLen(data);
    const max = bytesLen(this.p.tx) - 14;
    let off = 0;
    while (off < n) {
      const k = n - off < max ? n - off : max;
      if (!this.sendFrame(OP_BIN, data, off, k, null)) return false;
      off += k;
    }
    return true;
  }

  close(): void {
    if (this.state === L_CLOSED) return;
    if (this.state === L_OPEN) this.sendClose(1000);
    this.state = L_CLOSED;
    if (this.reason === "") this.reason = "closed by client";
    if (this.link !== null) this.link.close();
  }

  // ------------------------------------------------------- LinkHandler (transport)

  onOpen(): void {
    if (this.state !== L_TCP || this.p.cur !== this) return;
    this.state = L_UPGRADE;
    this.httpLen = 0;
    const req = upgradeRequest(this.p, this.host, this.port);
    if (this.link !== null) this.link.write(req);
  }

  onData(data: string): void {
    if (this.state === L_CLOSED || this.p.cur !== this) return;
    let pos = 0;
    if (this.state === L_UPGRADE) {
      pos = this.readHttp(data);
      if (pos < 0) return;
    }
    if (this.state === L_OPEN) this.readFrames(data, pos);
  }

  onClose(reason: string): void {
    if (this.told) return;
    this.told = true;
    let r = this.reason;
    if (r === "") r = this.state === L_UPGRADE ? WS_CLOSED_IN_UPGRADE + ": " + reason : reason;
    this.state = L_CLOSED;
    this.h.onClose(r);
  }

  // ------------------------------------------------------------------ internals

  private fail(reason: string): void {
    if (this.state === L_CLOSED) return;
    this.reason = reason;
    if (this.state === L_OPEN) this.sendClose(reason === WS_TOO_LARGE ? 1009 : 1002);
    this.state = L_CLOSED;
    if (this.link !== null) this.link.close();
  }

  /**
   * Collect the HTTP answer; at its end check it and open. Returns the offset of
   * the first frame byte in `data`, or -1 when nothing more is to be read.
   */
  private readHttp(data: string): number {
    const b = this.p.http;
    const cap = bytesLen(b);
    const n = strLen(data);
    for (let i = 0; i < n; i++) {
      if (this.httpLen >= cap) {
        this.fail(WS_HTTP_TOO_LARGE);
        return -1;
      }
      const c = strByte(data, i);
      byteSet(b, this.httpLen, c);
      this.httpLen++;
      const m = this.httpLen;
      if (c === 10 && m >= 4 && byteAt(b, m - 2) === 13 && byteAt(b, m - 3) === 10 && byteAt(b, m - 4) === 13) {
        const err = checkUpgrade(this.p, m);
        if (err !== "") {
          this.fail(err);
          return -1;
        }
        this.state = L_OPEN;
        this.fstate = F_HEAD;
        this.hlen = 0;
        this.need = 2;
        this.msgOp = 0;
        this.h.onOpen();
        return this.state === L_OPEN ? i + 1 : -1;
      }
    }
    return -1;
  }

  /** Frames from data[pos..]. */
  private readFrames(data: string, pos: number): void {
    const n = strLen(data);
    const hdr = this.p.hdr;
    while (pos < n) {
      if (this.fstate === F_HEAD) {
        while (pos < n && this.hlen < this.need) {
          byteSet(hdr, this.hlen, strByte(data, pos));
          this.hlen++;
          pos++;
        }
        if (this.hlen < this.need) return;
        if (!this.header()) return;
        if (this.fstate === F_HEAD) continue;
      }
      // F_BODY
      let k = n - pos;
      if (k > this.remain) k = this.remain;
      if (this.op >= OP_CLOSE) {
        for (let i = 0; i < k; i++) byteSet(this.p.ctl, this.clen + i, strByte(data, pos + i));
        this.clen += k;
        this.remain -= k;
        pos += k;
        if (this.remain === 0) this.control();
      } else {
        this.remain -= k;
        const s = pos === 0 && k === n ? data : data.substring(pos, pos + k);
        pos += k;
        if (this.remain === 0) this.nextFrame();
        if (k > 0) this.h.onData(s);
      }
      if (this.state !== L_OPEN) return;
    }
  }

  private nextFrame(): void {
    this.fstate = F_HEAD;
    this.hlen = 0;
    this.need = 2;
  }

  /** The header in hdr[0..hlen) is complete so far: grow `need` or start the body. False: failed. */
  private header(): boolean {
    const hdr = this.p.hdr;
    const b0 = byteAt(hdr, 0);
    const b1 = byteAt(hdr, 1);
    if (this.hlen === 2) {
      if ((b1 & 128) !== 0) return this.bad(WS_MASKED);
      if ((b0 & 112) !== 0) return this.bad(WS_RESERVED);
      const op = b0 & 15;
      const len7 = b1 & 127;
      if (op >= OP_CLOSE) {
        if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) return this.bad(WS_OPCODE + " " + op);
        if ((b0 & 128) === 0 || len7 > 125) return this.bad(WS_BAD_CONTROL);
      } else if (op === OP_TEXT) {
        return this.bad(WS_TEXT);
      } else if (op !== OP_BIN && op !== OP_CONT) {
        return this.bad(WS_OPCODE + " " + op);
      }
      if (len7 === 126) this.need = 4;
      else if (len7 === 127) this.need = 10;
      if (this.need > 2) return true;
    }
    const op = b0 & 15;
    const len7 = b1 & 127;
    let len = len7;
    if (len7 === 126) len = get16(hdr, 2);
    else if (len7 === 127) {
      // 64-bit length: more than 31 bits is refused.
      if ((byteAt(hdr, 2) | byteAt(hdr, 3) | byteAt(hdr, 4) | byteAt(hdr, 5)) !== 0 || byteAt(hdr, 6) > 127) return this.bad(WS_TOO_LARGE);
      len = shl(get16(hdr, 6), 16) | get16(hdr, 8);
    }
    if (op === OP_CONT && this.msgOp === 0) return this.bad(WS_OPCODE + " 0 (no message to continue)");
    if (op === OP_BIN && this.msgOp !== 0) return this.bad(WS_OPCODE + " 2 (message not finished)");
    if (op < OP_CLOSE) this.msgOp = (b0 & 128) !== 0 ? 0 : OP_BIN;
    this.op = op;
    this.remain = len;
    this.clen = 0;
    this.fstate = F_BODY;
    if (len === 0) {
      if (op >= OP_CLOSE) this.control();
      else this.nextFrame();
    }
    return this.state === L_OPEN;
  }

  private bad(reason: string): boolean {
    this.fail(reason);
    return false;
  }

  /** A complete control frame in ctl[0..clen). */
  private control(): void {
    const op = this.op;
    this.nextFrame();
    if (op === OP_PING) {
      this.sendFrame(OP_PONG, "", 0, this.clen, this.p.ctl);
    } else if (op === OP_CLOSE) {
      const code = this.clen >= 2 ? get16(this.p.ctl, 0) : 1005;
      this.sendClose(code === 1005 ? 1000 : code);
      this.fail(WS_SERVER_CLOSE + " " + code);
    }
  }

  private sendClose(code: number): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const c = this.p.ctl;
    put16(c, 0, code);
    this.sendFrame(OP_CLOSE, "", 0, 2, c);
  }

  /** One masked frame with FIN: payload from `src` (bytes) when given, else data[off..off+len). */
  private sendFrame(op: number, data: string, off: number, len: number, src: Bytes | null): boolean {
    if (this.link === null) return false;
    const tx = this.p.tx;
    const m = this.p.mask;
    for (let i = 0; i < 4; i++) byteSet(m, i, Math.floor(this.p.random() * 256) & 255);
    byteSet(tx, 0, 128 | op);
    let o = 2;
    if (len < 126) byteSet(tx, 1, 128 | len);
    else if (len < 65536) {
      byteSet(tx, 1, 128 | 126);
      put16(tx, 2, len);
      o = 4;
    } else {
      byteSet(tx, 1, 128 | 127);
      for (let i = 2; i < 6; i++) byteSet(tx, i, 0);
      put16(tx, 6, shr(len, 16));
      put16(tx, 8, len & 65535);
      o = 10;
    }
    for (let i = 0; i < 4; i++) byteSet(tx, o + i, byteAt(m, i));
    o += 4;
    if (src !== null) for (let i = 0; i < len; i++) byteSet(tx, o + i, byteAt(src, i) ^ byteAt(m, i & 3));
    else for (let i = 0; i < len; i++) byteSet(tx, o + i, strByte(data, off + i) ^ byteAt(m, i & 3));
    return this.link.write(bytesToStr(tx, 0, o + len));
  }
}
