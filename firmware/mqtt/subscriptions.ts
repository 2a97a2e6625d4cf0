/**
 * The subscription table: each filter with its QoS, local handler, where it stands
 * with the broker (to send, awaiting SUBACK, granted, refused, to unsubscribe,
 * awaiting UNSUBACK) and the packet id of the request in flight. Parallel arrays;
 * few methods (each holds RAM on Espruino): SUBACK, the SUBACK result, a filter's
 * entry (filter.indexOf) and whether an id is in use (pid.indexOf) are read from
 * the arrays by their callers.
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

  /**
   * Check and record a request: SUBSCRIBE when qos is an array (filters[i] at qos[i],
   * for `handler`), UNSUBSCRIBE when null (an entry keeps its QoS and handler until
   * UNSUBACK). 0, or an error and nothing recorded.
   */
  add(filters: string[], qos: number[] | null, handler: MessageHandler | null): number {
    const n = filters.length;
    if (n === 0 || (qos !== null && qos.length !== n)) return ERR_VALUE;
    let free = this.max - this.filter.length;
    for (let i = 0; i < n; i++) {
      const e = checkFilter(filters[i]);
      if (e !== 0) return e;
      if (qos !== null && (qos[i] < 0 || qos[i] > 2)) return ERR_QOS;
      if (this.filter.indexOf(filters[i]) < 0) free--;
    }
    if (free < 0) return ERR_SUBS_FULL;
    for (let i = 0; i < n; i++) {
      const f = filters[i];
      let k = this.filter.indexOf(f);
      if (k < 0) {
        k = this.filter.length;
        this.filter.push(f);
        this.qos.push(0);
        this.handler.push(null);
        this.state.push(0);
        this.pid.push(0);
      }
      if (qos !== null) {
        this.qos[k] = qos[i];
        this.handler[k] = handler;
      }
      this.state[k] = qos !== null ? SUB_NEW : UNSUB_NEW;
      this.pid[k] = 0;
    }
    return 0;
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

  /**
   * Entries in state `from` (or only entry `only`, when >= 0) move to state `to` with
   * packet id `id`: SUB_NEW -> SUB_SENT when sent; the connection gone, requests in
   * flight go out again on the next one (SUB_SENT -> SUB_NEW, id 0); the broker lost
   * the session, everything is subscribed again (-1 = any state -> SUB_NEW).
   */
  move(from: number, only: number, to: number, id: number): void {
    for (let i = 0; i < this.state.length; i++) {
      if ((from < 0 || this.state[i] === from) && (only < 0 || only === i)) {
        this.state[i] = to;
        this.pid[i] = id;
      }
    }
  }
}
