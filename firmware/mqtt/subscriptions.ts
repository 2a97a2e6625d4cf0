/**
 * The subscription table: each filter with its QoS, local handler, where it stands
 * with the broker (to send, awaiting SUBACK, granted, refused, to unsubscribe,
 * awaiting UNSUBACK) and the packet id of the request in flight. Parallel arrays.
 */
import type { MessageHandler } from "./config";
import { ERR_QOS, ERR_VALUE } from "./errors";
import { ERR_SUBS_FULL } from "./results";
import { checkFilter } from "./topic";

export const SUB_NEW = 0; // to send
export const SUB_SENT = 1; // awaiting SUBACK
export const SUB_OK = 2;
export const SUB_FAILED = 3; // SUBACK 0x80
export const UNSUB_NEW = 4; // to unsubscribe
export const UNSUB_SENT = 5; // awaiting UNSUBACK

export class SubscriptionTable {
  filter: string[] = [];
  qos: number[] = [];
  handler: (MessageHandler | null)[] = [];
  state: number[] = [];
  pid: number[] = [];
  max: number;

  constructor(max: number) {
    this.max = max;
  }

  size(): number {
    return this.filter.length;
  }

  find(f: string): number {
    for (let i = 0; i < this.filter.length; i++) if (this.filter[i] === f) return i;
    return -1;
  }

  /** Check and record a SUBSCRIBE request (entries to send); 0, or an error and nothing recorded. */
  subscribe(filters: string[], qos: number[], handler: MessageHandler | null): number {
    if (filters.length !== qos.length || filters.length === 0) return ERR_VALUE;
    for (let i = 0; i < filters.length; i++) {
      const e = checkFilter(filters[i]);
      if (e !== 0) return e;
      if (qos[i] < 0 || qos[i] > 2) return ERR_QOS;
    }
    let free = this.max - this.filter.length;
    for (const f of filters) if (this.find(f) < 0) free--;
    if (free < 0) return ERR_SUBS_FULL;
    for (let i = 0; i < filters.length; i++) this.set(filters[i], qos[i], handler, SUB_NEW);
    return 0;
  }

  /** Check and record an UNSUBSCRIBE request; 0 or an error. */
  unsubscribe(filters: string[]): number {
    if (filters.length === 0) return ERR_VALUE;
    for (const f of filters) {
      const e = checkFilter(f);
      if (e !== 0) return e;
    }
    for (const f of filters) {
      const k = this.find(f);
      if (k < 0 && this.filter.length >= this.max) return ERR_SUBS_FULL;
      this.set(f, k >= 0 ? this.qos[k] : 0, k >= 0 ? this.handler[k] : null, UNSUB_NEW);
    }
    return 0;
  }

  /** Entry for f in state st (added when absent; the caller checked the room). */
  set(f: string, qos: number, h: MessageHandler | null, st: number): number {
    let k = this.find(f);
    if (k < 0) {
      k = this.filter.length;
      this.filter.push(f);
      this.qos.push(qos);
      this.handler.push(h);
      this.state.push(st);
      this.pid.push(0);
    }
    this.qos[k] = qos;
    this.handler[k] = h;
    this.state[k] = st;
    this.pid[k] = 0;
    return k;
  }

  /** Remove entries in state `st` (with packet id `pid`, or any when 0). */
  remove(st: number, pid: number): void {
    let j = 0;
    const n = this.filter.length;
    for (let i = 0; i < n; i++) {
      if (this.state[i] === st && (pid === 0 || this.pid[i] === pid)) continue;
      this.filter[j] = this.filter[i];
      this.qos[j] = this.qos[i];
      this.handler[j] = this.handler[i];
      this.state[j] = this.state[i];
      this.pid[j] = this.pid[i];
      j++;
    }
    while (this.filter.length > j) {
      this.filter.pop();
      this.qos.pop();
      this.handler.pop();
      this.state.pop();
      this.pid.pop();
    }
  }

  /** Entries in state st (or only entry `only`) are now sent with packet id `id`. */
  markSent(st: number, only: number, id: number): void {
    for (let i = 0; i < this.state.length; i++) {
      if (this.state[i] === st && (only < 0 || only === i)) {
        this.state[i] = st === SUB_NEW ? SUB_SENT : UNSUB_SENT;
        this.pid[i] = id;
      }
    }
  }

  /** The connection is gone: requests in flight go out again on the next one. */
  unsent(): void {
    for (let i = 0; i < this.state.length; i++) {
      if (this.state[i] === SUB_SENT) this.state[i] = SUB_NEW;
      else if (this.state[i] === UNSUB_SENT) this.state[i] = UNSUB_NEW;
      this.pid[i] = 0;
    }
  }

  /** The broker lost the session: pending unsubscribes are moot, every subscription is sent again. */
  resubscribeAll(): void {
    this.remove(UNSUB_NEW, 0);
    for (let i = 0; i < this.state.length; i++) this.state[i] = SUB_NEW;
  }

  usesId(id: number): boolean {
    for (const v of this.pid) if (v === id) return true;
    return false;
  }

  /** SUBACK result of a filter: 0..2 granted, 0x80 refused, -1 pending or unknown. */
  result(f: string): number {
    const k = this.find(f);
    if (k < 0) return -1;
    const s = this.state[k];
    return s === SUB_OK ? this.qos[k] : s === SUB_FAILED ? 0x80 : -1;
  }
}
