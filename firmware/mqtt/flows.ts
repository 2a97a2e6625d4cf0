/**
 * The message flows of a connected client (client.ts owns the connection): what each
 * packet from the broker does, the CONNACK that starts a session (re-sends, birth,
 * subscriptions, the offline queue), and the outgoing PUBLISH / (UN)SUBSCRIBE paths
 * with packet ids that are never reused while in flight. Free functions on the Client
 * keep the state in one place.
 */
import type { Client } from "./client";
import { encodeAck, encodePublish, encodeSubscribe, encodeUnsubscribe, setDup, setPublishId } from "./encode";
import { ERR_BUFFER_TOO_SMALL, ERR_PACKET_TOO_LARGE } from "./errors";
import { F_FREE, F_PUBACK, F_PUBCOMP, F_PUBREC, flClaim, flFind, flFree, flOldest, rxAdd } from "./inflight";
import { CONNACK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK } from "./packet";
import * as R from "./results";
import { S_CONNACK, S_CONNECTED } from "./results";
import { SUB_FAILED, SUB_NEW, SUB_OK, SUB_SENT, subMove, UNSUB_NEW, UNSUB_SENT } from "./subscriptions";
import { topicMatches } from "./topic";
import { get16 } from "./u16";


/** One complete packet from the broker (in c.reader.packet). */
export function handlePacket(c: Client): void {
  const r = c.reader;
  const pk = r.packet;
  const t = pk.type;
  if (t === CONNACK) {
    connackOrFault(c, 0);
    return;
  }
  if (c.state !== S_CONNECTED) {
    c.drop(R.ERR_UNEXPECTED, "packet type " + t + " before CONNACK");
    return;
  }
  if (t === PUBLISH) {
    const id = pk.id;
    const qos = pk.qos;
    if (qos === 2) {
      const had = rxAdd(c, id);
      if (had > 0) {
        c.send(c.tx, encodeAck(c.tx, PUBREC, id)); // a re-send before PUBREL: already delivered
        return;
      }
      if (had < 0) {
        // Not delivered, not acknowledged: close, so the broker re-sends it (with a
        // persistent session) once PUBRELs have freed the table. Never a duplicate.
        c.drop(R.ERR_QOS2_FULL, "id " + id + " topic " + r.str(pk.topicOff, pk.topicLen));
        return;
      }
    }
    deliver(c, r.str(pk.topicOff, pk.topicLen), r.str(pk.payloadOff, pk.payloadLen));
    if (qos > 0) c.send(c.tx, encodeAck(c.tx, qos === 1 ? PUBACK : PUBREC, id));
  } else if (t === PUBACK || t === PUBREC || t === PUBCOMP) {
    const want = t === PUBACK ? F_PUBACK : t === PUBREC ? F_PUBREC : F_PUBCOMP;
    const k = flFind(c, pk.id);
    if (t === PUBREC) {
      // Answer every PUBREC (also a repeated one, or one for a flow we no longer hold).
      if (k >= 0 && c.fState[k] === F_PUBREC) c.fState[k] = F_PUBCOMP;
      else if (k < 0) c.report(R.ERR_UNKNOWN_ID, "PUBREC " + pk.id);
      c.send(c.tx, encodeAck(c.tx, PUBREL, pk.id));
      return;
    }
    if (k >= 0 && c.fState[k] === want) {
      c.fState[k] = F_FREE;
      const h = c.onPublished;
      if (h !== null) h(pk.id);
      drain(c);
    } else if (k < 0) {
      // Nothing to free; the spec asks nothing more. Named, so a confused broker shows.
      c.report(R.ERR_UNKNOWN_ID, (t === PUBACK ? "PUBACK " : "PUBCOMP ") + pk.id);
    }
  } else if (t === PUBREL) {
    const j = c.rIds.indexOf(pk.id);
    if (j >= 0) c.rIds[j] = 0;
    c.send(c.tx, encodeAck(c.tx, PUBCOMP, pk.id));
  } else if (t === SUBACK) {
    let j = 0;
    for (let i = 0; i < c.sPid.length; i++) {
      if (c.sPid[i] === pk.id && c.sState[i] === SUB_SENT) {
        const code = r.codeAt(j);
        j++;
        c.sPid[i] = 0;
        c.sState[i] = code === 0x80 || code < 0 ? SUB_FAILED : SUB_OK;
        if (code >= 0 && code <= 2) c.sQos[i] = code;
        const h = c.onSubscribed;
        if (h !== null) h(c.sFilter[i], code);
      }
    }
  } else if (t === UNSUBACK) {
    subMove(c, UNSUB_SENT, -1, -1, pk.id);
  } else if (t !== PINGRESP) {
    c.drop(R.ERR_UNEXPECTED, "packet type " + t);
  }
}

