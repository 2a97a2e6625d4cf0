/**
 * The persistent session as saved to Storage before deep sleep: client id, the
 * packet-id counter, the in-flight slots in sending order (flow state, id, encoded
 * packet), the incoming QoS 2 ids and the offline queue, as one byte string of
 * 16-bit big-endian fields. decodeSession validates the whole image (and the client
 * id) before it touches any state.
 */
import { F_FREE, F_PUBACK, F_PUBCOMP, InflightTable } from "./inflight";
import { OfflineRing } from "./offline-ring";

const SESSION_MAGIC = "WS1";

function chr2(v: number): string {
  return String.fromCharCode(shr(v, 8) & 255, v & 255);
}

function sget16(s: string, o: number): number {
  return shl(strByte(s, o), 8) | strByte(s, o + 1);
}

export function encodeSession(clientId: string, lastId: number, f: InflightTable, q: OfflineRing): string {
  let s = SESSION_MAGIC + chr2(strLen(clientId)) + clientId + chr2(lastId);
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
  s += chr2(q.count);
  for (let k = 0; k < q.count; k++) {
    const i = (q.head + k) % q.buf.length;
    s += chr2(q.qos[i]) + chr2(q.len[i]) + bytesToStr(q.buf[i], 0, q.len[i]);
  }
  return s;
}

/** Load an image into the tables; returns the saved packet-id counter, or -1 (tables untouched). */
export function decodeSession(s: string, clientId: string, f: InflightTable, q: OfflineRing): number {
  const len = strLen(s);
  if (len < 5 || s.substring(0, 3) !== SESSION_MAGIC) return -1;
  const cl = sget16(s, 3);
  let o = 5 + cl;
  if (o + 4 > len || s.substring(5, 5 + cl) !== clientId) return -1;
  const lastId = sget16(s, o);
  o += 2;
  const nf = sget16(s, o);
  o += 2;
  if (nf > f.buf.length) return -1;
  const fSize = nf > 0 ? bytesLen(f.buf[0]) : 0;
  const fStart = o;
  for (let k = 0; k < nf; k++) {
    if (o + 6 > len) return -1;
    const st = sget16(s, o);
    const n = sget16(s, o + 4);
    if (st < F_PUBACK || st > F_PUBCOMP || n > fSize || o + 6 + n > len) return -1;
    o += 6 + n;
  }
  if (o + 2 > len) return -1;
  const nr = sget16(s, o);
  if (nr > f.rIds.length || o + 2 + nr * 2 + 2 > len) return -1;
  const rStart = o + 2;
  o = rStart + nr * 2;
  const nq = sget16(s, o);
  o += 2;
  const qCap = q.buf.length;
  if (nq > qCap) return -1;
  const qSize = nq > 0 ? bytesLen(q.buf[0]) : 0;
  const qStart = o;
  for (let k = 0; k < nq; k++) {
    if (o + 4 > len) return -1;
    const n = sget16(s, o + 2);
    if (n > qSize || o + 4 + n > len) return -1;
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
  q.head = 0;
  q.count = nq;
  o = qStart;
  for (let k = 0; k < nq; k++) {
    const n = sget16(s, o + 2);
    q.qos[k] = sget16(s, o);
    q.len[k] = n;
    strCopy(s, o + 4, n, q.buf[k], 0);
    o += 4 + n;
  }
  return lastId;
}

