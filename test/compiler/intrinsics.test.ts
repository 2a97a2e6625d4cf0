/**
 * The byte intrinsics are lowered natively by each backend, and both artifacts
 * compute the same bytes: an Espruino bundle in the sandbox, a Lua bundle in lua5.3.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { build, REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { createEspruinoSandbox } from "../../host-tools/emulator/sandbox.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { spawnSync } from "node:child_process";

const SOURCE = `
/** Exercises every intrinsic; returns a byte string so both VMs can be compared. */
export function exercise(s: string): string {
  const b = bytesNew(16);
  strToBytes(s, b, 2);
  byteSet(b, 0, strLen(s));
  byteSet(b, 1, bytesLen(b));
  bytesCopy(b, 8, b, 2, 4);
  bytesCopy(b, 3, b, 2, 4);
  byteSet(b, 12, shr(0x1234, 8));
  byteSet(b, 13, shl(0x12, 3) & 0xff);
  byteSet(b, 14, strByte(s, 1));
  byteSet(b, 15, byteAt(b, 12) | 0x80);
  return bytesToStr(b, 0, 16);
}

/** The byte-string copies in a module with an E of its own (Espruino's E must still be reached). */
let E = 0;
export function copies(s: string): string {
  const b = bytesNew(12);
  strToBytes(s, b, 1);
  strCopy(s, 1, 3, b, 8);
  E = bytesLen(b);
  return bytesToStr(b, 0, E) + bytesToStr(b, 2, 3) + bytesToStr(b, 5, 0);
}

