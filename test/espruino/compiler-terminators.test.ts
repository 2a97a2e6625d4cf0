/**
 * Espruino 2v29's parser gap (issue 9): a bare `return` that ends a brace-less
 * `if`/loop body right before the `}` closing the function throws
 * `SyntaxError: Unexpected end of Input` on the first call. The Espruino backend
 * must never emit it: firmware shaped like the code that hit it (a loop ending in
 * `if (...) return;`) is compiled by the backend and run on the real interpreter,
 * from Storage as on a board, and must behave as the same artifact does on V8.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { after, before, test } from "node:test";
import { build, REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { missingTerminators, terminateJumps } from "../../host-tools/compiler/espruino-terminators.ts";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

const skip = skipUnlessEspruino();

/** Each export ends a loop body with `if (...) return;`; esbuild minifies that to `...)return}`. */
const SOURCE = `let log = "";

export function reset(): string {
  const s = log;
  log = "";
  return s;
}

/** \`for(;;)if(...)return}\`: the shape found in linkData. */
export function forIfReturn(n: number): void {
  for (let i = 0; i < 4; ) {
    i++;
    log += "f" + i;
    if (i === n) return;
  }
}

/** \`for(;;)return}\`-like: \`while(...)if(...)return}\`. */
export function whileIfReturn(n: number): void {
  let i = 0;
  while (i < 4) {
    i++;
    log += "w" + i;
    if (i >= n) return;
  }
}

/** \`if(...)if(...)return}\` inside a loop. */
export function nestedIfReturn(n: number): void {
  for (let i = 0; i < 4; i++) {
    log += "n" + i;
    if (i > 0) {
      if (i === n) return;
    }
  }
}

/** A bare return in a closure's loop, inside a function. */
export function closureReturn(n: number): number {
  const f = (k: number): void => {
    for (let i = 0; i < k; i++) {
      log += "k" + i;
      if (i === n) return;
    }
  };
  f(2);
  f(3);
  return n;
}
`;

const CALLS: Array<[string, number]> = [];
for (const fn of ["forIfReturn", "whileIfReturn", "nestedIfReturn", "closureReturn"]) {
  for (const n of [0, 1, 2, 5]) CALLS.push([fn, n]);
}

/** Minified shapes probed on 2v29; each threw SyntaxError when called, before the pass. */
const FAILING_SHAPES = [
  "function f(t){if(t)return}",
  "function f(t){for(var r=0;r<2;)if(r++,t)return}",
  "function f(t){while(t)return}",
  "function f(t){for(;;)return}",
  "function f(t){if(t)if(t)return}",
  "function f(t){if(t)return;else return}",
  "function f(t){if(t){}else return}",
  "function f(t){if(t)return 1;else return}",
  "var f=function(t){if(t)return}",
  "var f=t=>{if(t)return}",
];

let root = "";
let artifact = "";
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-term-"));
  fs.mkdirSync(path.join(root, "fw/hal"), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, "firmware/hal/intrinsics.d.ts"), path.join(root, "fw/hal/intrinsics.d.ts"));
  fs.writeFileSync(path.join(root, "fw/probe.ts"), SOURCE);
  await build({
    firmwareRoot: path.join(root, "fw"),
    outDir: path.join(root, "dist"),
    entries: [{ name: "probe", file: "probe.ts", targets: ["espruino"] }],
  });
  artifact = fs.readFileSync(path.join(root, "dist/espruino/probe.js"), "utf8");
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Run the calls on V8 against the same artifact: the expected transcript. */
function onV8(code: string): string[] {
  const ctx = vm.createContext({});
  vm.runInContext(code, ctx);
  const wisp = vm.runInContext("wisp", ctx) as Record<string, (n: number) => unknown>;
  return CALLS.map(([fn, n]) => `${fn}(${n})=${String(wisp[fn](n))}:${String(wisp.reset(0))}`);
}

test("the Espruino artifact has no bare return/break/continue without its ;", () => {
  assert.match(artifact, /return;\}/, "the fixture no longer produces the shape; the test would prove nothing");
  assert.deepEqual(missingTerminators(artifact), []);
});

test("the pass adds only the ; after jump statements, never inside strings or regexes, and is idempotent", () => {
  const code = 'var s="if(t)return}",r=/return}/;function f(t){for(;;)if(t)return}function g(t){for(;;){if(t)break}}';
  assert.equal(
    terminateJumps(code),
    'var s="if(t)return}",r=/return}/;function f(t){for(;;)if(t)return;}function g(t){for(;;){if(t)break;}}',
  );
  assert.equal(terminateJumps(terminateJumps(code)), terminateJumps(code));
});

test("the compiled shapes run from Storage on the real interpreter as on V8", { skip }, async () => {
  const it = await Interpreter.start();
  try {
    await it.writeFileFromHost("probe.js", artifact);
    await it.eval('eval(require("Storage").read("probe.js"))');
    const got: string[] = [];
    for (const [fn, n] of CALLS) {
      got.push(await it.eval<string>(`"${fn}(${n})="+wisp.${fn}(${n})+":"+wisp.reset()`));
    }
    assert.deepEqual(got, onV8(artifact));
    assert.deepEqual(it.uncaught(), []);
  } finally {
    await it.stop();
  }
});

test("each probed shape throws on the interpreter as esbuild writes it, and runs once the pass has run", { skip }, async () => {
  const it = await Interpreter.start();
  const run = (code: string) =>
    it.eval<string>(`(function(){try{eval(${JSON.stringify(code)});f(1);f(0);return "ok"}catch(e){return String(e)}})()`);
  try {
    for (const shape of FAILING_SHAPES) {
      assert.match(await run(shape), /SyntaxError/, `2v29 now parses ${shape}: the gap may be closed`);
      assert.equal(await run(terminateJumps(shape)), "ok", terminateJumps(shape));
    }
    assert.deepEqual(it.uncaught(), []);
  } finally {
    await it.stop();
  }
});
