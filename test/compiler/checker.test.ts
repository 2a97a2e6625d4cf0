/**
 * The subset checker: one failing example per banned construct, each with the
 * file:line:col and the reason a firmware author would read.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { build, BuildError, checkFirmware, REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { formatDiagnostic } from "../../host-tools/compiler/checker.ts";

/** A throwaway firmware tree holding the intrinsics and one source file. */
function firmwareWith(source: string, extra: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-chk-"));
  fs.mkdirSync(path.join(root, "hal"));
  fs.mkdirSync(path.join(root, "mqtt"));
  fs.copyFileSync(path.join(REPO_ROOT, "firmware/hal/intrinsics.d.ts"), path.join(root, "hal/intrinsics.d.ts"));
  fs.writeFileSync(path.join(root, "mqtt/bad.ts"), source);
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(root, name), text);
  return root;
}

function problems(source: string): string[] {
  const root = firmwareWith(source);
  try {
    return checkFirmware(root).map((d) => formatDiagnostic(d, root));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

// [construct, source, expected line:col, expected words in the reason]
const CASES: [string, string, string, RegExp][] = [
  ["object destructuring", "const o = { a: 1 };\nconst { a } = o;\nexport const x = a;", "2:7", /destructuring is not available on Espruino/],
  ["array destructuring", "const o = [1, 2];\nconst [p] = o;\nexport const x = p;", "2:7", /destructuring/],
  ["destructuring assignment", "let a = 0;\nlet b = 0;\n[a, b] = [b, a];\nexport const x = a + b;", "3:1", /destructuring/],
  ["spread", "const o = [1];\nexport const x = [...o];", "2:19", /spread \(\.\.\.\) is not available/],
  ["rest parameter", "export function f(...xs: number[]): number { return xs.length; }", "1:19", /rest parameters/],
  ["default parameter", "export function f(a: number = 1): number { return a; }", "1:19", /default parameters/],
  ["computed key", 'const k = "a";\nexport const o = { [k]: 1 };', "2:20", /computed property keys/],
  ["optional chaining", "const o: { a?: { b: number } } = {};\nexport const x = o.a?.b;", "2:18", /optional chaining/],
  ["nullish coalescing", "const o: number | undefined = undefined;\nexport const x = o ?? 2;", "2:20", /\?\? is not available/],
  ["exponent", "export const x = 2 ** 3;", "1:20", /\*\* is not available on Espruino/],
  ["async", "export async function f(): Promise<number> { return 1; }", "1:1", /async\/await/],
  ["generator", "export function* g(): Generator<number> { yield 1; }", "1:1", /generators/],
  ["label", "export function f(): void {\n  outer: for (let i = 0; i < 2; i++) { break outer; }\n}", "2:3", /labels are not available/],
  ["Map", "export const m = new Map<string, number>();", "1:22", /Map is not available on Espruino/],
  ["Set", "export const s = new Set<number>();", "1:22", /Set is not available on Espruino/],
  ["Symbol", 'export const s = Symbol("x");', "1:18", /Symbol is not available/],
  ["Array.from", "export const a = Array.from([1]);", "1:18", /Array.from is not available/],
  ["array slice", "const a = [1, 2, 3];\nexport const b = a.slice(1);", "2:18", /slice is not reachable/],
  ["nested function declaration", "export function f(): number {\n  function g(): number { return 1; }\n  return g();\n}", "2:3", /not hoisted on Espruino/],
  ["right shift", "export const x = 8 >> 1;", "1:20", /use shr\(x, n\)/],
  ["unsigned right shift", "export const x = 8 >>> 1;", "1:20", />>> breaks on 32-bit-integer Lua/],
  ["Uint8Array", "export const b = new Uint8Array(4);", "1:22", /use the byte intrinsics/],
  ["DataView", "export function f(b: ArrayBuffer): DataView { return new DataView(b); }", "1:22", /ArrayBuffer is not in the subset/],
  ["JSON", "export const s = JSON.stringify(1);", "1:18", /JSON is not available on Lua/],
  ["regex", "export const ok = /a+/.test('aa');", "1:19", /regular expressions/],
  ["var", "export var x = 1;", "1:8", /var is not in the subset/],
  ["loose equality", "const a: number = 1;\nexport const x = a == 1;", "2:20", /use === or !==/],
  ["number as condition", "export function f(n: number): number {\n  if (n) { return 1; }\n  return 0;\n}", "2:7", /condition must be a boolean.*Lua treats 0/],
  ["string in &&", 'export function f(s: string): boolean { return s && true; }', "1:48", /operand of && must be a boolean/],
  ["negated number", "export function f(n: number): boolean { return !n; }", "1:49", /operand of ! must be a boolean/],
  ["npm import", 'import mqtt from "mqtt";\nexport const x = mqtt;', "1:18", /cannot import 'mqtt': Node and npm modules/],
  ["node import", 'import fs from "node:fs";\nexport const x = fs;', "1:16", /cannot import 'node:fs'/],
];

for (const [name, source, where, reason] of CASES) {
  test(`checker rejects ${name}`, () => {
    const found = problems(source);
    const hit = found.find((p) => p.startsWith(`mqtt/bad.ts:${where}:`) && reason.test(p));
    assert.ok(hit, `expected mqtt/bad.ts:${where}: ${reason}\ngot:\n${found.join("\n")}`);
  });
}

test("checker accepts the subset: classes, arrows, let/const, for-of, template literals, intrinsics", () => {
  const found = problems(`
export class Counter {
  n: number = 0;
  buf: Bytes;
  constructor(size: number) { this.buf = bytesNew(size); }
  add(xs: number[]): string {
    const twice = (v: number): number => shl(v, 1);
    for (const x of xs) { this.n += twice(x); }
    if (this.n !== 0 && bytesLen(this.buf) > 0) { byteSet(this.buf, 0, shr(this.n, 1) & 0xff); }
    return \`n=\${this.n}\`;
  }
}`);
  assert.deepEqual(found, []);
});

test("checker rejects imports that leave firmware/", () => {
  const root = firmwareWith('import { x } from "../../outside";\nexport const y = x;');
  try {
    const found = checkFirmware(root).map((d) => formatDiagnostic(d, root));
    assert.ok(found.some((p) => /mqtt\/bad.ts:1:19: firmware cannot import '..\/..\/outside': it is outside firmware\//.test(p)), found.join("\n"));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("build refuses to emit anything when the checker finds a problem", async () => {
  const root = firmwareWith("export const m = new Map<string, number>();");
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-out-"));
  try {
    await assert.rejects(
      build({ firmwareRoot: root, outDir: out, entries: [{ name: "bad", file: "mqtt/bad.ts", targets: ["espruino", "lua"] }] }),
      (e: unknown) => e instanceof BuildError && /mqtt\/bad.ts:1:22: Map is not available on Espruino/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(out), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  }
});
