/**
 * The flasher and the emulator share host-tools/device/ and import nothing of each
 * other: following every relative import (transitively) from each flasher module
 * never reaches host-tools/emulator/, and the other way round; device/ reaches
 * neither.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FLASHER = path.join(REPO, "host-tools/flasher");
const EMULATOR = path.join(REPO, "host-tools/emulator") + path.sep;
const DEVICE = path.join(REPO, "host-tools/device");

/** Relative import specifiers of a module: static, re-exports and dynamic import(). */
function relativeImports(file: string): string[] {
  const src = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) out.push(m[1]);
  return out;
}

/** Every module reachable from `start`, with the import chain that reached it. */
function reachable(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of relativeImports(file)) {
      const dep = path.resolve(path.dirname(file), spec);
      if (!seen.has(dep) && fs.existsSync(dep)) {
        seen.set(dep, [...seen.get(file)!, dep]);
        queue.push(dep);
      }
    }
  }
  return seen;
}

test("no module under host-tools/flasher/ imports host-tools/emulator/, directly or through another module", () => {
  const modules = fs.readdirSync(FLASHER).filter((f) => f.endsWith(".ts"));
  assert.ok(modules.includes("cli-flash.ts"));
  for (const m of modules) {
    for (const [dep, chain] of reachable(path.join(FLASHER, m))) {
      assert.ok(!dep.startsWith(EMULATOR), `${m} reaches ${path.relative(REPO, dep)} via ${chain.map((c) => path.relative(REPO, c)).join(" -> ")}`);
    }
  }
});

test("host-tools/device/ and the emulator do not reach the flasher; device/ does not reach the emulator", () => {
  const flasher = FLASHER + path.sep;
  for (const dir of [DEVICE, EMULATOR]) {
    for (const m of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      for (const [dep, chain] of reachable(path.join(dir, m))) {
        const bad = dep.startsWith(flasher) || (dir === DEVICE && dep.startsWith(EMULATOR));
        assert.ok(!bad, `${path.relative(REPO, chain[0])} reaches ${path.relative(REPO, dep)} via ${chain.map((c) => path.relative(REPO, c)).join(" -> ")}`);
      }
    }
  }
});

test("the checker sees imports (it would catch the old flasher -> emulator import)", () => {
  assert.deepEqual(relativeImports(path.join(FLASHER, "cli-flash.ts")).filter((s) => s.startsWith("../device/")).sort(), [
    "../device/app-modules.ts",
    "../device/board.ts",
    "../device/config.ts",
    "../device/settings.ts",
    "../device/tls-warning.ts",
  ]);
});
