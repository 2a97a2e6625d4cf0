/**
 * The subscription table: each filter with its QoS, local handler, where it stands
 * with the broker (to send, awaiting SUBACK, granted, refused, to unsubscribe,
 * awaiting UNSUBACK) and the packet id of the request in flight. Parallel arrays held
 * by the Client (sFilter, sQos, sHandler, sState, sPid: no object, class or
 * constructor of its own, each of which holds RAM on Espruino); few functions: SUBACK,
 * the SUBACK result, a filter's entry (sFilter.indexOf) and whether an id is in use
 * (sPid.indexOf) are read from the arrays by their callers.
 */
import type { Client } from "./client";
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

/**
 * Check and record a request: SUBSCRIBE when qos is an array (filters[i] at qos[i],
 * for `handler`), UNSUBSCRIBE when null (an entry keeps its QoS and handler until
 * UNSUBACK). 0, or an error and nothing recorded.
 */
export function subAdd(c: Client, filters: string[], qos: number[] | null, handler: MessageHandler | null): number {
  const n = filters.length;
  if (n === 0 || (qos !== null && qos.length !== n)) return ERR_VALUE;
  let free = c.cfg.maxSubs - c.sFilter.length;
  for (let i = 0; i < n; i++) {
    const e = checkFilter(filters[i]);
    if (e !== 0) return e;
    if (qos !== null && (qos[i] < 0 || qos[i] > 2)) return ERR_QOS;
    if (c.sFilter.indexOf(filters[i]) < 0) free--;
  }
  if (free < 0) return ERR_SUBS_FULL;
  for (let i = 0; i < n; i++) {
    const f = filters[i];
    let k = c.sFilter.indexOf(f);
    if (k < 0) {
      k = c.sFilter.length;
      c.sFilter.push(f);
      c.sQos.push(0);
      c.sHandler.push(null);
      c.sState.push(0);
      c.sPid.push(0);
    }
    if (qos !== null) {
      c.sQos[k] = qos[i];
      c.sHandler[k] = handler;
    }
    c.sState[k] = qos !== null ? SUB_NEW : UNSUB_NEW;
    c.sPid[k] = 0;
  }
  return 0;
}

/**
 * Entries in state `from` (-1: any; only entry `only`, when >= 0) move to state `to`
 * with packet id `id`: SUB_NEW -> SUB_SENT when sent; the connection gone, requests in
 * flight go out again on the next one (SUB_SENT -> SUB_NEW, id 0); the broker lost
 * the session, everything is subscribed again (any -> SUB_NEW). With `to` -1 they are
 * removed instead, those with packet id `id` only (any when 0): UNSUBACK, or pending
 * unsubscribes the broker need not hear of.
 */
export function subMove(c: Client, from: number, only: number, to: number, id: number): void {
  let j = 0;
  const n = c.sFilter.length;
  for (let i = 0; i < n; i++) {
    const hit = (from < 0 || c.sState[i] === from) && (only < 0 || only === i);
    if (to >= 0) {
      if (hit) {
        c.sState[i] = to;
        c.sPid[i] = id;
      }
      continue;
    }
    if (hit && (id === 0 || c.sPid[i] === id)) continue;
    c.sFilter[j] = c.sFilter[i];
    c.sQos[j] = c.sQos[i];
    c.sHandler[j] = c.sHandler[i];
    c.sState[j] = c.sState[i];
    c.sPid[j] = c.sPid[i];
    j++;
  }
  while (to < 0 && c.sFilter.length > j) {
    c.sFilter.pop();
    c.sQos.pop();
    c.sHandler.pop();
    c.sState.pop();
    c.sPid.pop();
  }
}
