/** MQTT 3.1.1 packet types, CONNECT options and the decoded-packet record. */

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Protocol name in CONNECT (its length 4 and the level 4 are written as numbers). */
export const PROTOCOL = "MQTT";

/** The fixed-header flag bits the spec requires for every type but PUBLISH. */
export function typeFlags(t: number): number {
  return t === PUBREL || t === SUBSCRIBE || t === UNSUBSCRIBE ? 2 : 0;
}

/** What to put in a CONNECT. A null username/password/willTopic is left out. */
export class ConnectOptions {
  clientId = "";
  cleanSession = true;
  /** Seconds, 0..65535 (0 turns keep-alive off). */
  keepAlive = 60;
  username: string | null = null;
  /** Binary; needs a username in MQTT 3.1.1. */
  password: string | null = null;
  willTopic: string | null = null;
  /** Binary. */
  willMessage = "";
  willQos = 0;
  willRetain = false;
}

/**
 * One decoded packet, reused for every packet a PacketReader decodes.
 * Offsets index the reader's RX buffer, which holds the packet body (everything
 * after the fixed header) from offset 0. A length of -1 means "absent".
 * Read only the fields of `type`: a field the type does not carry keeps what an
 * earlier packet left (the decoder of the usual packets sets no more than it must).
 */
export class Packet {
  /** Packet type 1..14 (also set when the packet was rejected). */
  type = 0;
  /** Low nibble of the fixed header. */
  flags = 0;
  /** Total size on the wire: fixed header + remaining length. */
  length = 0;
  /** Packet identifier, 0 when the type has none. */
  id = 0;
  /** PUBLISH QoS/retain/dup; CONNECT will QoS/retain. */
  qos = 0;
  retain = false;
  dup = false;
  /** PUBLISH topic; CONNECT will topic. */
  topicOff = 0;
  topicLen = -1;
  /** PUBLISH payload (the rest of the packet); CONNECT will message. */
  payloadOff = 0;
  payloadLen = -1;
  /** CONNACK. */
  sessionPresent = false;
  returnCode = 0;
  /** SUBSCRIBE/UNSUBSCRIBE filters or SUBACK codes: how many, and where the first starts. */
  count = 0;
  listOff = 0;
  /** Set by PacketReader.filterAt. */
  itemLen = 0;
  itemQos = 0;
  /** CONNECT. */
  cleanSession = false;
  keepAlive = 0;
  clientIdOff = 0;
  clientIdLen = -1;
  usernameOff = 0;
  usernameLen = -1;
  passwordOff = 0;
  passwordLen = -1;
}
