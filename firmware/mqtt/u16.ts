/**
 * The one 16-bit big-endian read and write on byte buffers, for the MQTT codec
 * (lengths, packet ids), the WebSocket framing (lengths, close codes) and SHA-1.
 * The decoder's cursor reads (reader.ts u16/field) keep their bytes inline: they run
 * for every packet and a call costs tens of microseconds on Espruino.
 */

/** The big-endian 16-bit value at b[o..o+2). */
export function get16(b: Bytes, o: number): number {
  return shl(byteAt(b, o), 8) | byteAt(b, o + 1);
}

/** Write v (0..65535) big-endian at b[o..o+2); returns o + 2. */
export function put16(b: Bytes, o: number, v: number): number {
  byteSet(b, o, shr(v, 8) & 255);
  byteSet(b, o + 1, v & 255);
  return o + 2;
}
