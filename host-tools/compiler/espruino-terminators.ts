/**
 * Espruino 2v29's parser gap: a bare `return` that ends the brace-less body of an
 * `if`/`else`/loop, right before the `}` that closes the function, throws
 * `SyntaxError: Unexpected end of Input` when the function is first called
 * (`function f(t){if(t)return}`), while `return;}` parses. esbuild's minifier drops
 * every `;` before a `}`, so it emits exactly that shape.
 *
 * This pass parses the minified bundle with TypeScript's parser (a real tokenizer:
 * regex literals, strings and template text are never mistaken for code) and puts the
 * `;` back after every keyword-only jump statement (`return`, `break`, `continue`,
 * with an optional label) that lacks one. Probing 2v29 found only the bare `return`
 * failing; `break`/`continue` get the same byte because they share the shape and it
 * costs one byte where it occurs. The `;` is what ASI would insert, so semantics are
 * unchanged (docs/compiler.md lists the probed shapes).
 */
import ts from "typescript";

/** Offsets (in `code`) where a `;` must be inserted, ascending. */
export function missingTerminators(code: string): number[] {
  const sf = ts.createSourceFile("bundle.js", code, ts.ScriptTarget.ES2015, false, ts.ScriptKind.JS);
  const at: number[] = [];
  const visit = (node: ts.Node): void => {
    const bare =
      (ts.isReturnStatement(node) && node.expression === undefined) ||
      ts.isBreakStatement(node) ||
      ts.isContinueStatement(node);
    if (bare && code.charCodeAt(node.end - 1) !== 0x3b /* ; */) at.push(node.end);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return at.sort((a, b) => a - b);
}

/** The bundle with a `;` after every bare `return`/`break`/`continue` that had none. */
export function terminateJumps(code: string): string {
  const at = missingTerminators(code);
  if (at.length === 0) return code;
  let out = "";
  let last = 0;
  for (const p of at) {
    out += code.slice(last, p) + ";";
    last = p;
  }
  return out + code.slice(last);
}