/** The string tests: plain, ASCII, and the index of a substring from an offset. */
export function classify(s: string, from: number): string {
  return (strPlain(s) ? "P" : "p") + (strAscii(s) ? "A" : "a") + strFind(s, "/", from);
}
`;

let root = "";
let out = "";
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-intr-"));
  out = path.join(root, "dist");
  fs.mkdirSync(path.join(root, "fw/hal"), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, "firmware/hal/intrinsics.d.ts"), path.join(root, "fw/hal/intrinsics.d.ts"));
  fs.writeFileSync(path.join(root, "fw/probe.ts"), SOURCE);
  await build({ firmwareRoot: path.join(root, "fw"), outDir: out, entries: [{ name: "probe", file: "probe.ts", targets: ["espruino", "lua"] }] });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** What the intrinsics mean, computed independently with a Node Buffer. */
function expected(s: string): string {
  const b = Buffer.alloc(16);
  Buffer.from(s, "latin1").copy(b, 2);
  b[0] = s.length;
  b[1] = 16;
  b.copy(b, 8, 2, 6);
  b.copy(b, 3, 2, 6);
  b[12] = 0x12;
  b[13] = (0x12 << 3) & 0xff;
  b[14] = s.charCodeAt(1);
  b[15] = b[12] | 0x80;
  return b.toString("latin1");
}

test("Espruino backend lowers byte access to Uint8Array indexing, with no call per byte", () => {
  const js = fs.readFileSync(path.join(out, "espruino/probe.js"), "utf8");
  for (const name of ["bytesNew", "byteAt", "byteSet", "strLen", "strByte", "shr", "shl", "bytesLen"]) {
    assert.ok(!new RegExp(`\\b${name}\\(`).test(js), `${name}( left in the bundle`);
  }
  assert.match(js, /new Uint8Array\(16\)/);
  assert.match(js, /charCodeAt\(1\)/);
});

test("Espruino bundle computes the intrinsics' meaning in the sandbox", () => {
  const sb = createEspruinoSandbox();
  sb.run(fs.readFileSync(path.join(out, "espruino/probe.js"), "utf8"));
  const input = "ab\xffz\x00q";
  assert.equal(sb.run(`wisp.exercise(${JSON.stringify(input)})`), expected(input));
});

/** What copies() means, computed with a Node Buffer. */
function expectedCopies(s: string): string {
  const b = Buffer.alloc(12);
  Buffer.from(s, "latin1").copy(b, 1);
  Buffer.from(s, "latin1").copy(b, 8, 1, 4);
  return b.toString("latin1") + b.toString("latin1", 2, 5);
}

test("the byte-string copies take the V8 loops in the sandbox and the natives on the real interpreter, with the same bytes", { skip: skipUnlessEspruino() }, async () => {
  const js = fs.readFileSync(path.join(out, "espruino/probe.js"), "utf8");
  // lowered in place behind the runtime's engine probe, not as a call per copy
  assert.match(js, /\.set\(/);
  assert.match(js, /\.toString\([^)]*\)\.substr\(/);
  const input = "ab\xffz\x00q";
  const sb = createEspruinoSandbox();
  sb.run(js);
  assert.equal(sb.run(`wisp.copies(${JSON.stringify(input)})`), expectedCopies(input));
  assert.equal(sb.run(`wisp.exercise(${JSON.stringify(input)})`), expected(input));
  const it = await Interpreter.start();
  try {
    await it.writeFileFromHost("probe.js", js);
    await it.eval('eval(require("Storage").read("probe.js"))');
    const hexOf = (expr: string) => it.eval<string>(`(function(s){var h="";for(var i=0;i<s.length;i++)h+=(256+s.charCodeAt(i)).toString(16).substr(1);return h;})(${expr})`);
    assert.equal(await hexOf(`wisp.copies(${JSON.stringify(input)})`), Buffer.from(expectedCopies(input), "latin1").toString("hex"));
    assert.equal(await hexOf(`wisp.exercise(${JSON.stringify(input)})`), Buffer.from(expected(input), "latin1").toString("hex"));
  } finally {
    await it.stop();
  }
});

/** [input, from, what classify must return] */
const CLASSIFY: [string, number, string][] = [
  ["a/b/c", 0, "PA1"],
  ["a/b/c", 2, "PA3"],
  ["a/b/c", 4, "PA-1"],
  ["a/b/c", 5, "PA-1"],
  ["", 0, "PA-1"],
  ["a/+/c", 0, "pA1"],
  ["#", 0, "pA-1"],
  ["a\x00b", 0, "pa-1"],
  ["caf\xc3\xa9/x", 0, "pa5"],
  ["\x7f/", 0, "PA1"],
];

test("strPlain, strAscii and strFind mean the same in both bundles", { skip: skipUnless("lua5.3") }, () => {
  const sb = createEspruinoSandbox();
  sb.run(fs.readFileSync(path.join(out, "espruino/probe.js"), "utf8"));
  const js = fs.readFileSync(path.join(out, "espruino/probe.js"), "utf8");
  assert.ok(!/\bstrPlain\(|\bstrAscii\(|\bstrFind\(/.test(js), "string intrinsics left in the Espruino bundle");
  for (const [input, from, want] of CLASSIFY) {
    assert.equal(sb.run(`wisp.classify(${JSON.stringify(input)}, ${from})`), want, `Espruino bundle, ${JSON.stringify(input)} from ${from}`);
    const script = `local m = dofile(${JSON.stringify(path.join(out, "lua/probe.lua"))})\nio.write(m.classify(io.read("a"), ${from}))`;
    const r = spawnSync("lua5.3", ["-e", script], { input: Buffer.from(input, "latin1") });
    assert.equal(r.status, 0, String(r.stderr));
    assert.equal(r.stdout.toString("latin1"), want, `Lua bundle, ${JSON.stringify(input)} from ${from}`);
  }
});

test("Lua bundle computes the same bytes in a real Lua 5.3 VM", { skip: skipUnless("lua5.3") }, () => {
  const lua = fs.readFileSync(path.join(out, "lua/probe.lua"), "utf8");
  assert.ok(!/\bbyteAt\b|\bbyteSet\b/.test(lua), "intrinsic names left in the Lua bundle");
  const input = "ab\xffz\x00q";
  const script = `local m = dofile(${JSON.stringify(path.join(out, "lua/probe.lua"))})\nio.write(m.exercise(io.read("a")))`;
  const r = spawnSync("lua5.3", ["-e", script], { input: Buffer.from(input, "latin1") });
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(r.stdout.toString("latin1"), expected(input));
});
