/**
 * The resumable streaming decoder. A PacketReader owns one RX buffer of fixed
 * capacity and is fed the byte-string chunks a socket delivers; it frames and
 * checks one packet at a time and describes it, zero-copy, in a reused Packet.
 */
import {
  ERR_CONNACK,
  ERR_CONNECT_FLAGS,
  ERR_HEADER_FLAGS,
  ERR_NO_FILTERS,
  ERR_PACKET_ID,
  ERR_PACKET_TOO_LARGE,
  ERR_PACKET_TYPE,
  ERR_PROTOCOL,
  ERR_QOS,
  ERR_REMAINING_LENGTH,
  ERR_SUBACK_CODE,
  ERR_TRAILING_BYTES,
  ERR_TRUNCATED,
  NEED_MORE,
  PACKET_READY,
} from "./errors";
import { CONNACK, CONNECT, Packet, PINGREQ, PROTOCOL, PUBLISH, PUBREL, SUBACK, SUBSCRIBE, typeFlags, UNSUBACK, UNSUBSCRIBE } from "./packet";
import { get16 } from "./u16";
import { checkStr, KIND_BINARY, KIND_FILTER, KIND_STRING, KIND_TOPIC } from "./topic";

// Body parser state: one packet is parsed at a time, so it lives at module level.
let B: Bytes; // the RX buffer
let P = 0; // cursor
let R = 0; // end of the body
let E = 0; // first error met (sticky)
let L = 0; // length of the last field read

function fail(e: number): void {
  if (E === 0) E = e;
}

function u8(): number {
  if (P >= R) {
    fail(ERR_TRUNCATED);
    return 0;
  }
  P++;
  return byteAt(B, P - 1);
}

// u16 and field read their bytes inline (not get16): a call costs tens of microseconds on Espruino.
function u16(): number {
  const o = P;
  if (o + 2 > R) {
    fail(ERR_TRUNCATED);
    P = R;
    return 0;
  }
  P = o + 2;
  return shl(byteAt(B, o), 8) | byteAt(B, o + 1);
}

function id16(): number {
  const v = u16();
  if (v === 0) fail(ERR_PACKET_ID);
  return v;
}

/** A length-prefixed field checked as `kind`: returns its offset, its length in L (-1 on error). */
function field(kind: number): number {
  if (P + 2 > R) {
    fail(ERR_TRUNCATED);
    P = R;
    L = -1;
    return 0;
  }
  L = shl(byteAt(B, P), 8) | byteAt(B, P + 1);
  const o = P + 2;
  P = o;
  if (o + L > R) fail(ERR_TRUNCATED);
  if (E !== 0) {
    L = -1;
    return 0;
  }
  P = o + L;
  if (kind < 0) return o;
  // checked as a string: one native copy and one native test in the usual case
  const e = checkStr(bytesToStr(B, o, L), 0, L, kind);
  if (e !== 0) fail(e);
  return o;
}

/** The body of a CONNECT (apart: Espruino lexes a called function's whole text). */
function parseConnect(p: Packet): void {
  p.clientIdLen = -1;
  p.usernameLen = -1;
  p.passwordLen = -1;
  if (u16() !== 4) fail(ERR_PROTOCOL);
  for (let i = 0; i < 4; i++) if (u8() !== strByte(PROTOCOL, i)) fail(ERR_PROTOCOL);
  if (u8() !== 4) fail(ERR_PROTOCOL);
  const f = u8();
  p.qos = shr(f, 3) & 3;
  p.retain = (f & 32) !== 0;
  p.cleanSession = (f & 2) !== 0;
  if ((f & 1) !== 0 || ((f & 4) === 0 && (f & 56) !== 0) || ((f & 192) === 64)) fail(ERR_CONNECT_FLAGS);
  if (p.qos === 3) fail(ERR_QOS);
  p.keepAlive = u16();
  p.clientIdOff = field(KIND_STRING);
  p.clientIdLen = L;
  if ((f & 4) !== 0) {
    p.topicOff = field(KIND_TOPIC);
    p.topicLen = L;
    p.payloadOff = field(KIND_BINARY);
    p.payloadLen = L;
  }
  if ((f & 128) !== 0) {
    p.usernameOff = field(KIND_STRING);
    p.usernameLen = L;
  }
  if ((f & 64) !== 0) {
    p.passwordOff = field(KIND_BINARY);
    p.passwordLen = L;
  }
}

