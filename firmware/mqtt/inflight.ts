/**
 * The in-flight table: outgoing QoS 1/2 PUBLISHes awaiting their acks, each encoded
 * once into its own fixed slot (re-sent from there, DUP set in place), in the order
 * they were sent; and the incoming QoS 2 ids received and not yet released by PUBREL.
 * Parallel arrays of numbers held by the Client (fBuf, fLen, fId, fState, fOrder,
 * fSeq, rIds): no object per slot, and no table object, class or constructor (each
 * holds RAM on Espruino). Few functions: one-line operations are done in place by the
 * callers (free a slot: fState F_FREE; a free slot: fState.indexOf(F_FREE); holds(id):
 * id > 0 && flFind(c, id) >= 0; PUBREL: its id's entry in rIds set to 0).
 */
import type { Client } from "./client";

export const F_FREE = 0;
export const F_PUBACK = 1; // QoS 1 PUBLISH sent
export const F_PUBREC = 2; // QoS 2 PUBLISH sent
export const F_PUBCOMP = 3; // QoS 2 PUBREL sent

/** Free slots. */
export function flFree(c: Client): number {
  let n = 0;
  for (let i = 0; i < c.fState.length; i++) if (c.fState[i] === F_FREE) n++;
  return n;
}

/**
 * Slot k now holds a PUBLISH of n bytes with this id in flow state `state`
 * (F_PUBACK = QoS 1 sent, F_PUBREC = QoS 2 sent, so a new PUBLISH passes its QoS;
 * a restored slot its saved state), sent after every slot claimed before it.
 */
export function flClaim(c: Client, k: number, id: number, n: number, state: number): void {
  c.fLen[k] = n;
  c.fId[k] = id;
  c.fState[k] = state;
  c.fSeq++;
  c.fOrder[k] = c.fSeq;
}

/** The used slot holding id, or -1. */
export function flFind(c: Client, id: number): number {
  let k = -1;
  for (let i = 0; i < c.fId.length; i++) if (c.fId[i] === id && c.fState[i] !== F_FREE) k = i;
  return k;
}

/** Slot index of the k-th oldest used slot (order of sending), or -1. */
export function flOldest(c: Client, k: number): number {
  let floor = -1;
  let best = -1;
  for (let step = 0; step <= k; step++) {
    best = -1;
    for (let i = 0; i < c.fState.length; i++) {
      if (c.fState[i] !== F_FREE && c.fOrder[i] > floor && (best < 0 || c.fOrder[i] < c.fOrder[best])) best = i;
    }
    if (best < 0) return -1;
    floor = c.fOrder[best];
  }
  return best;
}

/** Remember an incoming QoS 2 id: 0 added, 1 already held (a re-send before PUBREL), -1 table full. */
export function rxAdd(c: Client, id: number): number {
  if (c.rIds.indexOf(id) >= 0) return 1;
  const k = c.rIds.indexOf(0);
  if (k >= 0) c.rIds[k] = id;
  return k < 0 ? -1 : 0;
}
