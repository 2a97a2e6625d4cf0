/**
 * The build's check of each Espruino artifact on the real interpreter (issue 9).
 *
 * Espruino parses a function's body only when the function is first called, so a
 * bundle that loads cleanly can still throw `SyntaxError` later, on whatever path
 * first calls the function. Two steps:
 *
 *  1. Load: the bundle is written to Storage and run from there, as on a board
 *     (function code stays in flash); no `Uncaught` line may appear, and the blocks
 *     it holds (`process.memory().usage` after minus before) are reported.
 *  2. Parse every statement of every function body without running it. When a
 *     condition is false, Espruino still parses a brace-less statement token by token
 *     (`if(0)x=)` throws; a `{...}` block, though, is only brace-matched). So each
 *     statement S in each body becomes a probe `function(){if(0)S'}` where S' is S
 *     with its nested blocks and function bodies emptied to `{}` (their statements
 *     get probes of their own). A statement that ends a function body is probed at
 *     the end of the probe's body, as it sits in the bundle; any other is followed
 *     by `;`, which Espruino treats as it treats the `}` of an enclosing block.
 *     A skipped loop does not parse its body, so a brace-less loop body (and each
 *     brace-less `if` branch) gets a probe of its own too.
 *     The probes run from Storage; each throw is reported with the statement.
 *
 * What it cannot see (docs/compiler.md): errors that only the executing parser
 * raises (it evaluates, so it reaches names and calls), errors that depend on the
 * values a path takes, and statements outside any function (those ran in step 1).
 */
import ts from "typescript";
import { Interpreter } from "../espruino/interpreter.ts";

export interface Probe {
  /** The probe function's source (one line). */
  code: string;
  /** Offset of the statement in the bundle. */
  at: number;
  /** The statement as it is in the bundle (shortened). */
  statement: string;
}

function isFunctionBody(block: ts.Node): boolean {
  const p = block.parent;
  return p !== undefined && (ts.isFunctionLike(p) && (p as ts.FunctionLikeDeclaration).body === block);
}

/** `text` of `node` with every outermost nested block (and so every nested function body) emptied to `{}`. */
function hollow(code: string, node: ts.Node): string {
  const cuts: Array<[number, number]> = [];
  const visit = (n: ts.Node): void => {
    if (n !== node && ts.isBlock(n)) {
      cuts.push([n.getStart(), n.end]);
      return;
    }
    // Espruino's skipping parser rejects class bodies (`if(0)x=class{m(){}}` throws
    // although the class runs): empty them too; each method body gets its own probes.
    if (ts.isClassLike(n)) {
      cuts.push([n.members.pos - 1, n.end]); // members.pos is just after the `{`
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  let out = "";
  let last = node.getStart();
  for (const [s, e] of cuts) {
    out += code.slice(last, s) + "{}";
    last = e;
  }
  return out + code.slice(last, node.end);
}

/** One probe per statement inside a function body (at any depth), in bundle order. */
export function parseProbes(code: string): Probe[] {
  const sf = ts.createSourceFile("bundle.js", code, ts.ScriptTarget.ES2015, true, ts.ScriptKind.JS);
  const probes: Probe[] = [];
  // Functions whose own statements already ran when the bundle loaded: the bundle's
  // `var wisp=function(){...}()` or `module.exports=function(){...}()` wrapper (the load step is their check).
  const ranAtLoad = (n: ts.Node): boolean =>
    n.parent !== undefined && ts.isCallExpression(n.parent) && n.parent.expression === n &&
    ((ts.isVariableDeclaration(n.parent.parent) && n.parent.parent.parent.parent.parent === sf) ||
      (ts.isBinaryExpression(n.parent.parent) && n.parent.parent.parent.parent === sf));
  let depth = 0; // functions whose statements did not run at load, around the current node
  const probe = (s: ts.Statement, last: boolean): void => {
    if (ts.isBlock(s) || ts.isEmptyStatement(s)) return;
    const text = hollow(code, s);
    probes.push({
      code: `function(){if(0)${text}${last || text.endsWith(";") ? "" : ";"}}`.replace(/[\r\n\u2028\u2029]/g, " "),
      at: s.getStart(),
      statement: text.length > 80 ? text.slice(0, 77) + "..." : text,
    });
    // A skipped `for(;c;)` or `while(c)` does not parse its brace-less body at all:
    // probe that body (and the branches of an `if`) on its own, in the same place.
    if (ts.isIterationStatement(s, false)) probe(s.statement, last);
    else if (ts.isIfStatement(s)) {
      probe(s.thenStatement, last && s.elseStatement === undefined);
      if (s.elseStatement) probe(s.elseStatement, last);
    }
  };
  const probeList = (stmts: ts.NodeArray<ts.Statement>, endsBody: boolean): void => {
    stmts.forEach((s, i) => probe(s, endsBody && i === stmts.length - 1));
  };
  const visit = (n: ts.Node): void => {
    const fn = ts.isFunctionLike(n) && !ranAtLoad(n);
    if (fn) depth++;
    if (depth > 0) {
      if (ts.isBlock(n)) probeList(n.statements, isFunctionBody(n));
      else if (ts.isCaseClause(n) || ts.isDefaultClause(n)) probeList(n.statements, false);
    }
    ts.forEachChild(n, visit);
    if (fn) depth--;
  };
  visit(sf);
  return probes;
}

export interface ArtifactCheck {
  name: string;
  /** Blocks the loaded bundle holds (process.memory().usage after minus before). */
  blocks: number;
  probes: number;
  /** Human-readable problems; empty when the artifact passed. */
  problems: string[];
}

/** Load `code` from Storage on a fresh interpreter and parse-probe every statement of every function. */
export async function checkArtifact(name: string, code: string): Promise<ArtifactCheck> {
  const it = await Interpreter.start();
  const problems: string[] = [];
  let blocks = 0;
  const probes = parseProbes(code);
  try {
    await it.writeFileFromHost("check.js", code);
    // The Linux build has no Wifi module; app.js loads it at boot. Without wisp.json
    // the app stops at "no device settings", so an empty module is enough to load it.
    await it.eval('Modules.addCached("Wifi","")');
    // A Storage module (`module.exports=...`, build.ts `module`) gets the `module` object require() would give it.
    if (code.startsWith("module.exports=")) await it.eval("var module={}");
    const before = await it.eval<number>("process.memory().usage");
    try {
      await it.eval('eval(require("Storage").read("check.js"))', 20000);
    } catch (e) {
      problems.push(`loading from Storage: ${(e as Error).message}`);
    }
    blocks = (await it.eval<number>("process.memory().usage")) - before;
    // The probes need room in Storage and in RAM: drop the bundle first.
    await it.eval('wisp=undefined,module=undefined,require("Storage").erase("check.js")');
    await it.writeFileFromHost("probes.js", `[${probes.map((p) => p.code).join(",\n")}]`);
    const failed = await it.eval<string[]>(
      '(function(){var r=[];eval(require("Storage").read("probes.js")).forEach(function(f,i){try{f()}catch(e){r.push(i+" "+e)}});return r})()',
      60000,
    );
    for (const f of failed) {
      const sp = f.indexOf(" ");
      const p = probes[Number(f.slice(0, sp))];
      problems.push(`${f.slice(sp + 1)} in \`${p?.statement}\` at offset ${p?.at}`);
    }
    for (const u of it.uncaught()) problems.push(u);
  } finally {
    await it.stop();
  }
  return { name, blocks, probes: probes.length, problems };
}
