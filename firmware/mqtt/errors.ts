/**
 * Codec and client results. Negative numbers are errors, so a hot-path function can
 * return a length or an error in one number without allocating. `errorName` turns a
 * code into the rule it broke, for logs and tests.
 */
export const OK = 0;
/** The decoder needs more bytes to finish the current packet. */
export const NEED_MORE = 0;
/** The decoder finished a packet; its fields are in the reader's Packet. */
export const PACKET_READY = 1;

export const ERR_BUFFER_TOO_SMALL = -1; // encode: the packet does not fit the TX buffer
export const ERR_REMAINING_LENGTH = -2; // more than 4 length bytes, or a non-minimal/oversized value
export const ERR_PACKET_TYPE = -3; // type 0 or 15
export const ERR_HEADER_FLAGS = -4; // fixed-header flag bits not as the spec requires
export const ERR_TRUNCATED = -5; // a field runs past the remaining length
export const ERR_TRAILING_BYTES = -6; // bytes left after the last field
export const ERR_STRING_TOO_LONG = -7; // string over 65535 bytes
export const ERR_UTF8 = -8; // string is not well-formed UTF-8
export const ERR_NULL_CHAR = -9; // string contains U+0000
export const ERR_TOPIC_WILDCARD = -10; // topic name holds + or #
export const ERR_TOPIC_EMPTY = -11; // topic name or filter of zero length
export const ERR_FILTER = -12; // malformed + or # in a filter
export const ERR_PACKET_ID = -13; // packet identifier 0 where 1..65535 is required
export const ERR_QOS = -14; // QoS 3, or a QoS that the packet forbids
export const ERR_PROTOCOL = -15; // protocol name/level not MQTT 3.1.1
export const ERR_CONNECT_FLAGS = -16; // reserved bit set, or inconsistent will/user/password flags
export const ERR_CONNACK = -17; // reserved bits, or return code above 5
export const ERR_SUBACK_CODE = -18; // SUBACK return code other than 0, 1, 2, 0x80
export const ERR_NO_FILTERS = -19; // SUBSCRIBE/UNSUBSCRIBE without a filter
export const ERR_PACKET_TOO_LARGE = -20; // incoming packet larger than the RX buffer (skipped, framing kept)
export const ERR_VALUE = -21; // encode: an argument is out of range (keep-alive, packet id, QoS, return code)

/**
 * A readable name for a result code: the rule that was broken (codec codes -1..-21,
 * here) or the client's trouble (-30 and below, results.ts); "error <code>" for any
 * other. One function for both (results.ts calls it clientErrorName): on Espruino
 * each function holds RAM for good.
 */
export function errorName(code: number): string {
  // The names live in this function's body: on Espruino that stays in flash, and
  // the string is made only when a name is asked for (a module-level array of
  // strings would sit in RAM for good).
  let names =
    "ok|buffer too small|malformed remaining length|invalid packet type|invalid fixed-header flags|truncated field|trailing bytes after last field|string longer than 65535 bytes|string is not well-formed UTF-8|string contains U+0000|topic name contains a wildcard|empty topic|malformed topic filter|packet identifier 0|invalid QoS|not MQTT 3.1.1 (protocol name or level)|invalid CONNECT flags|invalid CONNACK|invalid SUBACK return code|no topic filter|packet larger than the RX buffer|argument out of range";
  let i = -code;
  if (i >= 30) {
    i -= 30;
    names =
      "in-flight full|not connected|subscription table full|no free packet identifier||||||||unacceptable protocol version|identifier rejected|server unavailable|bad user name or password|not authorized|||||no answer to PINGREQ: link dead|no CONNACK in time|session taken over by another client with the same client id|too many incoming QoS 2 messages awaiting PUBREL|saved session unreadable|unexpected packet from broker|offline queue full: oldest message dropped|connection closed|cannot open connection|write to the connection failed|broker keeps breaking the protocol|acknowledgement for an unknown packet id";
  } else if (i > 21) {
    i = -1;
  }
  let s = 0;
  while (i > 0) {
    s = names.indexOf("|", s) + 1;
    i--;
    if (s === 0) i = -1; // past the last name
  }
  const e = names.indexOf("|", s);
  if (i < 0 || e === s) return "error " + code;
  return names.substring(s, e < 0 ? strLen(names) : e);
}
