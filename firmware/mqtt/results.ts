/**
 * Client results and events. Like the codec's (errors.ts), errors are negative
 * numbers, so publish() and friends return an id, a status or an error in one
 * number without allocating. `clientErrorName` covers these and the codec's.
 */
import { ERR_PACKET_TOO_LARGE, errorName } from "./errors";

/** Connection states (Client.state); here, not in client.ts, so flows.ts and conn.ts need no import cycle (Lua follows them). */
export const S_IDLE = 0;
export const S_WAIT_WIFI = 1;
export const S_OPENING = 2;
export const S_CONNACK = 3;
export const S_CONNECTED = 4;
export const S_BACKOFF = 5;
export const S_STOPPED = 6;

/** publish(): the message waits in the offline queue (sent, in order, after reconnect). */
export const QUEUED = 65536;
/** subscribe()/unsubscribe(): not connected; the request goes out on the next connect. */
export const DEFERRED = 0;

// Client errors are -30 and below; the codec's (errors.ts) are -1..-29.
export const ERR_INFLIGHT_FULL = -30; // every in-flight slot holds an unacknowledged message
export const ERR_NOT_CONNECTED = -31; // not connected and no offline queue
export const ERR_SUBS_FULL = -32; // the subscription table is full
export const ERR_NO_ID = -33; // no free packet identifier
export const ERR_CONNACK_PROTOCOL = -41; // CONNACK 1
export const ERR_CONNACK_IDENTIFIER = -42; // CONNACK 2
export const ERR_CONNACK_SERVER = -43; // CONNACK 3
export const ERR_CONNACK_CREDENTIALS = -44; // CONNACK 4
export const ERR_CONNACK_AUTH = -45; // CONNACK 5
export const ERR_DEAD_LINK = -50; // no PINGRESP (nor any packet) within the keep-alive bound
export const ERR_CONNECT_TIMEOUT = -51; // no CONNACK in time
export const ERR_TAKEOVER = -52; // closed right after connecting, repeatedly: another client uses this id
export const ERR_QOS2_FULL = -53; // too many incoming QoS 2 messages awaiting PUBREL
export const ERR_SESSION_DATA = -54; // saved session state unreadable (ignored)
export const ERR_UNEXPECTED = -55; // a packet the broker must not send (or CONNACK out of turn)
export const ERR_QUEUE_DROP = -56; // offline queue full: the oldest message was dropped
export const ERR_CLOSED = -57; // the connection was closed by the peer or the network
export const ERR_NO_LINK = -58; // the transport could not be opened
export const ERR_WRITE = -59; // the transport threw on write (socket gone)
export const ERR_BROKER_FAULTS = -60; // the broker broke the protocol on several connections in a row
export const ERR_UNKNOWN_ID = -61; // an acknowledgement for a packet id not in flight (reported, ignored)

/** True for the CONNACK refusals retrying soon cannot fix (1, 2, 4, 5: not 3, server unavailable). */
export function isRefusal(code: number): boolean {
  return isConnackError(code) && code !== ERR_CONNACK_SERVER;
}

/**
 * True when the broker broke the protocol: a codec error on what it sent (-1..-29),
 * except a packet merely too large for our RX buffer, or a packet it must not send.
 */
export function isBrokerFault(code: number): boolean {
  return (code < 0 && code > ERR_INFLIGHT_FULL && code !== ERR_PACKET_TOO_LARGE) || code === ERR_UNEXPECTED;
}

/** True for any CONNACK refusal (return codes 1..5, ERR_CONNACK_*). */
export function isConnackError(code: number): boolean {
  return code <= ERR_CONNACK_PROTOCOL && code >= ERR_CONNACK_AUTH;
}

/**
 * True when publish() returned a packet id (1..65535): a QoS 1 or 2 message sent now,
 * whose acknowledgement comes as onPublished(id). Not for 0 (QoS 0, sent), QUEUED or an error.
 */
export function isPacketId(r: number): boolean {
  return r > 0 && r < QUEUED;
}

/** A readable name for any client or codec result code (errors.ts holds both tables). */
export const clientErrorName = errorName;

/** The message of something thrown (an Error, or a string on Lua). */
export function thrownText(e: unknown): string {
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === "string") return m;
  }
  return "error";
}
