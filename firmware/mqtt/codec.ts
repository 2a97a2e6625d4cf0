/**
 * The codec entry module: the public MQTT 3.1.1 packet codec API.
 * Built to dist/espruino/codec.js (global `wisp`) and dist/lua/codec.lua.
 */
export * from "./errors";
export {
  CONNECT,
  CONNACK,
  PUBLISH,
  PUBACK,
  PUBREC,
  PUBREL,
  PUBCOMP,
  SUBSCRIBE,
  SUBACK,
  UNSUBSCRIBE,
  UNSUBACK,
  PINGREQ,
  PINGRESP,
  DISCONNECT,
  ConnectOptions,
  Packet,
} from "./packet";
export {
  encodeConnect,
  encodeConnack,
  encodePublish,
  encodeAck,
  encodeEmpty,
  encodeSubscribe,
  encodeUnsubscribe,
  encodeSuback,
  setDup,
} from "./encode";
export { PacketReader } from "./reader";
export { checkTopic, checkFilter, topicMatches } from "./topic";
import { ConnectOptions } from "./packet";
import { PacketReader } from "./reader";

/** A new reader with an RX buffer of `capacity` bytes (boot time). */
export function newReader(capacity: number): PacketReader {
  return new PacketReader(capacity);
}

/** New CONNECT options with the defaults (clean session, keep-alive 60 s). */
export function newConnectOptions(): ConnectOptions {
  return new ConnectOptions();
}

/** A new buffer of `size` bytes, e.g. the TX buffer (boot time). */
export function newBuffer(size: number): Bytes {
  return bytesNew(size);
}

/** b[off .. off+len) as a byte string (len >= 0). */
export function bufStr(b: Bytes, off: number, len: number): string {
  return bytesToStr(b, off, len);
}
