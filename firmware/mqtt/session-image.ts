/**
 * The persistent session as saved to Storage before deep sleep: client id, the
 * packet-id counter, the in-flight slots in sending order (flow state, id, encoded
 * packet), the incoming QoS 2 ids and the offline queue, as one byte string of
 * 16-bit big-endian fields. A load validates the whole image (and the client id)
 * before it touches any state.
 */
import type { Client } from "./client";
import { F_FREE, F_PUBACK, F_PUBCOMP, flClaim, flFree, flOldest } from "./inflight";

// 16-bit fields are written and read in place, and saving and loading are one function
// (no helper functions: on Espruino each one holds RAM for good, and this code runs
// only before deep sleep and at boot).

/**
 * `s` null: client c's session image, to save. Otherwise load image `s` into c's
 * tables and packet-id counter: "" when loaded; "invalid" (nothing touched) when it is
 * unreadable or saved by another client id.
 */
export function sessionImage(c: Client, s: string | null): string {
  const clientId = c.cfg.connect.clientId;
  if (s !== null) {
    // A literal where used: a module-level string is held in RAM on Espruino.
    const bad = "invalid";
    const len = strLen(s);
    if (len < 5 || s.substring(0, 3) !== "WS1") return bad;
    const cl = shl(strByte(s, 3), 8) | strByte(s, 4);
    let o = 5 + cl;
    if (o + 4 > len || s.substring(5, 5 + cl) !== clientId) return bad;
    const lastId = shl(strByte(s, o), 8) | strByte(s, o + 1);
    o += 2;
    const nf = shl(strByte(s, o), 8) | strByte(s, o + 1);
    o += 2;
    if (nf > c.fBuf.length) return bad;
    const fSize = nf > 0 ? bytesLen(c.fBuf[0]) : 0;
    const fStart = o;
    for (let k = 0; k < nf; k++) {
      if (o + 6 > len) return bad;
      const st = shl(strByte(s, o), 8) | strByte(s, o + 1);
      const n = shl(strByte(s, o + 4), 8) | strByte(s, o + 5);
      if (st < F_PUBACK || st > F_PUBCOMP || n > fSize || o + 6 + n > len) return bad;
      o += 6 + n;
    }
    if (o + 2 > len) return bad;
    const nr = shl(strByte(s, o), 8) | strByte(s, o + 1);
    if (nr > c.rIds.length || o + 2 + nr * 2 + 2 > len) return bad;
    const rStart = o + 2;
    o = rStart + nr * 2;
    const nq = shl(strByte(s, o), 8) | strByte(s, o + 1);
    o += 2;
    const qCap = c.qBuf.length;
    if (nq > qCap) return bad;
    const qSize = nq > 0 ? bytesLen(c.qBuf[0]) : 0;
    const qStart = o;
    for (let k = 0; k < nq; k++) {
      if (o + 4 > len) return bad;
      const n = shl(strByte(s, o + 2), 8) | strByte(s, o + 3);
      if (n > qSize || o + 4 + n > len) return bad;
      o += 4 + n;
    }
    // Valid: apply.
    for (let k = 0; k < c.fState.length; k++) c.fState[k] = F_FREE;
    o = fStart;
    for (let k = 0; k < nf; k++) {
      const n = shl(strByte(s, o + 4), 8) | strByte(s, o + 5);
      flClaim(c, k, (shl(strByte(s, o + 2), 8) | strByte(s, o + 3)), n, (shl(strByte(s, o), 8) | strByte(s, o + 1)));
      strCopy(s, o + 6, n, c.fBuf[k], 0);
      o += 6 + n;
    }
    for (let i = 0; i < c.rIds.length; i++) c.rIds[i] = i < nr ? (shl(strByte(s, rStart + i * 2), 8) | strByte(s, rStart + i * 2 + 1)) : 0;
    c.qHead = 0;
    c.qCount = nq;
    o = qStart;
    for (let k = 0; k < nq; k++) {
      const n = shl(strByte(s, o + 2), 8) | strByte(s, o + 3);
      c.qLen[k] = n;
      strCopy(s, o + 4, n, c.qBuf[k], 0);
      o += 4 + n;
    }
    c.lastId = lastId;
    return "";
  }
  const idLen = strLen(clientId);
  let img = "WS1" + String.fromCharCode(shr(idLen, 8) & 255, idLen & 255) + clientId + String.fromCharCode(shr(c.lastId, 8) & 255, c.lastId & 255);
  const used = c.fState.length - flFree(c);
  img += String.fromCharCode(shr(used, 8) & 255, used & 255);
  for (let k = 0; k < used; k++) {
    const i = flOldest(c, k);
    // flow state (1..3), id, length, packet
    img += String.fromCharCode(0, c.fState[i], shr(c.fId[i], 8) & 255, c.fId[i] & 255, shr(c.fLen[i], 8) & 255, c.fLen[i] & 255) + bytesToStr(c.fBuf[i], 0, c.fLen[i]);
  }
  let held = 0;
  for (const id of c.rIds) if (id !== 0) held++;
  img += String.fromCharCode(shr(held, 8) & 255, held & 255);
  for (const id of c.rIds) if (id !== 0) img += String.fromCharCode(shr(id, 8) & 255, id & 255);
  img += String.fromCharCode(shr(c.qCount, 8) & 255, c.qCount & 255);
  for (let k = 0; k < c.qCount; k++) {
    const i = (c.qHead + k) % c.qBuf.length;
    // QoS (from the packet's first byte), length, packet
    img += String.fromCharCode(0, shr(byteAt(c.qBuf[i], 0), 1) & 3, shr(c.qLen[i], 8) & 255, c.qLen[i] & 255) + bytesToStr(c.qBuf[i], 0, c.qLen[i]);
  }
  return img;
}
