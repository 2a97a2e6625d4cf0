/**
 * `wisp build`: firmware/*.ts -> subset checker -> backend -> artifact.
 *
 *   dist/espruino/<entry>.js   one minified IIFE per entry (global `wisp` = the entry's exports)
 *   dist/lua/<entry>.lua       one typescript-to-lua bundle per entry (returns the entry's exports)
 *
 * The checker runs first over every firmware file; nothing is emitted when it or
 * the TypeScript type checker reports a problem.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";
import ts from "typescript";
import * as tstl from "typescript-to-lua";
import { checkSubset, formatDiagnostic, type SubsetDiagnostic } from "./checker.ts";
import { findEspruino, ESPRUINO_MISSING } from "../espruino/interpreter.ts";
import { checkArtifact } from "./espruino-check.ts";
import { terminateJumps } from "./espruino-terminators.ts";
import { espruinoConstantsTransformer, espruinoIntrinsicsTransformer, espruinoPrivateNamesTransformer, luaIntrinsicsPlugin, PRIVATE_PROPS } from "./intrinsics.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "../..");

export type Target = "espruino" | "lua";

export interface Entry {
  /** Artifact name: dist/<target>/<name>.js|.lua */
  name: string;
  /** Entry file, relative to the firmware root. */
  file: string;
  targets: Target[];
  /**
   * Espruino: built as a Storage module (`module.exports=...`) that the app loads with
   * `require(<Storage name>)` only when it needs it (host-tools/device/app-modules.ts),
   * instead of a bundle setting the global `wisp`.
   */
  module?: boolean;
}

/** What the firmware ships. An entry whose file does not exist yet is skipped with a note. */
export const DEFAULT_ENTRIES: Entry[] = [
  { name: "codec", file: "mqtt/codec.ts", targets: ["espruino", "lua"] },
  { name: "app", file: "app/main.ts", targets: ["espruino"] },
  { name: "client", file: "mqtt/client.ts", targets: ["espruino", "lua"] },
  { name: "power", file: "power/policy.ts", targets: ["espruino", "lua"] },
  { name: "wsclient", file: "net/wsclient.ts", targets: ["espruino", "lua"] },
  // the WebSocket transport (and SHA-1, base64) for app.js, loaded only for ws:// and wss://
  { name: "wsnet", file: "net/websocket.ts", targets: ["espruino"], module: true },
];

export interface BuildOptions {
  firmwareRoot?: string;
  outDir?: string;
  entries?: Entry[];
  targets?: Target[];
  log?: (line: string) => void;
  /**
   * Load each Espruino artifact on the real interpreter and parse every function
   * body (espruino-check.ts) when the interpreter is found; skipped with a note
   * otherwise. `wisp build` turns it on.
   */
  checkOnInterpreter?: boolean;
}

export interface Artifact {
  entry: string;
  target: Target;
  file: string;
  bytes: number;
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly diagnostics: SubsetDiagnostic[] = [],
  ) {
    super(message);
    this.name = "BuildError";
  }
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/** The compiler options every firmware program uses (no DOM, no Node, ES2015 library). */
function firmwareOptions(firmwareRoot: string): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2015,
    lib: ["lib.es2015.d.ts"],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    types: [],
    useDefineForClassFields: false,
    rootDir: firmwareRoot,
    skipLibCheck: true,
  };
}

function tsDiagnostics(program: ts.Program): SubsetDiagnostic[] {
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return { file: "(tsc)", line: 0, col: 0, message: msg };
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return { file: d.file.fileName, line: line + 1, col: character + 1, message: msg };
  });
}

/** Type-check and subset-check every firmware file. Returns the problems found (empty = clean). */
export function checkFirmware(firmwareRoot: string): SubsetDiagnostic[] {
  const files = listTs(firmwareRoot);
  const program = ts.createProgram(files, { ...firmwareOptions(firmwareRoot), noEmit: true });
  const typeErrors = tsDiagnostics(program);
  const subset = checkSubset(
    program,
    files.filter((f) => !f.endsWith(".d.ts")),
    firmwareRoot,
  );
  return [...subset, ...typeErrors];
}

