/**
 * Encoders: each writes one whole packet at offset 0 of a caller-owned buffer and
 * returns its length, or a negative error code (errors.ts). Arguments are checked
 * before any byte is written; nothing is ever written past bytesLen(buf).
 */
import {
  ERR_BUFFER_TOO_SMALL,
  ERR_CONNACK,
  ERR_CONNECT_FLAGS,
  ERR_HEADER_FLAGS,
  ERR_NO_FILTERS,
  ERR_PACKET_ID,
  ERR_PACKET_TYPE,
  ERR_QOS,
  ERR_SUBACK_CODE,
  ERR_VALUE,
} from "./errors";
import { ConnectOptions, PROTOCOL, typeFlags } from "./packet";
import { checkStr, KIND_BINARY, KIND_FILTER, KIND_STRING, KIND_TOPIC } from "./topic";
import { get16, put16 } from "./u16";

/** First error met while sizing a packet (sticky, reset by each encoder). */
let E = 0;

function fail(e: number): void {
  if (E === 0) E = e;
}

/** Size of a length-prefixed field; records a rule violation in E. */
function sz(s: string, kind: number): number {
  const n = strLen(s);
  const e = checkStr(s, 0, n, kind);
  if (e !== 0) fail(e);
  return n + 2;
}

function badId(id: number): boolean {
  return id < 1 || id > 65535;
}

function putStr(b: Bytes, o: number, s: string): number {
  const n = strLen(s);
  strToBytes(s, b, put16(b, o, n));
  return o + 2 + n;
}

/**
 * Check E, then write the fixed header for `rem` bytes to follow.
 * Returns the offset after it, or an error.
 */
function start(b: Bytes, h: number, rem: number): number {
  if (E !== 0) return E;
  const nb = rem < 128 ? 1 : rem < 16384 ? 2 : rem < 2097152 ? 3 : 4;
  if (1 + nb + rem > bytesLen(b)) return ERR_BUFFER_TOO_SMALL;
  byteSet(b, 0, h);
  let o = 1;
  while (o <= nb) {
    byteSet(b, o, (rem & 127) | (o < nb ? 128 : 0));
    rem = shr(rem, 7);
    o++;
  }
  return o;
}

/** CONNECT. */
export function encodeConnect(b: Bytes, c: ConnectOptions): number {
  E = 0;
  let fl = c.cleanSession ? 2 : 0;
  let r = 10 + sz(c.clientId, KIND_STRING);
  if (c.keepAlive < 0 || c.keepAlive > 65535) fail(ERR_VALUE);
  if (c.willTopic !== null) {
    if (c.willQos < 0 || c.willQos > 2) fail(ERR_QOS);
    fl = fl | 4 | shl(c.willQos & 3, 3) | (c.willRetain ? 32 : 0);
    r += sz(c.willTopic, KIND_TOPIC) + sz(c.willMessage, KIND_BINARY);
  }
  if (c.username !== null) {
    fl = fl | 128;
    r += sz(c.username, KIND_STRING);
  }
  if (c.password !== null) {
    if (c.username === null) fail(ERR_CONNECT_FLAGS);
    fl = fl | 64;
    r += sz(c.password, KIND_BINARY);
  }
  let o = start(b, 0x10, r);
  if (o < 0) return o;
  strToBytes(PROTOCOL, b, put16(b, o, 4));
  byteSet(b, o + 6, 4);
  byteSet(b, o + 7, fl);
  o = putStr(b, put16(b, o + 8, c.keepAlive), c.clientId);
  if (c.willTopic !== null) o = putStr(b, putStr(b, o, c.willTopic), c.willMessage);
  if (c.username !== null) o = putStr(b, o, c.username);
  if (c.password !== null) o = putStr(b, o, c.password);
  return o;
}

/** CONNACK: return code 0..5; session present only with code 0. */
export function encodeConnack(b: Bytes, sessionPresent: boolean, code: number): number {
  E = code < 0 || code > 5 ? ERR_VALUE : sessionPresent && code !== 0 ? ERR_CONNACK : 0;
  const o = start(b, 0x20, 2);
  if (o < 0) return o;
  byteSet(b, o, sessionPresent ? 1 : 0);
  byteSet(b, o + 1, code);
  return 4;
}

/**
 * PUBLISH. `id` is ignored for QoS 0; DUP is only allowed with QoS 1 and 2.
 * The usual message (valid QoS, DUP and id, a plain ASCII topic, up to 16383 bytes to
 * follow the fixed header) is checked in one test and written in place, without the
 * helpers the other encoders share: it runs for every message, and on Espruino every
 * character of a called function's text costs, so the rest lives in encodePublishSlow.
 */
