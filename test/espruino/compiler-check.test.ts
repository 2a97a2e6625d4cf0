/**
 * The build's check on the real interpreter (host-tools/compiler/espruino-check.ts):
 * every statement of every function body is parsed by Espruino itself without being
 * run, so a construct 2v29 cannot parse fails the build instead of the board.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkArtifact, parseProbes } from "../../host-tools/compiler/espruino-check.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

const skip = skipUnlessEspruino();

test("probes cover statements inside functions only, blocks emptied, brace-less loop bodies on their own", () => {
  const code = 'var wisp=function(){var a=1;function f(t){for(;;)if(t)return;g(function(){x=2})}return{f:f}}();';
  const probes = parseProbes(code).map((p) => p.code);
  assert.deepEqual(probes, [
    "function(){if(0)for(;;)if(t)return;}",
    "function(){if(0)if(t)return;}",
    "function(){if(0)return;}",
    "function(){if(0)g(function(){})}",
    "function(){if(0)x=2}",
  ]);
});

test("a bundle with the parser gap, or with syntax 2v29 lacks, fails the check with the statement named", { skip }, async () => {
  // Loads cleanly: each problem is inside a function body that nothing calls at load.
  const gap = 'var wisp=function(){function f(t){for(let r=0;r<4;)if(r++,r===t)return}return{f:f}}();';
  const spread = 'var wisp=function(){function g(t){let a=1;return[...t,a]}return{g:g}}();';
  const r1 = await checkArtifact("gap", gap);
  assert.equal(r1.problems.length > 0, true, "the gap was not found");
  assert.match(r1.problems[0], /Unexpected end of Input in `if\(r\+\+,r===t\)return`/);
  const r2 = await checkArtifact("spread", spread);
  assert.equal(r2.problems.length, 1, r2.problems.join("\n"));
  assert.match(r2.problems[0], /SyntaxError.*return\[\.\.\.t,a\]/);
});

test("a clean bundle passes, and a throw at load time is reported", { skip }, async () => {
  const ok = 'var wisp=function(){function f(t){for(let r=0;r<4;)if(r++,r===t)return;}class C{m(){return 1}}return{f:f,C:C}}();';
  const r = await checkArtifact("ok", ok);
  assert.deepEqual(r.problems, []);
  assert.ok(r.blocks > 0, "a loaded bundle holds blocks");
  const bad = await checkArtifact("throws", 'var wisp=function(){nosuch.x=1}();');
  assert.match(bad.problems.join("\n"), /loading from Storage.*nosuch|ReferenceError/);
});
