// Runtime helpers for intrinsics that need more than an operator (see ../intrinsics.ts).
// esbuild injects one only where the firmware uses it.
//
// On Espruino the byte copies are natives: its Uint8Array.set takes a string's char
// codes, and E.toString flattens a Uint8Array view into a string, each in one call
// where a loop costs tens of microseconds per byte. V8 (the emulator) reads a string
// in set() as NaNs, so the natives are chosen by probing that once, at load; the
// loops stay for V8, where they are fast, and allocate no buffer.
// (pure: a bundle that uses no helper drops it)
var __wisp_native = /* @__PURE__ */ (function () {
  var u = new Uint8Array(1);
  u.set("a");
  return u[0] === 97 && typeof E !== "undefined";
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
// Each helper is picked once, at load, for the engine (no test per call: on
// Espruino every executed token costs, about 0.4 us per character of a called
// function's text on the desktop build). The helpers stay short for that reason.
// Bytes to string: E.toString of a whole Uint8Array hands back its backing string
// itself (no copy, measured on 2v29: one block, and it shows later writes), and
// substr copies the slice out. E.toString of a subarray view instead builds the
// string byte by byte: 0.08 ms for 93 bytes against 0.02 ms (0.17 against 0.03 for
// 1 KiB). substr of a length <= 0 gives "".
export var __wisp_s2b = /* @__PURE__ */ (function () {
  return __wisp_native
    ? function (str, d, off) { d.set(str, off); }
    : function (str, d, off) { for (var i = 0; i < str.length; i++) d[off + i] = str.charCodeAt(i); };
})();
export var __wisp_s2bn = /* @__PURE__ */ (function () {
  return __wisp_native
    ? function (s, soff, n, d, doff) { d.set(s.substr(soff, n), doff); }
    : function (s, soff, n, d, doff) { for (var i = 0; i < n; i++) d[doff + i] = s.charCodeAt(soff + i); };
})();
export var __wisp_b2s = /* @__PURE__ */ (function () {
  return __wisp_native
    ? function (b, off, n) { return E.toString(b).substr(off, n); }
    : function (b, off, n) { for (var s = "", i = 0; i < n; i++) s += String.fromCharCode(b[off + i]); return s; };
})();
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
