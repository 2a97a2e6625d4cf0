/**
 * The persistent session as saved to Storage before deep sleep: client id, the
 * packet-id counter, the in-flight slots in sending order (flow state, id, encoded
 * packet), the incoming QoS 2 ids and the offline queue, as one byte string of
 * 16-bit big-endian fields. decodeSession validates the whole image (and the client
 * id) before it touches any state.
 */
import type { Client } from "./client";
import { F_FREE, F_PUBACK, F_PUBCOMP } from "./inflight";

const SESSION_MAGIC = "WS1";

function chr2(v: number): string {
  return String.fromCharCode(shr(v, 8) & 255, v & 255);
}

function sget16(s: string, o: number): number {
  return shl(strByte(s, o), 8) | strByte(s, o + 1);
}

/** The image of client c's session: its client id, packet-id counter, in-flight table and offline queue. */
export function encodeSession(c: Client): string {
  const f = c.flights;
  const clientId = c.cfg.connect.clientId;
  let s = SESSION_MAGIC + chr2(strLen(clientId)) + clientId + chr2(c.lastId);
  const n = f.state.length - f.free();
  s += chr2(n);
  for (let k = 0; k < n; k++) {
    const i = f.oldest(k);
    s += chr2(f.state[i]) + chr2(f.id[i]) + chr2(f.len[i]) + bytesToStr(f.buf[i], 0, f.len[i]);
  }
  let nr = 0;
  for (const id of f.rIds) if (id !== 0) nr++;
  s += chr2(nr);
  for (const id of f.rIds) if (id !== 0) s += chr2(id);
  s += chr2(c.qCount);
  for (let k = 0; k < c.qCount; k++) {
    const i = (c.qHead + k) % c.qBuf.length;
    s += chr2(shr(byteAt(c.qBuf[i], 0), 1) & 3) + chr2(c.qLen[i]) + bytesToStr(c.qBuf[i], 0, c.qLen[i]);
  }
  return s;
}

/** Load an image into client c's tables and packet-id counter; false (nothing touched) when invalid or for another client id. */
export function decodeSession(c: Client, s: string): boolean {
  const f = c.flights;
  const clientId = c.cfg.connect.clientId;
  const len = strLen(s);
  if (len < 5 || s.substring(0, 3) !== SESSION_MAGIC) return false;
  const cl = sget16(s, 3);
  let o = 5 + cl;
  if (o + 4 > len || s.substring(5, 5 + cl) !== clientId) return false;
  const lastId = sget16(s, o);
  o += 2;
  const nf = sget16(s, o);
  o += 2;
  if (nf > f.buf.length) return false;
  const fSize = nf > 0 ? bytesLen(f.buf[0]) : 0;
  const fStart = o;
  for (let k = 0; k < nf; k++) {
    if (o + 6 > len) return false;
    const st = sget16(s, o);
    const n = sget16(s, o + 4);
    if (st < F_PUBACK || st > F_PUBCOMP || n > fSize || o + 6 + n > len) return false;
    o += 6 + n;
  }
  if (o + 2 > len) return false;
  const nr = sget16(s, o);
  if (nr > f.rIds.length || o + 2 + nr * 2 + 2 > len) return false;
  const rStart = o + 2;
  o = rStart + nr * 2;
  const nq = sget16(s, o);
  o += 2;
  const qCap = c.qBuf.length;
  if (nq > qCap) return false;
  const qSize = nq > 0 ? bytesLen(c.qBuf[0]) : 0;
  const qStart = o;
  for (let k = 0; k < nq; k++) {
    if (o + 4 > len) return false;
    const n = sget16(s, o + 2);
    if (n > qSize || o + 4 + n > len) return false;
    o += 4 + n;
  }
  // Valid: apply.
  for (let k = 0; k < f.state.length; k++) f.state[k] = F_FREE;
  o = fStart;
  for (let k = 0; k < nf; k++) {
    const n = sget16(s, o + 4);
    f.claim(k, sget16(s, o + 2), n, sget16(s, o));
    strCopy(s, o + 6, n, f.buf[k], 0);
    o += 6 + n;
  }
  for (let i = 0; i < f.rIds.length; i++) f.rIds[i] = i < nr ? sget16(s, rStart + i * 2) : 0;
  c.qHead = 0;
  c.qCount = nq;
  o = qStart;
  for (let k = 0; k < nq; k++) {
    const n = sget16(s, o + 2);
    c.qLen[k] = n;
    strCopy(s, o + 4, n, c.qBuf[k], 0);
    o += 4 + n;
  }
  c.lastId = lastId;
  return true;
}

