/**
 * The in-flight table: outgoing QoS 1/2 PUBLISHes awaiting their acks, each encoded
 * once into its own fixed slot (re-sent from there, DUP set in place), in the order
 * they were sent; and the incoming QoS 2 ids received and not yet released by PUBREL.
 * Parallel arrays of numbers: no object per slot. Few methods: on Espruino each one
 * holds RAM for good, so one-line operations are done in place by the callers
 * (free a slot: state F_FREE; a free slot: state.indexOf(F_FREE); holds(id):
 * id > 0 && find(id) >= 0; PUBREL: its id's entry in rIds set to 0).
 */
export const F_FREE = 0;
export const F_PUBACK = 1; // QoS 1 PUBLISH sent
export const F_PUBREC = 2; // QoS 2 PUBLISH sent
export const F_PUBCOMP = 3; // QoS 2 PUBREL sent

export class InflightTable {
  buf: Bytes[] = [];
  len: number[] = [];
  id: number[] = [];
  state: number[] = [];
  /** Sending order: a running number per claim. */
  private order: number[] = [];
  private seq = 0;
  /** Incoming QoS 2 ids awaiting PUBREL (0 = free entry). */
  rIds: number[] = [];

  constructor(slots: number, slotSize: number, qos2Ids: number) {
    for (let i = 0; i < slots; i++) {
      this.buf.push(bytesNew(slotSize));
      this.len.push(0);
      this.id.push(0);
      this.state.push(F_FREE);
      this.order.push(0);
    }
    for (let i = 0; i < qos2Ids; i++) this.rIds.push(0);
  }

  /** Free slots. */
  free(): number {
    let n = 0;
    for (let i = 0; i < this.state.length; i++) if (this.state[i] === F_FREE) n++;
    return n;
  }

  /**
   * Slot k now holds a PUBLISH of n bytes with this id in flow state `state`
   * (F_PUBACK = QoS 1 sent, F_PUBREC = QoS 2 sent, so a new PUBLISH passes its QoS;
   * a restored slot its saved state), sent after every slot claimed before it.
   */
  claim(k: number, id: number, n: number, state: number): void {
    this.len[k] = n;
    this.id[k] = id;
    this.state[k] = state;
    this.seq++;
    this.order[k] = this.seq;
  }

  /** The used slot holding id, or -1. */
  find(id: number): number {
    let k = -1;
    for (let i = 0; i < this.id.length; i++) if (this.id[i] === id && this.state[i] !== F_FREE) k = i;
    return k;
  }

  /** Slot index of the k-th oldest used slot (order of sending), or -1. */
  oldest(k: number): number {
    let floor = -1;
    let best = -1;
    for (let step = 0; step <= k; step++) {
      best = -1;
      for (let i = 0; i < this.state.length; i++) {
        if (this.state[i] !== F_FREE && this.order[i] > floor && (best < 0 || this.order[i] < this.order[best])) best = i;
      }
      if (best < 0) return -1;
      floor = this.order[best];
    }
    return best;
  }

  // Incoming QoS 2 ids.

  /** Remember id: 0 added, 1 already held (a re-send before PUBREL), -1 table full. */
  rxAdd(id: number): number {
    if (this.rIds.indexOf(id) >= 0) return 1;
    const k = this.rIds.indexOf(0);
    if (k >= 0) this.rIds[k] = id;
    return k < 0 ? -1 : 0;
  }
}