/** Parse the body of packet type t (header already checked) into p; returns E. */
function parseBody(p: Packet, t: number): number {
  if (t === CONNECT) {
    parseConnect(p);
  } else if (t === CONNACK) {
    const a = u8();
    const c = u8();
    p.sessionPresent = a === 1;
    p.returnCode = c;
    if (a > 1 || c > 5 || (a === 1 && c !== 0)) fail(ERR_CONNACK);
  } else if (t < PINGREQ) {
    // (a PUBLISH never comes here: PacketReader.publish decodes it)
    p.id = id16();
    p.listOff = P;
    if (t === SUBSCRIBE || t === UNSUBSCRIBE) {
      while (P < R && E === 0) {
        field(KIND_FILTER);
        if (t === SUBSCRIBE && u8() > 2) fail(ERR_QOS);
        p.count++;
      }
      if (p.count === 0) fail(ERR_NO_FILTERS);
    } else if (t === SUBACK) {
      while (P < R) {
        const c = u8();
        if (c > 2 && c !== 0x80) fail(ERR_SUBACK_CODE);
        p.count++;
      }
      if (p.count === 0) fail(ERR_TRUNCATED);
    }
  }
  if (P < R) fail(ERR_TRAILING_BYTES);
  return E;
}

export class PacketReader {
  /** The RX buffer: the body of the current packet from offset 0. */
  rx: Bytes;
  cap: number;
  /** NEED_MORE, PACKET_READY or a negative error code, after each feed(). */
  status = NEED_MORE;
  /** The last packet (valid when status is PACKET_READY; type/flags/length also on errors, and the topic of one too large). */
  packet: Packet;
  /** 0 header byte next, 1 in remaining length, 2 in body, 3 broken framing (fatal). */
  private st = 0;
  private hb = 0;
  private nb = 0;
  private rem = 0;
  private got = 0;
  /**
   * A string holding the body of the current packet (as much as fits rx) from offset
   * `so`: the chunk it came whole in (no copy), else the body made from rx. str() cuts
   * fields from it with one native and no helper call.
   */
  private src = "";
  private so = 0;

  constructor(capacity: number) {
    this.rx = bytesNew(capacity);
    this.cap = capacity;
    this.packet = new Packet();
  }

  /** Forget any partial packet and a fatal error (for a new connection). */
  reset(): void {
    this.st = 0;
    this.status = NEED_MORE;
    this.src = "";
  }

  /**
   * Consume bytes of `s` from `pos` until one packet is complete, an error is
   * found, or the chunk ends. Returns the position after the consumed bytes; call
   * again from there while it is below strLen(s).
   */
  feed(s: string, pos: number): number {
    const n = strLen(s);
    // The usual packet: whole in this chunk, fitting rx, with a 1- or 2-byte remaining
    // length, framed in a few statements (on Espruino every character of a called
    // function's text costs, executed or skipped); its body copied into rx in one native
    // and its text fields later cut from the chunk itself.
    if (this.st === 0 && pos + 1 < n) {
      let c = strByte(s, pos + 1);
      let h = pos + 2;
      if (c > 127 && h < n) {
        const d = strByte(s, h);
        c = (c & 127) | shl(d, 7);
        // a longer (or non-minimal) length takes the byte-by-byte path below
        h = d > 0 && d < 128 ? h + 1 : n + 1;
      }
      if (h + c <= n && c <= this.cap) {
        strCopy(s, h, c, this.rx, 0);
        this.src = s;
        this.so = h;
        const hb = strByte(s, pos);
        this.status = hb > 47 && hb < 64 ? this.publish(hb, h - pos, c) : this.done(hb, h - pos, c);
        return h + c;
      }
    }
    return this.feedBytes(s, pos, n);
  }

