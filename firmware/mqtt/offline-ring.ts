/**
 * The offline queue: a ring of PUBLISH packets encoded while the client could not send
 * them (placeholder packet id 1, patched when each is sent), oldest first; when full,
 * the oldest is dropped and reported. The k-th oldest is in slot (qHead + k) % qBuf.length.
 * A message's QoS is read from its first byte (bits 1-2), so no array holds it.
 * Its arrays are fields of the Client (qBuf, qLen, qHead, qCount: no object, class or
 * constructor of its own, each of which holds RAM on Espruino). The ring is emptied
 * oldest first by flows.ts (drain), saved and restored by session-image.ts.
 */
import type { Client } from "./client";
import { encodePublish } from "./encode";
import * as R from "./results";

/** Into the offline queue (the oldest dropped when full): QUEUED, or a codec error (nothing changed). */
export function ringPut(c: Client, topic: string, payload: string, qos: number, retain: boolean): number {
  const cap = c.qBuf.length;
  const full = c.qCount === cap;
  const k = full ? c.qHead : (c.qHead + c.qCount) % cap;
  const n = encodePublish(c.qBuf[k], topic, payload, qos, retain, false, 1);
  if (n < 0) return n;
  c.qLen[k] = n;
  if (full) {
    c.qHead = (c.qHead + 1) % cap;
    c.dropped++;
    c.report(R.ERR_QUEUE_DROP, "dropped " + c.dropped);
  } else {
    c.qCount++;
  }
  return R.QUEUED;
}
