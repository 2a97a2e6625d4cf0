/**
 * The Espruino backend's two block savers (issue 11): `private` members get short
 * mangled names, and module-level number/boolean constants are inlined across
 * modules (each variable left costs RAM and a lookup by name on Espruino). The
 * bundle must still compute the same results, and the Lua bundle is not touched.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import ts from "typescript";
import { build, REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { espruinoConstantsTransformer } from "../../host-tools/compiler/intrinsics.ts";
import { createEspruinoSandbox } from "../../host-tools/emulator/sandbox.ts";
import { skipUnless } from "../helpers/system-deps.ts";

const LIMITS = `
export const STEP_LIMIT = 7;
export const BELOW_ZERO = -3;
export const COUNTS_TWICE = true;
export const GREETING = "hello";
export const KIND_TOPIC = 1;
export const KIND_FILTER = 2;
/** Used in its own module too and passed as an argument, as topic.ts's KIND_* are. */
export function kindBonus(kind: number): number {
  return kind === KIND_TOPIC ? 0 : kind === KIND_FILTER ? 1 : 5;
}
`;
const COUNTER = `
import { BELOW_ZERO, COUNTS_TWICE, GREETING, KIND_FILTER, KIND_TOPIC, kindBonus } from "./limits";
import * as L from "./limits";
export * from "./limits";
export class Counter {
  visibleTotal = 0;
  private hiddenCount = BELOW_ZERO;
  private advanceOnce(by: number): number {
    this.hiddenCount = this.hiddenCount + (COUNTS_TWICE ? by * 2 : by);
    return this.hiddenCount;
  }
  step(by: number): string {
    let n = 0;
    while (n < L.STEP_LIMIT + kindBonus(KIND_TOPIC)) {
      this.visibleTotal = this.advanceOnce(by);
      n++;
    }
    return GREETING + " " + (this.visibleTotal + kindBonus(KIND_FILTER) - 1);
  }
}
export function newCounter(): Counter {
  return new Counter();
}
`;

let root = "";
let out = "";
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-names-"));
  out = path.join(root, "dist");
  fs.mkdirSync(path.join(root, "fw/hal"), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, "firmware/hal/intrinsics.d.ts"), path.join(root, "fw/hal/intrinsics.d.ts"));
  fs.writeFileSync(path.join(root, "fw/limits.ts"), LIMITS);
  fs.writeFileSync(path.join(root, "fw/counter.ts"), COUNTER);
  await build({ firmwareRoot: path.join(root, "fw"), outDir: out, entries: [{ name: "counter", file: "counter.ts", targets: ["espruino", "lua"] }] });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

// -3 + 7 steps of 2*5: 67.
const EXPECTED = "hello 67";

test("Espruino bundle: private member names are mangled, public ones kept", () => {
  const js = fs.readFileSync(path.join(out, "espruino/counter.js"), "utf8");
  assert.doesNotMatch(js, /hiddenCount|advanceOnce/);
  assert.match(js, /visibleTotal/);
  assert.match(js, /\.step\b|step\(/);
});

test("the constants transformer puts each number/boolean constant's value where it is read, across modules and through import * as", () => {
  // On the TypeScript emit itself (before esbuild, which inlines some such constants
  // on its own but not all: in the firmware it kept topic.ts's KIND_* as variables).
  const fw = path.join(root, "fw");
  const files = [path.join(fw, "limits.ts"), path.join(fw, "counter.ts"), path.join(fw, "hal/intrinsics.d.ts")];
  const program = ts.createProgram(files, { target: ts.ScriptTarget.ES2015, module: ts.ModuleKind.ESNext, strict: true, types: [], lib: ["lib.es2015.d.ts"], useDefineForClassFields: false });
  let emitted = "";
  program.emit(program.getSourceFile(files[1]), (_name, text) => (emitted = text), undefined, false, { before: [espruinoConstantsTransformer(program)] });
  assert.match(emitted, /hiddenCount = \(?-3\)?;/);
  assert.match(emitted, /n < 7 \+ kindBonus\(1\)/);
  assert.match(emitted, /kindBonus\(2\)/);
  assert.match(emitted, /by \* 2/, "the boolean constant is inlined (true ? by * 2 : by)");
  assert.match(emitted, /GREETING \+/, "strings stay named");
  assert.doesNotMatch(emitted.slice(emitted.indexOf("export class")), /STEP_LIMIT|BELOW_ZERO|KIND_TOPIC|KIND_FILTER|COUNTS_TWICE/);
});

test("Espruino bundle computes the same result in the sandbox", () => {
  const sb = createEspruinoSandbox();
  sb.run(fs.readFileSync(path.join(out, "espruino/counter.js"), "utf8"));
  assert.equal(sb.run("new wisp.Counter().step(5)"), EXPECTED);
});

test("Lua bundle (not renamed) computes the same result in lua5.3", { skip: skipUnless("lua5.3") }, () => {
  const lua = path.join(out, "lua/counter.lua").replace(/\\/g, "/");
  const r = spawnSync("lua5.3", ["-e", `local w = dofile("${lua}") print(w.newCounter():step(5))`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), EXPECTED);
  assert.match(fs.readFileSync(path.join(out, "lua/counter.lua"), "utf8"), /hiddenCount/);
});