  /**
   * feed() for a packet split across chunks, or with a longer remaining length: the
   * fixed header byte by byte, the body copied in slices. A method of its own because
   * Espruino lexes a function's whole text at every call, the part it skips included.
   */
  private feedBytes(s: string, pos: number, n: number): number {
    // the framing state in locals: fewer property lookups per byte on Espruino
    let st = this.st;
    let rem = this.rem;
    let got = this.got;
    let nb = this.nb;
    while (pos < n && st < 3) {
      if (st === 2) {
        let k = rem - got;
        if (k > n - pos) k = n - pos;
        // copy what fits in rx, skip the rest of an oversized packet
        let m = got < this.cap ? this.cap - got : 0;
        if (m > k) m = k;
        const end = pos + m;
        if (m > 0) strCopy(s, pos, m, this.rx, got);
        got += m;
        pos = end + k - m;
        got += k - m;
        if (got === rem) st = 4;
      } else {
        const c = strByte(s, pos);
        pos++;
        if (st === 0) {
          this.hb = c;
          rem = 0;
          nb = 0;
          st = 1;
        } else {
          rem += shl(c & 127, 7 * nb);
          nb++;
          if ((c & 128) === 0) {
            // the last length byte: 0 there means a non-minimal encoding
            st = nb > 1 && c === 0 ? 3 : rem === 0 ? 4 : 2;
            got = 0;
          } else if (nb === 4) {
            st = 3;
          }
        }
      }
    }
    this.rem = rem;
    this.got = got;
    this.nb = nb;
    this.st = st === 4 ? 0 : st;
    const hb = this.hb;
    if (st === 4) {
      this.src = bytesToStr(this.rx, 0, rem < this.cap ? rem : this.cap);
      this.so = 0;
    }
    this.status =
      st === 3 ? ERR_REMAINING_LENGTH : st !== 4 ? NEED_MORE : hb > 47 && hb < 64 && rem <= this.cap ? this.publish(hb, nb + 1, rem) : this.done(hb, nb + 1, rem);
    return st === 3 ? n : pos;
  }

  /**
   * A whole packet other than a PUBLISH that fits rx has arrived (fixed header byte
   * hb, hl header bytes, rem body bytes in rx): check it and fill `packet`. The
   * id-only acks are decoded here (type, flags, length, count and id: the fields an
   * ack has); the rest in parse(). Espruino lexes the whole text of every function it
   * calls, so the usual packets must not pay for skipping the code of the others.
   */
  private done(hb: number, hl: number, rem: number): number {
    const p = this.packet;
    const t = shr(hb, 4);
    const f = hb & 15;
    p.type = t;
    p.flags = f;
    p.length = hl + rem;
    p.count = 0;
    if (rem !== 2 || rem > this.cap || ((t < 4 || t > 7) && t !== UNSUBACK)) return this.parse(p, t, f, rem);
    // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet id and nothing else
    p.id = shl(byteAt(this.rx, 0), 8) | byteAt(this.rx, 1);
    return f !== (t === PUBREL ? 2 : 0) ? ERR_HEADER_FLAGS : p.id === 0 ? ERR_PACKET_ID : PACKET_READY;
  }

  /**
   * A PUBLISH that fits rx (fixed header byte hb, hl header bytes, rem body bytes),
   * checked in place: the usual packet in one test, with no helper call but the topic
   * cut as a string for its one-RegExp check; any other goes to publishError. On
   * Espruino a call costs about as much per character of the function's text as it
   * takes to read it from flash, so this one stays short. The lengths and id are what
   * a PACKET_READY reports; after an error only type, flags and length are meaningful.
   */
  private publish(hb: number, hl: number, rem: number): number {
    const p = this.packet;
    const rx = this.rx;
    const f = hb & 15;
    const q = shr(f, 1) & 3;
    const tl = rem < 2 ? rem : shl(byteAt(rx, 0), 8) | byteAt(rx, 1);
    const po = q > 0 ? tl + 4 : tl + 2;
    // (substr stays inside the string; a topic cut short is never checked: po > rem)
    const ts = this.src.substr(this.so + 2, tl);
    p.type = PUBLISH;
    p.flags = f;
    p.length = hl + rem;
    p.count = 0;
    p.qos = q;
    p.retain = (f & 1) > 0;
    p.dup = f > 7;
    p.id = q > 0 && po <= rem ? shl(byteAt(rx, tl + 2), 8) | byteAt(rx, tl + 3) : 0;
    p.topicOff = 2;
    p.topicLen = tl;
    p.payloadOff = po;
    p.payloadLen = rem - po;
    // QoS 0..2, no DUP with QoS 0, all fields there, a plain non-empty topic, an id with QoS 1/2
    return q < 3 && (f | 1) !== 9 && po <= rem && tl > 0 && strPlain(ts) && (q < 1 || p.id > 0) ? PACKET_READY : this.publishError(p, ts);
  }

