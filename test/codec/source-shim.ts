/// <reference path="../../firmware/hal/intrinsics.d.ts" />
/**
 * The byte intrinsics (firmware/hal/intrinsics.d.ts) for running the codec's
 * TypeScript source under Node, with every bound and value checked: an index
 * outside a buffer or a string, a byte outside 0..255, or a shift leaving 31 bits
 * throws a RangeError. Property tests use it to prove the codec never reads or
 * writes outside its buffers (the Espruino sandbox's Uint8Array would hide that).
 */
const g = globalThis as any;

function fail(what: string): never {
  throw new RangeError(`intrinsic bound violated: ${what}`);
}
const isInt = (x: number) => Number.isInteger(x);
function idx(b: Uint8Array, i: number, what: string): void {
  if (!(b instanceof Uint8Array)) fail(`${what}: not a Bytes buffer`);
  if (!isInt(i) || i < 0 || i >= b.length) fail(`${what}(${i}) outside 0..${b.length - 1}`);
}
function range(len: number, off: number, n: number, what: string): void {
  if (!isInt(off) || !isInt(n) || off < 0 || n < 0 || off + n > len) fail(`${what}: ${off}+${n} outside ${len}`);
}

g.bytesNew = (n: number) => {
  if (!isInt(n) || n < 0) fail(`bytesNew(${n})`);
  return new Uint8Array(n);
};
g.bytesLen = (b: Uint8Array) => b.length;
g.byteAt = (b: Uint8Array, i: number) => {
  idx(b, i, "byteAt");
  return b[i];
};
g.byteSet = (b: Uint8Array, i: number, v: number) => {
  idx(b, i, "byteSet");
  if (!isInt(v) || v < 0 || v > 255) fail(`byteSet value ${v}`);
  b[i] = v;
};
g.bytesCopy = (d: Uint8Array, doff: number, s: Uint8Array, soff: number, n: number) => {
  range(d.length, doff, n, "bytesCopy dst");
  range(s.length, soff, n, "bytesCopy src");
  d.set(s.subarray(soff, soff + n), doff);
};
g.strLen = (s: string) => s.length;
g.strByte = (s: string, i: number) => {
  if (typeof s !== "string") fail("strByte: not a string");
  if (!isInt(i) || i < 0 || i >= s.length) fail(`strByte(${i}) outside 0..${s.length - 1}`);
  const c = s.charCodeAt(i);
  if (c > 255) fail(`strByte: char ${c} is not a byte`);
  return c;
};
g.strToBytes = (s: string, d: Uint8Array, off: number) => {
  range(d.length, off, s.length, "strToBytes");
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) fail(`strToBytes: char ${c} is not a byte`);
    d[off + i] = c;
  }
};
g.bytesToStr = (b: Uint8Array, off: number, n: number) => {
  range(b.length, off, n, "bytesToStr");
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[off + i]);
  return s;
};
g.strCopy = (s: string, soff: number, n: number, d: Uint8Array, doff: number) => {
  range(s.length, soff, n, "strCopy source");
  range(d.length, doff, n, "strCopy");
  for (let i = 0; i < n; i++) d[doff + i] = s.charCodeAt(soff + i);
};
g.strPlain = (s: string) => !/[^\x01-\x22\x24-\x2a\x2c-\x7f]/.test(s);
g.strAscii = (s: string) => !/[^\x01-\x7f]/.test(s);
g.strFind = (s: string, sub: string, from: number) => {
  if (!isInt(from) || from < 0 || from > s.length) fail(`strFind from ${from} outside 0..${s.length}`);
  return s.indexOf(sub, from);
};
g.shr = (x: number, n: number) => {
  if (!isInt(x) || x < 0 || x > 0x7fffffff) fail(`shr(${x}) not a non-negative 31-bit integer`);
  return x >>> n;
};
g.shl = (x: number, n: number) => {
  const r = x * 2 ** n;
  if (!isInt(x) || x < 0 || r > 0x7fffffff) fail(`shl(${x}, ${n}) leaves 31 bits`);
  return r;
};

/** The codec compiled from source, on the guarded intrinsics. */
export async function loadSourceCodec(): Promise<any> {
  return await import("../../firmware/mqtt/codec.ts");
}
