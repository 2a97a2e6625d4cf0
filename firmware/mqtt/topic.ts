/**
 * MQTT string rules and topic filters, shared by the encoders, the decoder and
 * local dispatch. Everything works in place (a byte string or a Bytes range) and
 * allocates nothing.
 */
import {
  ERR_FILTER,
  ERR_NULL_CHAR,
  ERR_STRING_TOO_LONG,
  ERR_TOPIC_EMPTY,
  ERR_TOPIC_WILDCARD,
  ERR_UTF8,
} from "./errors";

/** checkStr kinds. */
export const KIND_BINARY = -1; // length only (will message, password)
export const KIND_STRING = 0; // UTF-8 string: well-formed, no U+0000
export const KIND_TOPIC = 1; // topic name: a non-empty string without + or #
export const KIND_FILTER = 2; // topic filter: a non-empty string with well-formed + and #

/** Byte i of a byte string or a buffer. */
function at(src: string | Bytes, i: number): number {
  return typeof src === "string" ? strByte(src, i) : byteAt(src, i);
}

/**
 * Check `len` bytes of `src` from `off` against the rules of `kind`.
 * Returns 0, or the error code of the first rule broken.
 */
export function checkStr(src: string | Bytes, off: number, len: number, kind: number): number {
  if (len > 65535) return ERR_STRING_TOO_LONG;
  if (kind < 0) return 0;
  if (len === 0 && kind !== KIND_STRING) return ERR_TOPIC_EMPTY;
  // The usual string in one native call (a byte loop costs ~20 us a byte on Espruino);
  // an ASCII filter with wildcards in a few more (a call per wildcard).
  if (typeof src === "string" && off === 0 && len === strLen(src)) {
    if (strPlain(src)) return 0;
    if (kind === KIND_FILTER && strAscii(src)) return checkWildcards(src, len);
  }
  return checkBytes(src, off, len, kind);
}

/** checkStr byte by byte (apart: Espruino lexes a called function's whole text). */
function checkBytes(src: string | Bytes, off: number, len: number, kind: number): number {
  const end = off + len;
  let i = off;
  while (i < end) {
    const c = at(src, i);
    i++;
    if (c < 0x80) {
      if (c === 0) return ERR_NULL_CHAR;
      if (c === 0x2b || c === 0x23) {
        // '+' or '#': a whole level; '#' only as the last one
        if (kind === KIND_TOPIC) return ERR_TOPIC_WILDCARD;
        if (kind === KIND_FILTER) {
          if (i - 1 > off && at(src, i - 2) !== 0x2f) return ERR_FILTER;
          if (i < end && (c === 0x23 || at(src, i) !== 0x2f)) return ERR_FILTER;
        }
      }
      continue;
    }
    // a multi-byte sequence: lead byte C2..F4, then n continuation bytes
    let n = 3;
    let cp = c & 7;
    if (c < 0xc2 || c > 0xf4) return ERR_UTF8;
    if (c < 0xe0) {
      n = 1;
      cp = c & 31;
    } else if (c < 0xf0) {
      n = 2;
      cp = c & 15;
    }
    if (i + n > end) return ERR_UTF8;
    const first = n;
    while (n > 0) {
      const d = at(src, i);
      if ((d & 0xc0) !== 0x80) return ERR_UTF8;
      cp = shl(cp, 6) | (d & 63);
      i++;
      n--;
    }
    // overlong forms, surrogates, beyond U+10FFFF
    if ((first === 2 && cp < 0x800) || (first === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
      return ERR_UTF8;
    }
  }
  return 0;
}

/** ERR_FILTER unless every `+` and `#` of the n-byte filter s is a whole level and `#` the last. */
function checkWildcards(s: string, n: number): number {
  let i = strFind(s, "+", 0);
  while (i >= 0) {
    if ((i > 0 && strByte(s, i - 1) !== 0x2f) || (i + 1 < n && strByte(s, i + 1) !== 0x2f)) return ERR_FILTER;
    i = strFind(s, "+", i + 1);
  }
  i = strFind(s, "#", 0);
  return i >= 0 && (i + 1 < n || (i > 0 && strByte(s, i - 1) !== 0x2f)) ? ERR_FILTER : 0;
}

/** 0 if `s` is a valid topic name (for PUBLISH), else the error code. */
export function checkTopic(s: string): number {
  return checkStr(s, 0, strLen(s), KIND_TOPIC);
}

/** 0 if `s` is a valid topic filter (for SUBSCRIBE), else the error code. */
export function checkFilter(s: string): number {
  return checkStr(s, 0, strLen(s), KIND_FILTER);
}

/**
 * Whether topic name `t` matches the (valid) filter `f`: `+` matches one level,
 * `#` the rest including the parent (`a/#` matches `a`); a filter starting with a
 * wildcard does not match a topic starting with `$`.
 */
export function topicMatches(f: string, t: string): boolean {
  const fl = strLen(f);
  const tl = strLen(t);
  if (fl === 0 || tl === 0) return false;
  const f0 = strByte(f, 0);
  if (strByte(t, 0) === 0x24 && (f0 === 0x2b || f0 === 0x23)) return false;
  let i = 0;
  let j = 0;
  while (i < fl) {
    const c = strByte(f, i);
    if (c === 0x23) return true;
    if (c === 0x2b) {
      while (j < tl && strByte(t, j) !== 0x2f) j++;
    } else if (j < tl && strByte(t, j) === c) {
      j++;
    } else {
      // "x/#" also matches the parent "x"
      return j === tl && c === 0x2f && i + 2 === fl && strByte(f, i + 1) === 0x23;
    }
    i++;
  }
  return j === tl;
}