/**
 * The rare packets, in one function (one function holds less RAM than two on
 * Espruino): code < 0, a malformed or oversized packet from the broker; code 0, the
 * CONNACK in c.reader.packet. A refusal drops; an acceptance re-sends, re-subscribes, births and drains.
 * Unacknowledged messages are re-sent in their original order, DUP set. A QoS 2 flow
 * past PUBREC re-sends PUBREL when the session is present; when the broker lost the
 * session, it already had the message, so the flow is complete.
 */
export function connackOrFault(c: Client, code: number): void {
  const pk = c.reader.packet;
  if (code < 0) {
    if (code === ERR_PACKET_TOO_LARGE) {
      c.oversized++;
      const topic = pk.type === PUBLISH && pk.topicLen >= 0 ? c.reader.str(pk.topicOff, pk.topicLen) : "?";
      const detail = "type " + pk.type + " topic " + topic + " size " + pk.length;
      if (c.cfg.closeOnOversize || pk.type !== PUBLISH) {
        c.drop(code, detail);
        return;
      }
      c.report(code, detail);
      // Skipped: acknowledge it, so the broker does not hold it forever; it was reported, never delivered.
      if (pk.qos > 0 && pk.topicLen >= 0 && pk.topicOff + pk.topicLen + 2 <= c.reader.cap) {
        const id = get16(c.reader.rx, pk.topicOff + pk.topicLen);
        if (id !== 0) c.send(c.tx, encodeAck(c.tx, pk.qos === 1 ? PUBACK : PUBREC, id));
      }
      return;
    }
    c.drop(code, "malformed packet from broker");
    return;
  }
  const sp = pk.sessionPresent;
  const rc = pk.returnCode;
  if (c.state !== S_CONNACK) {
    c.drop(R.ERR_UNEXPECTED, "CONNACK out of turn");
    return;
  }
  if (rc !== 0) {
    c.drop(R.ERR_CONNACK_PROTOCOL + 1 - rc, "CONNACK " + rc);
    return;
  }
  const now = c.p.millis();
  c.state = S_CONNECTED;
  c.sessionPresent = sp;
  c.upAt = now;
  c.lastRecv = now;
  c.p.log("mqtt connected session=" + (sp ? 1 : 0));
  if (!sp) for (let i = 0; i < c.rIds.length; i++) c.rIds[i] = 0;
  // The n slots used now, oldest first; k is the rank among the slots still used (a
  // completed flow is freed, so the next one takes its rank). Slots claimed by an
  // onPublished handler here are newer and already sent.
  const n = c.fState.length - flFree(c);
  let k = 0;
  for (let m = 0; m < n; m++) {
    const i = flOldest(c, k);
    if (i < 0) break;
    k++;
    if (c.fState[i] === F_PUBCOMP) {
      if (sp) c.send(c.tx, encodeAck(c.tx, PUBREL, c.fId[i]));
      else {
        const id = c.fId[i];
        c.fState[i] = F_FREE;
        k--;
        const h = c.onPublished;
        if (h !== null) h(id);
      }
    } else {
      setDup(c.fBuf[i]);
      c.send(c.fBuf[i], c.fLen[i]);
    }
  }
  // Subscriptions: the broker kept them only when the session is present; pending
  // unsubscribes are moot when it lost the session.
  if (!sp) {
    subMove(c, UNSUB_NEW, -1, -1, 0);
    subMove(c, -1, -1, SUB_NEW, 0);
  }
  if (c.state !== S_CONNECTED) return;
  flushSubs(c, SUB_NEW);
  flushSubs(c, UNSUB_NEW);
  const bt = c.cfg.birthTopic;
  if (bt !== null && (c.birthId <= 0 || flFind(c, c.birthId) < 0)) {
    // An unacknowledged birth from an earlier connection was re-sent above: one is enough.
    const r = sendNew(c, bt, c.cfg.birthMessage, c.cfg.birthQos, c.cfg.birthRetain);
    if (r < 0) c.report(r, "birth " + bt);
    c.birthId = r > 0 ? r : 0;
  }
  drain(c);
  const ka = c.cfg.connect.keepAlive;
  if (c.state === S_CONNECTED) c.arm(ka > 0 ? ka * 1000 : -1);
  const h = c.onConnect;
  if (h !== null) h(sp);
}

/** A PUBLISH (qos and retain in c.reader.packet) to the matching handlers, then onMessage. */
function deliver(c: Client, topic: string, payload: string): void {
  const qos = c.reader.packet.qos;
  const retain = c.reader.packet.retain;
  const g = c.gen;
  for (let i = 0; i < c.sFilter.length; i++) {
    const h = c.sHandler[i];
    if (h !== null && c.sState[i] !== SUB_FAILED && topicMatches(c.sFilter[i], topic)) {
      h(topic, payload, qos, retain);
      if (g !== c.gen) return;
    }
  }
  const m = c.onMessage;
  if (m !== null) m(topic, payload, qos, retain);
}