async function buildEspruino(firmwareRoot: string, entry: Entry, outDir: string): Promise<Artifact> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-esp-"));
  try {
    const files = listTs(firmwareRoot);
    const program = ts.createProgram(files, { ...firmwareOptions(firmwareRoot), outDir: tmp, noEmit: false });
    const res = program.emit(undefined, undefined, undefined, false, { before: [espruinoIntrinsicsTransformer(program), espruinoPrivateNamesTransformer(program), espruinoConstantsTransformer(program)] });
    if (res.emitSkipped) throw new BuildError(`espruino: TypeScript emit failed for ${entry.file}`);
    const result = await esbuild.build({
      entryPoints: [path.join(tmp, entry.file.replace(/\.ts$/, ".js"))],
      bundle: true,
      // ESM output, then wrapped by hand: esbuild's IIFE export object uses getters and a
      // CommonJS interop helper (~300 bytes) that a board has no use for.
      format: "esm",
      target: "es2015",
      minify: true,
      mangleProps: PRIVATE_PROPS,
      legalComments: "none",
      inject: [path.join(HERE, "runtime/espruino.js")],
      write: false,
      logLevel: "silent",
    });
    // Espruino misparses `if(t)return}`: put back the `;` the minifier dropped.
    const code = terminateJumps(wrapEsmAsGlobal(result.outputFiles[0].text, entry.module ? "module.exports" : "var wisp"));
    const file = path.join(outDir, "espruino", `${entry.name}.js`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, code);
    return { entry: entry.name, target: "espruino", file, bytes: Buffer.byteLength(code) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Turn esbuild's minified ESM bundle into one statement for Espruino:
 * `var wisp=function(){...;return{Name:local,...}}();` (no exports: just run the code).
 */
export function wrapEsmAsGlobal(esm: string, target = "var wisp"): string {
  const m = /export\s*\{([^}]*)\};?\s*$/.exec(esm);
  let body = esm.trim();
  let ret = "";
  if (m) {
    body = esm.slice(0, m.index).trim();
    const fields = m[1]
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((s) => {
        const [local, exported] = s.split(/\s+as\s+/);
        return `${exported ?? local}:${local}`;
      });
    ret = `return{${fields.join(",")}}`;
  }
  if (body.length > 0 && !body.endsWith(";")) body += ";";
  return `${target}=function(){${body}${ret}}();\n`;
}

/** The Lua runtime helpers, keyed by name (see runtime/lua.lua). */
function luaHelpers(): Map<string, string> {
  const src = fs.readFileSync(path.join(HERE, "runtime/lua.lua"), "utf8");
  const map = new Map<string, string>();
  for (const block of src.split(/^--@helper /m).slice(1)) {
    const nl = block.indexOf("\n");
    map.set(block.slice(0, nl).trim(), block.slice(nl + 1).trimEnd() + "\n");
  }
  return map;
}

/** Drop indentation, blank lines and comment lines: typescript-to-lua's output has no long strings whose layout matters. */
function compactLua(code: string): string {
  return code
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("--"))
    .join("\n") + "\n";
}

