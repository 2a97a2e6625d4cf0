/**
 * The offline queue: a ring of PUBLISH packets encoded while the client could not
 * send them (placeholder packet id 1, patched when each is sent), oldest first.
 * When full, the oldest is dropped to keep the newest. A message's QoS is read from
 * its first byte (bits 1-2), so no array holds it. The k-th oldest is in slot
 * (head + k) % buf.length; the session image (session-image.ts) reads and refills it
 * in place.
 */
import { encodePublish } from "./encode";

/** put(): stored, nothing dropped. */
export const RING_STORED = 0;
/** put(): stored, and the oldest message was dropped to make room. */
export const RING_DROPPED_OLDEST = 1;

export class OfflineRing {
  buf: Bytes[] = [];
  len: number[] = [];
  head = 0;
  count = 0;

  constructor(slots: number, slotSize: number) {
    for (let i = 0; i < slots; i++) {
      this.buf.push(bytesNew(slotSize));
      this.len.push(0);
    }
  }

  /** Encode and store; RING_STORED, RING_DROPPED_OLDEST, or a codec error (nothing changed). */
  put(topic: string, payload: string, qos: number, retain: boolean): number {
    const cap = this.buf.length;
    const full = this.count === cap;
    const k = full ? this.head : (this.head + this.count) % cap;
    const n = encodePublish(this.buf[k], topic, payload, qos, retain, false, 1);
    if (n < 0) return n;
    this.len[k] = n;
    if (full) {
      this.head = (this.head + 1) % cap;
      return RING_DROPPED_OLDEST;
    }
    this.count++;
    return RING_STORED;
  }
}
