/** base64 (RFC 4648) on fixed buffers: the Sec-WebSocket-Key and -Accept of RFC 6455. */

function b64char(v: number): number {
  if (v < 26) return 65 + v;
  if (v < 52) return 97 + v - 26;
  if (v < 62) return 48 + v - 52;
  return v === 62 ? 43 : 47;
}

/** base64 of src[0..len) into dst at 0; returns the length written. */
export function base64(src: Bytes, len: number, dst: Bytes): number {
  let o = 0;
  for (let i = 0; i < len; i += 3) {
    const a = byteAt(src, i);
    const b = i + 1 < len ? byteAt(src, i + 1) : 0;
    const c = i + 2 < len ? byteAt(src, i + 2) : 0;
    byteSet(dst, o, b64char(shr(a, 2)));
    byteSet(dst, o + 1, b64char((shl(a & 3, 4) | shr(b, 4)) & 63));
    byteSet(dst, o + 2, i + 1 < len ? b64char((shl(b & 15, 2) | shr(c, 6)) & 63) : 61);
    byteSet(dst, o + 3, i + 2 < len ? b64char(c & 63) : 61);
    o += 4;
  }
  return o;
}