function nextId(c: Client): number {
  for (let n = 0; n < 65535; n++) {
    c.lastId = c.lastId >= 65535 ? 1 : c.lastId + 1;
    if (flFind(c, c.lastId) < 0 && c.sPid.indexOf(c.lastId) < 0) return c.lastId;
  }
  return 0;
}

/** Send a new PUBLISH now: QoS 0 from the TX buffer, QoS 1/2 from a claimed in-flight slot. */
export function sendNew(c: Client, topic: string, payload: string, qos: number, retain: boolean): number {
  if (qos === 0) {
    const n = encodePublish(c.tx, topic, payload, 0, retain, false, 0);
    if (n < 0) return n;
    c.send(c.tx, n);
    return 0;
  }
  const k = c.fState.indexOf(F_FREE);
  if (k < 0) return R.ERR_INFLIGHT_FULL;
  const id = nextId(c);
  if (id === 0) return R.ERR_NO_ID;
  const n = encodePublish(c.fBuf[k], topic, payload, qos, retain, false, id);
  if (n < 0) return n;
  flClaim(c, k, id, n, qos); // QoS 1 -> F_PUBACK, 2 -> F_PUBREC
  c.send(c.fBuf[k], n);
  return id;
}

/** Send queued messages, oldest first, while connected and in-flight slots allow. */
export function drain(c: Client): void {
  while (c.qCount > 0 && c.state === S_CONNECTED) {
    const i = c.qHead;
    const qb = c.qBuf[i];
    const n = c.qLen[i];
    const qos = shr(byteAt(qb, 0), 1) & 3;
    if (qos === 0) {
      if (!c.send(qb, n)) return;
    } else {
      const k = c.fState.indexOf(F_FREE);
      if (k < 0) return;
      const b = c.fBuf[k];
      if (n > bytesLen(b)) {
        // Larger than an in-flight slot (queue slots configured bigger): cannot be tracked.
        c.report(ERR_BUFFER_TOO_SMALL, "queued message of " + n + " bytes");
        c.dropped++;
      } else {
        const id = nextId(c);
        if (id === 0) return;
        bytesCopy(b, 0, qb, 0, n);
        setPublishId(b, id);
        flClaim(c, k, id, n, qos);
        c.send(b, n);
      }
    }
    // The oldest is sent (or dropped): forget it.
    c.qHead = (i + 1) % c.qBuf.length;
    c.qCount--;
  }
}

/**
 * Send every entry in state `st` (SUB_NEW or UNSUB_NEW) in one SUBSCRIBE /
 * UNSUBSCRIBE, or one per filter when they do not fit the TX buffer together.
 * Returns the first packet id used, or an error.
 */
export function flushSubs(c: Client, st: number): number {
  const fl: string[] = [];
  const q: number[] = [];
  for (let i = 0; i < c.sState.length; i++) {
    if (c.sState[i] === st) {
      fl.push(c.sFilter[i]);
      q.push(c.sQos[i]);
    }
  }
  if (fl.length === 0) return R.DEFERRED;
  const id = nextId(c);
  if (id === 0) return R.ERR_NO_ID;
  const n = st === SUB_NEW ? encodeSubscribe(c.tx, id, fl, q) : encodeUnsubscribe(c.tx, id, fl);
  if (n >= 0) {
    subMove(c, st, -1, st + 1, id); // SUB_NEW -> SUB_SENT, UNSUB_NEW -> UNSUB_SENT
    c.send(c.tx, n);
    return id;
  }
  if (n !== ERR_BUFFER_TOO_SMALL || fl.length === 1) {
    c.report(n, st === SUB_NEW ? "SUBSCRIBE" : "UNSUBSCRIBE");
    return n;
  }
  let first = 0;
  for (let i = 0; i < c.sState.length; i++) {
    if (c.sState[i] !== st) continue;
    const one = nextId(c);
    if (one === 0) return R.ERR_NO_ID;
    const f1 = [c.sFilter[i]];
    const m = st === SUB_NEW ? encodeSubscribe(c.tx, one, f1, [c.sQos[i]]) : encodeUnsubscribe(c.tx, one, f1);
    if (m < 0) {
      c.report(m, c.sFilter[i]);
      if (first === 0) first = m;
      continue;
    }
    subMove(c, st, i, st + 1, one);
    c.send(c.tx, m);
    if (first === 0) first = one;
  }
  return first;
}
