/**
 * The subset checker. It runs before any backend and rejects, with file:line:col
 * and the reason, every construct that Espruino 2v2x or Lua 5.3 (through
 * typescript-to-lua) cannot run the same way as TypeScript means it.
 * The list comes from DESIGN.md ("The subset"); each rule says why in its message.
 */
import path from "node:path";
import ts from "typescript";

export interface SubsetDiagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatDiagnostic(d: SubsetDiagnostic, root = process.cwd()): string {
  return `${path.relative(root, d.file) || d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Globals the subset forbids, with the reason shown to the user. */
const BANNED_GLOBALS: Record<string, string> = {
  Map: "Map is not available on Espruino",
  Set: "Set is not available on Espruino",
  WeakMap: "WeakMap is not available on Espruino",
  WeakSet: "WeakSet is not available on Espruino",
  Symbol: "Symbol is not available on Espruino",
  TextEncoder: "TextEncoder is not available on Espruino; use the byte intrinsics",
  TextDecoder: "TextDecoder is not available on Espruino; use the byte intrinsics",
  Promise: "Promise is not in the subset (no async on the board)",
  Proxy: "Proxy is not available on Espruino",
  Reflect: "Reflect is not available on Espruino",
  JSON: "JSON is not available on Lua; build strings by hand",
  Date: "Date is not available on Lua; use the platform clock",
  RegExp: "regular expressions are not available on Lua",
  eval: "eval is not in the subset",
  arguments: "arguments is not in the subset; name the parameters",
  Uint8Array: "use the byte intrinsics (bytesNew, byteAt, byteSet): typescript-to-lua mistranslates Uint8Array",
  Int8Array: "typed arrays are not in the subset; use the byte intrinsics",
  Uint16Array: "typed arrays are not in the subset; use the byte intrinsics",
  Int16Array: "typed arrays are not in the subset; use the byte intrinsics",
  Uint32Array: "typed arrays are not in the subset; use the byte intrinsics",
  Int32Array: "typed arrays are not in the subset; use the byte intrinsics",
  Float32Array: "typed arrays are not in the subset; use the byte intrinsics",
  Float64Array: "typed arrays are not in the subset; use the byte intrinsics",
  ArrayBuffer: "ArrayBuffer is not in the subset; use the byte intrinsics",
  DataView: "DataView is not in the subset; use the byte intrinsics",
};

function isFunctionLike(n: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n)
  );
}

function isFromDefaultLib(program: ts.Program, sym: ts.Symbol | undefined): boolean {
  if (!sym) return true; // unresolved global: treat as the builtin
  return (sym.declarations ?? []).some((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()));
}

/** Check the given firmware files. `firmwareRoot` bounds what imports may reach. */
export function checkSubset(program: ts.Program, files: readonly string[], firmwareRoot: string): SubsetDiagnostic[] {
  const checker = program.getTypeChecker();
  const out: SubsetDiagnostic[] = [];
  const root = path.resolve(firmwareRoot);

  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf || sf.isDeclarationFile) continue;
    const report = (node: ts.Node, message: string) => {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      out.push({ file: sf.fileName, line: line + 1, col: character + 1, message });
    };
    const requireBoolean = (expr: ts.Expression, where: string) => {
      const t = checker.getTypeAtLocation(expr);
      const ok = (t.flags & ts.TypeFlags.BooleanLike) !== 0 || (t.isUnion() && t.types.every((u) => (u.flags & ts.TypeFlags.BooleanLike) !== 0));
      if (!ok) {
        report(
          expr,
          `${where} must be a boolean, not '${checker.typeToString(t)}': Lua treats 0 and "" as true; compare explicitly (e.g. x !== 0)`,
        );
      }
    };

    const visit = (node: ts.Node, fnDepth: number) => {
      switch (node.kind) {
        case ts.SyntaxKind.ObjectBindingPattern:
        case ts.SyntaxKind.ArrayBindingPattern:
          report(node, "destructuring is not available on Espruino");
          break;
        case ts.SyntaxKind.SpreadElement:
        case ts.SyntaxKind.SpreadAssignment:
          report(node, "spread (...) is not available on Espruino");
          break;
        case ts.SyntaxKind.ComputedPropertyName:
          report(node, "computed property keys are not available on Espruino");
          break;
        case ts.SyntaxKind.LabeledStatement:
          report(node, "labels are not available on Espruino");
          break;
        case ts.SyntaxKind.AwaitExpression:
          report(node, "async/await is not available on Espruino");
          break;
        case ts.SyntaxKind.YieldExpression:
          report(node, "generators are not available on Espruino");
          break;
        case ts.SyntaxKind.RegularExpressionLiteral:
          report(node, "regular expressions are not available on Lua");
          break;
        case ts.SyntaxKind.BigIntLiteral:
          report(node, "BigInt is not available on Espruino or Lua");
          break;
        case ts.SyntaxKind.WithStatement:
          report(node, "with is not in the subset");
          break;
      }

      if (ts.isParameter(node)) {
        if (node.dotDotDotToken) report(node, "rest parameters (...) are not available on Espruino");
        if (node.initializer) report(node, "default parameters are not available on Espruino; pass the value explicitly");
      }
      if (isFunctionLike(node)) {
        const fn = node as ts.FunctionLikeDeclaration;
        if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) report(node, "async/await is not available on Espruino");
        if (fn.asteriskToken) report(node, "generators are not available on Espruino");
        if (ts.isFunctionDeclaration(node) && fnDepth > 0) {
          report(node, "a function declared inside a function is not hoisted on Espruino; assign an arrow function to a const before use");
        }
      }
      if (ts.isVariableDeclarationList(node) && (node.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) {
        report(node, "var is not in the subset (its hoisting differs on Lua); use let or const");
      }
      if (
        (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node) || ts.isCallExpression(node)) &&
        node.questionDotToken
      ) {
        report(node, "optional chaining (?.) is not available on Espruino");
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        switch (op) {
          case ts.SyntaxKind.QuestionQuestionToken:
          case ts.SyntaxKind.QuestionQuestionEqualsToken:
            report(node.operatorToken, "?? is not available on Espruino");
            break;
          case ts.SyntaxKind.AsteriskAsteriskToken:
          case ts.SyntaxKind.AsteriskAsteriskEqualsToken:
            report(node.operatorToken, "** is not available on Espruino; multiply");
            break;
          case ts.SyntaxKind.GreaterThanGreaterThanToken:
          case ts.SyntaxKind.GreaterThanGreaterThanEqualsToken:
            report(node.operatorToken, ">> is rejected by typescript-to-lua on Lua 5.3; use shr(x, n)");
            break;
          case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken:
          case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken:
            report(node.operatorToken, ">>> breaks on 32-bit-integer Lua VMs; use shr(x, n)");
            break;
          case ts.SyntaxKind.EqualsEqualsToken:
          case ts.SyntaxKind.ExclamationEqualsToken:
            report(node.operatorToken, "loose equality is not in the subset; use === or !==");
            break;
          case ts.SyntaxKind.AmpersandAmpersandToken:
          case ts.SyntaxKind.BarBarToken:
          case ts.SyntaxKind.AmpersandAmpersandEqualsToken:
          case ts.SyntaxKind.BarBarEqualsToken:
            requireBoolean(node.left, "an operand of " + node.operatorToken.getText(sf));
            requireBoolean(node.right, "an operand of " + node.operatorToken.getText(sf));
            break;
          case ts.SyntaxKind.EqualsToken:
            if (ts.isObjectLiteralExpression(node.left) || ts.isArrayLiteralExpression(node.left)) {
              report(node.left, "destructuring is not available on Espruino");
            }
            break;
        }
      }
      if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) {
        requireBoolean(node.operand, "the operand of !");
      }
      if (ts.isIfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) {
        requireBoolean(node.expression, "a condition");
      }
      if (ts.isForStatement(node) && node.condition) requireBoolean(node.condition, "a loop condition");
      if (ts.isConditionalExpression(node)) requireBoolean(node.condition, "a condition");

      if (ts.isIdentifier(node) && Object.prototype.hasOwnProperty.call(BANNED_GLOBALS, node.text)) {
        const parent = node.parent;
        const isName =
          (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
          (ts.isPropertyAssignment(parent) && parent.name === node) ||
          ((ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node);
        if (!isName && isFromDefaultLib(program, checker.getSymbolAtLocation(node))) {
          report(node, BANNED_GLOBALS[node.text]);
        }
      }
      if (ts.isPropertyAccessExpression(node)) {
        const name = node.name.text;
        if (name === "from" && ts.isIdentifier(node.expression) && node.expression.text === "Array") {
          report(node, "Array.from is not available on Espruino");
        }
        if (name === "slice" && checker.isArrayLikeType(checker.getTypeAtLocation(node.expression))) {
          const t = checker.getTypeAtLocation(node.expression);
          if (!(t.flags & ts.TypeFlags.StringLike)) report(node, "Array.prototype.slice is not reachable on Espruino; copy in a loop");
        }
      }
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
        const spec = node.moduleSpecifier;
        if (spec && ts.isStringLiteral(spec)) {
          const target = spec.text;
          if (!target.startsWith(".")) {
            report(spec, `firmware cannot import '${target}': Node and npm modules do not exist on the board`);
          } else {
            const resolved = path.resolve(path.dirname(sf.fileName), target);
            if (!resolved.startsWith(root + path.sep)) {
              report(spec, `firmware cannot import '${target}': it is outside firmware/`);
            }
          }
        }
      }
      if (ts.isImportEqualsDeclaration(node)) report(node, "import = require() is not in the subset");

      const depth = isFunctionLike(node) ? fnDepth + 1 : fnDepth;
      ts.forEachChild(node, (c) => visit(c, depth));
    };
    visit(sf, 0);
  }
  out.sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1));
  return out;
}