export function encodePublish(
  b: Bytes,
  topic: string,
  payload: string,
  qos: number,
  retain: boolean,
  dup: boolean,
  id: number,
): number {
  const tl = strLen(topic);
  const po = qos > 0 ? tl + 4 : tl + 2;
  const rem = po + strLen(payload);
  // the fixed header: 2 bytes for up to 127 bytes to follow, else 3
  const h = rem < 128 ? 2 : 3;
  if ((qos === 0 ? dup : qos < 0 || qos > 2 || id < 1 || id > 65535) || tl < 1 || rem > 16383 || h + rem > bytesLen(b) || !strPlain(topic)) {
    return encodePublishSlow(b, topic, payload, qos, retain, dup, id);
  }
  byteSet(b, 0, 0x30 | (dup ? 8 : 0) | shl(qos, 1) | (retain ? 1 : 0));
  byteSet(b, 1, h < 3 ? rem : (rem & 127) | 128);
  // with a 2-byte header this is the topic length's first byte, written next
  byteSet(b, 2, shr(rem, 7));
  byteSet(b, h, shr(tl, 8));
  byteSet(b, h + 1, tl & 255);
  strToBytes(topic, b, h + 2);
  if (qos > 0) {
    byteSet(b, h + po - 2, shr(id, 8));
    byteSet(b, h + po - 1, id & 255);
  }
  strToBytes(payload, b, h + po);
  return h + rem;
}

/** Every other PUBLISH, and any that does not fit: the checks in the order of the errors they report (apart: see encodePublish). */
function encodePublishSlow(b: Bytes, topic: string, payload: string, qos: number, retain: boolean, dup: boolean, id: number): number {
  E =
    qos < 0 || qos > 2
      ? ERR_QOS
      : qos > 0 && badId(id)
        ? ERR_PACKET_ID
        : qos === 0 && dup
          ? ERR_HEADER_FLAGS
          : checkStr(topic, 0, strLen(topic), KIND_TOPIC);
  if (E !== 0) return E;
  let o = start(b, 0x30 | (dup ? 8 : 0) | shl(qos, 1) | (retain ? 1 : 0), (qos > 0 ? 4 : 2) + strLen(topic) + strLen(payload));
  if (o < 0) return o;
  o = putStr(b, o, topic);
  if (qos > 0) o = put16(b, o, id);
  strToBytes(payload, b, o);
  return o + strLen(payload);
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK carrying packet identifier `id`. */
export function encodeAck(b: Bytes, type: number, id: number): number {
  if (type < 4 || (type > 7 && type !== 11)) return ERR_PACKET_TYPE;
  if (id < 1 || id > 65535) return ERR_PACKET_ID;
  if (bytesLen(b) < 4) return ERR_BUFFER_TOO_SMALL;
  byteSet(b, 0, shl(type, 4) | (type === 6 ? 2 : 0));
  byteSet(b, 1, 2);
  byteSet(b, 2, shr(id, 8));
  byteSet(b, 3, id & 255);
  return 4;
}

/** PINGREQ, PINGRESP or DISCONNECT. */
export function encodeEmpty(b: Bytes, type: number): number {
  E = type < 12 || type > 14 ? ERR_PACKET_TYPE : 0;
  return start(b, shl(type, 4), 0);
}

/** SUBSCRIBE (qos given) or UNSUBSCRIBE (qos null). */
function encodeFilters(b: Bytes, type: number, id: number, filters: string[], qos: number[] | null): number {
  E = badId(id) ? ERR_PACKET_ID : filters.length === 0 ? ERR_NO_FILTERS : 0;
  if (qos !== null && qos.length !== filters.length) fail(ERR_VALUE);
  let r = 2;
  for (const f of filters) r += sz(f, KIND_FILTER);
  if (qos !== null) {
    for (const q of qos) if (q < 0 || q > 2) fail(ERR_QOS);
    r += qos.length;
  }
  let o = start(b, shl(type, 4) | 2, r);
  if (o < 0) return o;
  o = put16(b, o, id);
  let i = 0;
  for (const f of filters) {
    o = putStr(b, o, f);
    if (qos !== null) {
      byteSet(b, o, qos[i]);
      o++;
    }
    i++;
  }
  return o;
}

/** SUBSCRIBE: filters[i] at QoS qos[i]. */
export function encodeSubscribe(b: Bytes, id: number, filters: string[], qos: number[]): number {
  return encodeFilters(b, 8, id, filters, qos);
}

/** UNSUBSCRIBE. */
export function encodeUnsubscribe(b: Bytes, id: number, filters: string[]): number {
  return encodeFilters(b, 10, id, filters, null);
}

/** SUBACK with one return code (0, 1, 2 or 0x80) per filter. */
export function encodeSuback(b: Bytes, id: number, codes: number[]): number {
  E = badId(id) ? ERR_PACKET_ID : codes.length === 0 ? ERR_NO_FILTERS : 0;
  for (const c of codes) if (c < 0 || (c > 2 && c !== 0x80)) fail(ERR_SUBACK_CODE);
  let o = start(b, 0x90, 2 + codes.length);
  if (o < 0) return o;
  o = put16(b, o, id);
  for (const c of codes) {
    byteSet(b, o, c);
    o++;
  }
  return o;
}

/**
 * Write packet id `id` into a QoS 1/2 PUBLISH already encoded at offset 0 of `b`
 * (a queued message gets its id only when it goes in flight).
 */
export function setPublishId(b: Bytes, id: number): void {
  let o = 1;
  while ((byteAt(b, o) & 128) !== 0) o++;
  o++;
  put16(b, o + 2 + get16(b, o), id);
}

/** Set the DUP bit of a PUBLISH already encoded at offset 0 of `b` (for a re-send). */
export function setDup(b: Bytes): void {
  byteSet(b, 0, byteAt(b, 0) | 8);
}
