/**
 * Load the compiled artifacts (dist/), the very files that get flashed, so tests
 * exercise what runs on the board rather than the TypeScript source.
 * `npm test` builds first; a missing artifact is a clear error, not a skip.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { createEspruinoSandbox, type EspruinoSandbox } from "../../host-tools/emulator/sandbox.ts";

export const DIST = path.join(REPO_ROOT, "dist");

export function artifactPath(target: "espruino" | "lua", name: string): string {
  const file = path.join(DIST, target, `${name}.${target === "lua" ? "lua" : "js"}`);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(REPO_ROOT, file)} is missing: run \`npm run build\` first`);
  return file;
}

/** Evaluate dist/espruino/<name>.js in a fresh Espruino-shaped sandbox; returns its `wisp` exports. */
export function loadEspruinoBundle<T = any>(name: string, globals: Record<string, unknown> = {}): { exports: T; sandbox: EspruinoSandbox } {
  const file = artifactPath("espruino", name);
  const sandbox = createEspruinoSandbox(globals);
  sandbox.run(fs.readFileSync(file, "utf8"), file);
  const exports = sandbox.run("wisp") as T;
  return { exports, sandbox };
}

/** The codec bundle's exports, in the sandbox. */
export function loadEspruinoCodec<T = any>(): { exports: T; sandbox: EspruinoSandbox } {
  return loadEspruinoBundle<T>("codec");
}

export const LUA = "lua5.3";

/**
 * Run a Lua script in a real Lua 5.3 VM with the repository root as working
 * directory (so `dofile("dist/lua/codec.lua")` works). Throws with stderr on failure.
 */
export function runLua(script: string): string {
  const r = spawnSync(LUA, ["-"], { cwd: REPO_ROOT, input: script + "\n", encoding: "latin1", maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`lua5.3 exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Run a Lua script file with data on standard input. */
export function runLuaFile(scriptFile: string, stdin = ""): string {
  const r = spawnSync(LUA, [scriptFile], { cwd: REPO_ROOT, input: stdin, encoding: "latin1", maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`lua5.3 ${scriptFile} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