function buildLua(firmwareRoot: string, entry: Entry, outDir: string): Artifact {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-lua-"));
  try {
    const entryFile = path.join(firmwareRoot, entry.file);
    const options: tstl.CompilerOptions = {
      ...firmwareOptions(firmwareRoot),
      outDir: tmp,
      noEmit: false,
      luaTarget: tstl.LuaTarget.Lua53,
      luaLibImport: tstl.LuaLibImportKind.RequireMinimal,
      luaBundle: `${entry.name}.lua`,
      luaBundleEntry: entryFile,
      noImplicitSelf: true,
      noHeader: true,
      sourceMap: false,
    };
    const program = ts.createProgram([entryFile, path.join(firmwareRoot, "hal/intrinsics.d.ts")], options);
    let code: string | undefined;
    const { diagnostics } = new tstl.Transpiler().emit({
      program,
      plugins: [luaIntrinsicsPlugin()],
      writeFile: (name, text) => {
        if (name.endsWith(`${entry.name}.lua`)) code = text;
      },
    });
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0 || code === undefined) {
      const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
      throw new BuildError(`lua: typescript-to-lua failed for ${entry.file}\n${text}`);
    }
    let prelude = "";
    for (const [name, body] of luaHelpers()) {
      if (code.includes(name)) prelude += body;
    }
    const out = compactLua(prelude + code);
    const file = path.join(outDir, "lua", `${entry.name}.lua`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, out);
    return { entry: entry.name, target: "lua", file, bytes: Buffer.byteLength(out) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function checkOnInterpreter(artifacts: Artifact[], log: (line: string) => void): Promise<void> {
  if (artifacts.length === 0) return;
  if (!findEspruino()) {
    log(`skip the check on the real interpreter: ${ESPRUINO_MISSING}`);
    return;
  }
  const problems: string[] = [];
  for (const a of artifacts) {
    const code = fs.readFileSync(a.file, "latin1");
    // The Linux build's console now and then garbles a line under load (its stdin
    // thread races the main loop: docs/espruino.md), which can fail one run of the
    // check; a fault in the artifact fails every run. So a failed check is run once
    // more on a fresh interpreter, and only what fails twice is reported.
    const once = () => checkArtifact(a.entry, code).catch((e: Error) => ({ blocks: 0, probes: 0, problems: [`the check did not finish: ${e.message.split("\n")[0]}`] }));
    let r = await once();
    if (r.problems.length > 0) {
      log(`check of ${path.relative(process.cwd(), a.file)} on Espruino failed once (${r.problems[0]}); running it again`);
      r = await once();
    }
    const where = path.relative(process.cwd(), a.file);
    if (r.problems.length === 0) log(`checked ${where} on Espruino: loads from Storage (${r.blocks} blocks held), ${r.probes} statements parse`);
    for (const p of r.problems) problems.push(`${where}: ${p}`);
  }
  if (problems.length > 0) throw new BuildError(`${problems.length} problem(s) on the real interpreter:\n${problems.join("\n")}`);
}

/** Check, then build every entry for every requested target. Throws BuildError with all problems. */
export async function build(opts: BuildOptions = {}): Promise<Artifact[]> {
  const firmwareRoot = path.resolve(opts.firmwareRoot ?? path.join(REPO_ROOT, "firmware"));
  const outDir = path.resolve(opts.outDir ?? path.join(REPO_ROOT, "dist"));
  const log = opts.log ?? (() => {});
  const problems = checkFirmware(firmwareRoot);
  if (problems.length > 0) {
    const lines = problems.map((d) => formatDiagnostic(d));
    throw new BuildError(`${problems.length} problem(s) in firmware:\n${lines.join("\n")}`, problems);
  }
  const artifacts: Artifact[] = [];
  for (const entry of opts.entries ?? DEFAULT_ENTRIES) {
    if (!fs.existsSync(path.join(firmwareRoot, entry.file))) {
      log(`skip ${entry.name}: ${entry.file} does not exist yet`);
      continue;
    }
    for (const target of entry.targets) {
      if (opts.targets && !opts.targets.includes(target)) continue;
      const a = target === "espruino" ? await buildEspruino(firmwareRoot, entry, outDir) : buildLua(firmwareRoot, entry, outDir);
      log(`built ${path.relative(process.cwd(), a.file)}  ${a.bytes} bytes`);
      artifacts.push(a);
    }
  }
  if (opts.checkOnInterpreter) await checkOnInterpreter(artifacts.filter((a) => a.target === "espruino"), log);
  return artifacts;
}
