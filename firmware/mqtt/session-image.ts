/**
 * The persistent session as saved to Storage before deep sleep: client id, the
 * packet-id counter, the in-flight slots in sending order (flow state, id, encoded
 * packet), the incoming QoS 2 ids and the offline queue, as one byte string of
 * 16-bit big-endian fields. decodeSession validates the whole image (and the client
 * id) before it touches any state.
 */
import { F_PUBACK, F_PUBCOMP, InflightTable } from "./inflight";
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
  const n = f.used();
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
    const i = q.at(k);
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
  const fStart = o;
  for (let k = 0; k < nf; k++) {
    if (o + 6 > len) return -1;
    const st = sget16(s, o);
    const n = sget16(s, o + 4);
    if (st < F_PUBACK || st > F_PUBCOMP || n > f.slotSize || o + 6 + n > len) return -1;
    o += 6 + n;
  }
  if (o + 2 > len) return -1;
  const nr = sget16(s, o);
  if (nr > f.rIds.length || o + 2 + nr * 2 + 2 > len) return -1;
  const rStart = o + 2;
  o = rStart + nr * 2;
  const nq = sget16(s, o);
  o += 2;
  if (nq > q.capacity()) return -1;
  const qStart = o;
  for (let k = 0; k < nq; k++) {
    if (o + 4 > len) return -1;
    const n = sget16(s, o + 2);
    if (n > q.slotSize || o + 4 + n > len) return -1;
    o += 4 + n;
  }
  // Valid: apply.
  f.clear();
  o = fStart;
  for (let k = 0; k < nf; k++) {
    const n = sget16(s, o + 4);
    f.restore(k, sget16(s, o), sget16(s, o + 2), n);
    const b = f.buf[k];
    for (let j = 0; j < n; j++) byteSet(b, j, strByte(s, o + 6 + j));
    o += 6 + n;
  }
  for (let i = 0; i < f.rIds.length; i++) f.rIds[i] = i < nr ? sget16(s, rStart + i * 2) : 0;
  q.clear();
  o = qStart;
  for (let k = 0; k < nq; k++) {
    const n = sget16(s, o + 2);
    q.restore(sget16(s, o), s, o + 4, n);
    o += 4 + n;
  }
  return lastId;
}

