/**
 * Byte intrinsics: the only way firmware touches bytes.
 *
 * These are declared, never implemented in TypeScript. Each backend lowers every
 * call at compile time (host-tools/compiler/intrinsics.ts):
 *   - Espruino: a Uint8Array index or a plain operator, so the hot path pays no call;
 *   - Lua 5.3:  a 0-based table index (no +1 shift), `#s`, `string.byte`, `<<`/`>>`.
 * Why: typescript-to-lua mistranslates Uint8Array and rejects `>>` on Lua 5.3, and an
 * Espruino `number[]` costs one variable slot per element.
 *
 * Firmware strings are byte strings: every char code is 0..255 (as Espruino's
 * E.toString and Lua strings are). UTF-8 text travels as its bytes.
 * Integers stay within 31 bits.
 */

/** A fixed-size byte buffer, allocated once at boot. Opaque outside intrinsics. */
interface Bytes {
  readonly __wispBytes: never;
}

/** Allocate a zeroed buffer of `size` bytes. Boot time only: never on the hot path. */
declare function bytesNew(size: number): Bytes;
/** Capacity of a buffer in bytes. */
declare function bytesLen(b: Bytes): number;
/** Byte at 0-based index `i` (0..255). The caller has checked the bound. */
declare function byteAt(b: Bytes, i: number): number;
/** Store byte `v` (0..255) at 0-based index `i`. The caller has checked the bound. Statement only. */
declare function byteSet(b: Bytes, i: number, v: number): void;
/** Copy `len` bytes from src[srcOff..] to dst[dstOff..] (ranges may overlap; the copy is memmove-safe). */
declare function bytesCopy(dst: Bytes, dstOff: number, src: Bytes, srcOff: number, len: number): void;
/** Length of a byte string in bytes. */
declare function strLen(s: string): number;
/** Byte at 0-based index `i` of a byte string. */
declare function strByte(s: string, i: number): number;
/** Copy all bytes of byte string `s` into dst at dstOff. The caller has checked the room. */
declare function strToBytes(s: string, dst: Bytes, dstOff: number): void;
/** Copy `n` bytes of byte string `s` from `sOff` into dst at dstOff. The caller has checked both ranges. */
declare function strCopy(s: string, sOff: number, n: number, dst: Bytes, dstOff: number): void;
/** A byte string made of b[off .. off+len). Allocates a string (not a buffer). */
declare function bytesToStr(b: Bytes, off: number, len: number): string;
/**
 * Whether every byte of byte string `s` is 0x01..0x7F and none is `+` or `#`: such a
 * string is a valid MQTT string, topic and filter without a byte-by-byte check.
 * One native call on both backends (a regular expression on Espruino, a pattern on Lua).
 */
declare function strPlain(s: string): boolean;
/**
 * Whether every byte of byte string `s` is 0x01..0x7F: ASCII without NUL, so valid
 * UTF-8 without U+0000. One native call on both backends.
 */
declare function strAscii(s: string): boolean;
/** 0-based index of the first occurrence of `sub` in `s` at or after `from`, or -1. One native call. */
declare function strFind(s: string, sub: string, from: number): number;
/** Logical right shift of a non-negative 31-bit integer. */
declare function shr(x: number, n: number): number;
/** Left shift; the result must stay within 31 bits. */
declare function shl(x: number, n: number): number;
