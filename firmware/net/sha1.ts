/** SHA-1 (FIPS 180-4) in the subset: the Sec-WebSocket-Accept check of RFC 6455. */

// SHA-1 on 32-bit words kept as two 16-bit halves, so that every intermediate stays
// within 31 bits on both targets (Lua VMs with 32-bit integers included).

import { get16, put16 } from "../mqtt/u16";

/** High half of the 32-bit word (hi, lo) rotated left by n (1..15). */
function rotHi(hi: number, lo: number, n: number): number {
  return (shl(hi, n) | shr(lo, 16 - n)) & 65535;
}

/** Low half of the 32-bit word (hi, lo) rotated left by n (1..15). */
function rotLo(hi: number, lo: number, n: number): number {
  return (shl(lo, n) | shr(hi, 16 - n)) & 65535;
}

/**
 * SHA-1 of msg[0..len) (len at most 119: msg must hold 128 bytes, the padding is
 * written into it) into out[0..20); `w` (64 bytes) is the message schedule.
 */
export function sha1(msg: Bytes, len: number, w: Bytes, out: Bytes): void {
  const blocks = len + 9 <= 64 ? 1 : 2;
  const end = blocks * 64;
  byteSet(msg, len, 128);
  for (let i = len + 1; i < end; i++) byteSet(msg, i, 0);
  put16(msg, end - 4, shr(len * 8, 16) & 65535);
  put16(msg, end - 2, (len * 8) & 65535);
  put16(out, 0, 0x6745);
  put16(out, 2, 0x2301);
  put16(out, 4, 0xefcd);
  put16(out, 6, 0xab89);
  put16(out, 8, 0x98ba);
  put16(out, 10, 0xdcfe);
  put16(out, 12, 0x1032);
  put16(out, 14, 0x5476);
  put16(out, 16, 0xc3d2);
  put16(out, 18, 0xe1f0);
  for (let blk = 0; blk < blocks; blk++) {
    for (let i = 0; i < 64; i++) byteSet(w, i, byteAt(msg, blk * 64 + i));
    let aH = get16(out, 0);
    let aL = get16(out, 2);
    let bH = get16(out, 4);
    let bL = get16(out, 6);
    let cH = get16(out, 8);
    let cL = get16(out, 10);
    let dH = get16(out, 12);
    let dL = get16(out, 14);
    let eH = get16(out, 16);
    let eL = get16(out, 18);
    for (let t = 0; t < 80; t++) {
      const wo = (t & 15) * 4;
      if (t >= 16) {
        const o3 = ((t - 3) & 15) * 4;
        const o8 = ((t - 8) & 15) * 4;
        const o14 = ((t - 14) & 15) * 4;
        const xH = get16(w, o3) ^ get16(w, o8) ^ get16(w, o14) ^ get16(w, wo);
        const xL = get16(w, o3 + 2) ^ get16(w, o8 + 2) ^ get16(w, o14 + 2) ^ get16(w, wo + 2);
        put16(w, wo, rotHi(xH, xL, 1));
        put16(w, wo + 2, rotLo(xH, xL, 1));
      }
      let fH = 0;
      let fL = 0;
      let kH = 0;
      let kL = 0;
      if (t < 20) {
        fH = (bH & cH) | ((bH ^ 65535) & dH);
        fL = (bL & cL) | ((bL ^ 65535) & dL);
        kH = 0x5a82;
        kL = 0x7999;
      } else if (t < 40) {
        fH = bH ^ cH ^ dH;
        fL = bL ^ cL ^ dL;
        kH = 0x6ed9;
        kL = 0xeba1;
      } else if (t < 60) {
        fH = (bH & cH) | (bH & dH) | (cH & dH);
        fL = (bL & cL) | (bL & dL) | (cL & dL);
        kH = 0x8f1b;
        kL = 0xbcdc;
      } else {
        fH = bH ^ cH ^ dH;
        fL = bL ^ cL ^ dL;
        kH = 0xca62;
        kL = 0xc1d6;
      }
      const sL = rotLo(aH, aL, 5) + fL + eL + kL + get16(w, wo + 2);
      const sH = (rotHi(aH, aL, 5) + fH + eH + kH + get16(w, wo) + shr(sL, 16)) & 65535;
      eH = dH;
      eL = dL;
      dH = cH;
      dL = cL;
      // rotate left 30 = swap the halves, then rotate left 14
      cH = rotHi(bL, bH, 14);
      cL = rotLo(bL, bH, 14);
      bH = aH;
      bL = aL;
      aH = sH;
      aL = sL & 65535;
    }
    addWord(out, 0, aH, aL);
    addWord(out, 4, bH, bL);
    addWord(out, 8, cH, cL);
    addWord(out, 12, dH, dL);
    addWord(out, 16, eH, eL);
  }
}

/** out[o..o+4) += (hi, lo), modulo 2^32. */
function addWord(out: Bytes, o: number, hi: number, lo: number): void {
  const l = get16(out, o + 2) + lo;
  put16(out, o + 2, l & 65535);
  put16(out, o, (get16(out, o) + hi + shr(l, 16)) & 65535);
}

/** @internal SHA-1 of a byte string of at most 119 bytes, as 40 hex digits (tests). */
export function sha1Hex(s: string): string {
  const m = bytesNew(128);
  const w = bytesNew(64);
  const out = bytesNew(20);
  strToBytes(s, m, 0);
  sha1(m, strLen(s), w, out);
  let r = "";
  for (let i = 0; i < 20; i++) {
    const v = byteAt(out, i);
    r += String.fromCharCode(v < 160 ? 48 + shr(v, 4) : 87 + shr(v, 4), (v & 15) < 10 ? 48 + (v & 15) : 87 + (v & 15));
  }
  return r;
}