  /** Why publish() refused its packet (or PACKET_READY for a valid topic that is not plain ASCII). */
  private publishError(p: Packet, ts: string): number {
    const q = p.qos;
    const tl = p.topicLen;
    const rem = p.payloadOff + p.payloadLen;
    let e = q === 3 ? ERR_QOS : p.dup && q === 0 ? ERR_HEADER_FLAGS : tl + 2 > rem ? ERR_TRUNCATED : checkStr(ts, 0, tl, KIND_TOPIC);
    if (e === 0) e = p.payloadOff > rem ? ERR_TRUNCATED : q > 0 && p.id === 0 ? ERR_PACKET_ID : PACKET_READY;
    // A refused packet reports no topic or payload: the lengths read from it may reach
    // past rx, and an ack after it (which sets only its own fields) would still show them.
    if (e !== PACKET_READY) {
      p.topicLen = -1;
      p.payloadLen = -1;
    }
    return e;
  }

  /** Every other packet, and a PUBLISH larger than rx: the fixed-header checks, then parseBody. */
  private parse(p: Packet, t: number, f: number, rem: number): number {
    p.id = 0;
    p.topicLen = -1;
    p.payloadLen = -1;
    p.qos = 0;
    p.retain = false;
    p.dup = false;
    let e = 0;
    if (t === PUBLISH) {
      // (only a PUBLISH larger than rx comes here)
      p.qos = shr(f, 1) & 3;
      p.retain = (f & 1) !== 0;
      p.dup = (f & 8) !== 0;
      if (p.qos === 3) e = ERR_QOS;
      else if (p.dup && p.qos === 0) e = ERR_HEADER_FLAGS;
    } else if (t === 0 || t === 15) {
      e = ERR_PACKET_TYPE;
    } else if (f !== typeFlags(t)) {
      e = ERR_HEADER_FLAGS;
    }
    if (e === 0 && rem > this.cap) {
      e = ERR_PACKET_TOO_LARGE;
      if (t === PUBLISH && this.cap >= 2) {
        const tl = get16(this.rx, 0);
        if (tl + 2 <= this.cap) {
          p.topicOff = 2;
          p.topicLen = tl;
        }
      }
    }
    if (e === 0) {
      B = this.rx;
      P = 0;
      R = rem;
      E = 0;
      e = parseBody(p, t);
    }
    return e === 0 ? PACKET_READY : e;
  }

  /**
   * Offset in rx of filter i of the decoded SUBSCRIBE/UNSUBSCRIBE (i < count), with
   * its length in packet.itemLen and requested QoS in packet.itemQos. -1 if none.
   */
  filterAt(i: number): number {
    const p = this.packet;
    if (this.status !== PACKET_READY || i < 0 || i >= p.count || (p.type !== SUBSCRIBE && p.type !== UNSUBSCRIBE)) return -1;
    const q = p.type === SUBSCRIBE ? 1 : 0;
    let o = p.listOff;
    while (true) {
      const n = get16(this.rx, o);
      p.itemLen = n;
      p.itemQos = q === 1 ? byteAt(this.rx, o + 2 + n) : 0;
      if (i === 0) return o + 2;
      o += 2 + n + q;
      i--;
    }
  }

  /** Return code i of the decoded SUBACK (i < count), or -1. */
  codeAt(i: number): number {
    const p = this.packet;
    if (this.status !== PACKET_READY || p.type !== SUBACK || i < 0 || i >= p.count) return -1;
    return byteAt(this.rx, p.listOff + i);
  }

  /** rx[off .. off+len) as a byte string (allocates a string; "" for len <= 0). */
  str(off: number, len: number): string {
    return this.src.substr(this.so + off, len);
  }
}
