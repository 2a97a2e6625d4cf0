// Runtime helpers for intrinsics that need a loop (see ../intrinsics.ts). esbuild
// injects one only where the firmware uses it. Plain loops: a subarray() view would
// allocate a buffer object on every call, which the firmware promises not to do.
export function __wisp_copy(d, doff, s, soff, n) {
  if (d === s && doff > soff) {
    for (var i = n - 1; i >= 0; i--) d[doff + i] = s[soff + i];
  } else {
    for (var j = 0; j < n; j++) d[doff + j] = s[soff + j];
  }
}
export function __wisp_s2b(str, d, off) {
  for (var i = 0; i < str.length; i++) d[off + i] = str.charCodeAt(i);
}
export function __wisp_b2s(b, off, n) {
  var s = "";
  for (var i = 0; i < n; i++) s += String.fromCharCode(b[off + i]);
  return s;
}
