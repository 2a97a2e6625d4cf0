// Runtime helpers for intrinsics that need more than an operator (see ../intrinsics.ts).
// esbuild injects one only where the firmware uses it.
//
// On Espruino the byte copies are natives: its Uint8Array.set takes a string's char
// codes, and E.toString of a Uint8Array gives its bytes as a string, each in one call
// where a loop costs tens of microseconds per byte. V8 (the emulator) reads a string
// in set() as NaNs, so which one runs is probed once, at load (__wisp_E); the
// loops stay for V8, where they are fast, and allocate no buffer.
// The byte-string copies (strToBytes, strCopy, bytesToStr) are lowered in place as
// `__wisp_E ? <native> : <helper>(...)` (../intrinsics.ts): on Espruino a call
// costs its scope, its parameters and the reading of the callee's text from flash,
// more than the test. The natives: Uint8Array.set of a string, and E.toString of a
// whole Uint8Array, which hands back its backing string itself when that is a flat
// string (any buffer of more than a few bytes allocated at boot; no copy, one block:
// measured on 2v29), of which substr copies the slice out. E.toString of a subarray
// view would instead build a new flat string byte by byte (0.08 ms for 93 bytes
// against 0.02 ms on the desktop build). substr of a length <= 0 gives "".
// __wisp_E is Espruino's E where the natives apply, else null. The bundles reach E
// through it: a firmware module may have a variable of its own named E.
// (pure: a bundle that uses no helper drops it)
export var __wisp_E = /* @__PURE__ */ (function () {
  var u = new Uint8Array(1);
  u.set("a");
  return u[0] === 97 && typeof E !== "undefined" ? E : null;
})();
// memmove-safe without asking whether d and s are the same buffer: Espruino's ===
// on two Uint8Arrays compares their contents (about 6 ms for 2 KB on a desktop).
export function __wisp_copy(d, doff, s, soff, n) {
  if (doff > soff) {
    for (var i = n - 1; i >= 0; i--) d[doff + i] = s[soff + i];
  } else {
    for (var j = 0; j < n; j++) d[doff + j] = s[soff + j];
  }
}
// The loops V8 takes for the byte-string copies (see above); they allocate no buffer.
export function __wisp_s2b(str, d, off) {
  for (var i = 0; i < str.length; i++) d[off + i] = str.charCodeAt(i);
}
export function __wisp_s2bn(s, soff, n, d, doff) {
  for (var i = 0; i < n; i++) d[doff + i] = s.charCodeAt(soff + i);
}
export function __wisp_b2s(b, off, n) {
  for (var s = "", i = 0; i < n; i++) s += String.fromCharCode(b[off + i]);
  return s;
}
// Any byte outside 0x01..0x7F, or '+' or '#'. One object, made at load.
export var __wisp_unplain = /[^\x01-\x22\x24-\x2a\x2c-\x7f]/;
export function __wisp_plain(s) {
  return !__wisp_unplain.test(s);
}
// Any byte outside 0x01..0x7F (NUL or part of a multi-byte UTF-8 sequence).
export var __wisp_unascii = /[^\x01-\x7f]/;
export function __wisp_ascii(s) {
  return !__wisp_unascii.test(s);
}
