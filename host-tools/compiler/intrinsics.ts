/**
 * Lowering of the byte intrinsics declared in firmware/hal/intrinsics.d.ts.
 *
 * Each backend replaces every intrinsic call at compile time with its native form,
 * so the firmware's hot path pays no extra call on Espruino and no wrong index
 * shift on Lua. The few intrinsics that need a loop become calls to a tiny runtime
 * helper (runtime/espruino.js, runtime/lua.lua) that the bundler includes only
 * when referenced.
 */
import ts from "typescript";
import * as lua from "typescript-to-lua";
import type { Plugin, TransformationContext } from "typescript-to-lua";

export const INTRINSICS = [
  "bytesNew",
  "bytesLen",
  "byteAt",
  "byteSet",
  "bytesCopy",
  "strLen",
  "strByte",
  "strToBytes",
  "strCopy",
  "bytesToStr",
  "strPlain",
  "strAscii",
  "strFind",
  "shr",
  "shl",
] as const;
export type IntrinsicName = (typeof INTRINSICS)[number];

const ARITY: Record<IntrinsicName, number> = {
  bytesNew: 1,
  bytesLen: 1,
  byteAt: 2,
  byteSet: 3,
  bytesCopy: 5,
  strLen: 1,
  strByte: 2,
  strToBytes: 3,
  strCopy: 5,
  bytesToStr: 3,
  strPlain: 1,
  strAscii: 1,
  strFind: 3,
  shr: 2,
  shl: 2,
};

/** Runtime helpers each backend calls for intrinsics that need a loop. */
export const RUNTIME_HELPER: Partial<Record<IntrinsicName, string>> = {
  bytesCopy: "__wisp_copy",
  strToBytes: "__wisp_s2b",
  strCopy: "__wisp_s2bn",
  bytesToStr: "__wisp_b2s",
  strPlain: "__wisp_plain",
  strAscii: "__wisp_ascii",
  strFind: "__wisp_find",
};

/** The intrinsic a call expression invokes, if any: resolved through the type checker, not by name alone. */
export function intrinsicOf(checker: ts.TypeChecker, call: ts.CallExpression): IntrinsicName | undefined {
  if (!ts.isIdentifier(call.expression)) return undefined;
  const name = call.expression.text as IntrinsicName;
  if (!(INTRINSICS as readonly string[]).includes(name)) return undefined;
  const sym = checker.getSymbolAtLocation(call.expression);
  const decl = sym?.declarations?.[0];
  if (!decl || !decl.getSourceFile().fileName.endsWith("hal/intrinsics.d.ts")) return undefined;
  if (call.arguments.length !== ARITY[name]) return undefined; // the type checker already reports it
  return name;
}

/**
 * Espruino: `!RE.test(s)` written in place, RE being the runtime's one RegExp object
 * (a helper call costs more than the test itself on Espruino).
 */
function espruinoRegexTest(f: ts.NodeFactory, regex: string, s: ts.Expression): ts.Expression {
  const test = f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier(regex), "test"), undefined, [s]);
  return f.createParenthesizedExpression(f.createPrefixUnaryExpression(ts.SyntaxKind.ExclamationToken, test));
}

/**
 * Espruino: the byte-string copies as `__wisp_E ? <native> : <helper>(...)`, the
 * natives written in place. `__wisp_E` (runtime/espruino.js) is Espruino's `E` on
 * Espruino, where Uint8Array.set takes a string's char codes and E.toString of a whole
 * Uint8Array hands back its backing string, and null on V8 (the emulator, the tests'
 * sandbox), which takes the helper's loop. `E` is reached through `__wisp_E` because a
 * firmware module may declare an `E` of its own. On Espruino a call costs its scope,
 * its parameters and the reading of the callee's text from flash: more than the few
 * characters the test adds.
 */
const NATIVE = "__wisp_E";
function espruinoNativeOr(f: ts.NodeFactory, native: ts.Expression, helper: string, args: ts.Expression[]): ts.Expression {
  const call = f.createCallExpression(f.createIdentifier(helper), undefined, args);
  return f.createParenthesizedExpression(f.createConditionalExpression(f.createIdentifier(NATIVE), undefined, native, undefined, call));
}

/** TypeScript transformer for the Espruino backend. */
export function espruinoIntrinsicsTransformer(program: ts.Program): ts.TransformerFactory<ts.SourceFile> {
  const checker = program.getTypeChecker();
  return (ctx) => {
    const f = ctx.factory;
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isCallExpression(node)) {
        const name = intrinsicOf(checker, node);
        if (name) {
          const a = node.arguments.map((arg) => ts.visitNode(arg, visit) as ts.Expression);
          const paren = (e: ts.Expression) => f.createParenthesizedExpression(e);
          switch (name) {
            case "bytesNew":
              return f.createNewExpression(f.createIdentifier("Uint8Array"), undefined, [a[0]]);
            case "bytesLen":
            case "strLen":
              return f.createPropertyAccessExpression(paren(a[0]), "length");
            case "byteAt":
              return f.createElementAccessExpression(paren(a[0]), a[1]);
            case "byteSet":
              return paren(f.createAssignment(f.createElementAccessExpression(paren(a[0]), a[1]), a[2]));
            case "strByte":
              return f.createCallExpression(f.createPropertyAccessExpression(paren(a[0]), "charCodeAt"), undefined, [a[1]]);
            case "shr":
              return paren(f.createBinaryExpression(paren(a[0]), ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken, paren(a[1])));
            case "shl":
              return paren(f.createBinaryExpression(paren(a[0]), ts.SyntaxKind.LessThanLessThanToken, paren(a[1])));
            case "strPlain":
            case "strAscii":
              return espruinoRegexTest(f, name === "strPlain" ? "__wisp_unplain" : "__wisp_unascii", a[0]);
            case "strFind":
              return f.createCallExpression(f.createPropertyAccessExpression(paren(a[0]), "indexOf"), undefined, [a[1], a[2]]);
            case "strToBytes": {
              // d.set(s, off)
              const native = f.createCallExpression(f.createPropertyAccessExpression(paren(a[1]), "set"), undefined, [a[0], a[2]]);
              return espruinoNativeOr(f, native, RUNTIME_HELPER[name]!, a);
            }
            case "strCopy": {
              // d.set(s.substr(soff, n), doff)
              const sub = f.createCallExpression(f.createPropertyAccessExpression(paren(a[0]), "substr"), undefined, [a[1], a[2]]);
              const native = f.createCallExpression(f.createPropertyAccessExpression(paren(a[3]), "set"), undefined, [sub, a[4]]);
              return espruinoNativeOr(f, native, RUNTIME_HELPER[name]!, a);
            }
            case "bytesToStr": {
              // __wisp_E.toString(b).substr(off, n)
              const whole = f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier(NATIVE), "toString"), undefined, [a[0]]);
              const native = f.createCallExpression(f.createPropertyAccessExpression(whole, "substr"), undefined, [a[1], a[2]]);
              return espruinoNativeOr(f, native, RUNTIME_HELPER[name]!, a);
            }
            default:
              return f.createCallExpression(f.createIdentifier(RUNTIME_HELPER[name]!), undefined, a);
          }
        }
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    return (sf) => ts.visitNode(sf, visit) as ts.SourceFile;
  };
}

/** typescript-to-lua plugin for the Lua backend. */
export function luaIntrinsicsPlugin(): Plugin {
  const lower = (node: ts.CallExpression, context: TransformationContext): lua.Expression | undefined => {
    const name = intrinsicOf(context.checker, node);
    if (!name) return undefined;
    const a = node.arguments.map((arg) => context.transformExpression(arg));
    const bin = (l: lua.Expression, r: lua.Expression, op: lua.BinaryOperator) => lua.createBinaryExpression(l, r, op, node);
    switch (name) {
      case "bytesNew":
      case "bytesCopy":
      case "strToBytes":
      case "strCopy":
      case "bytesToStr":
      case "strPlain":
      case "strAscii":
      case "strFind":
        return lua.createCallExpression(lua.createIdentifier(name === "bytesNew" ? "__wisp_new" : RUNTIME_HELPER[name]!), a, node);
      case "bytesLen":
        return lua.createTableIndexExpression(a[0], lua.createStringLiteral("n"), node);
      case "byteAt":
        return lua.createTableIndexExpression(a[0], a[1], node);
      case "strLen":
        return lua.createUnaryExpression(a[0], lua.SyntaxKind.LengthOperator, node);
      case "strByte":
        return lua.createCallExpression(
          lua.createTableIndexExpression(lua.createIdentifier("string"), lua.createStringLiteral("byte")),
          [a[0], bin(a[1], lua.createNumericLiteral(1), lua.SyntaxKind.AdditionOperator)],
          node,
        );
      case "shr":
        return bin(a[0], a[1], lua.SyntaxKind.BitwiseRightShiftOperator);
      case "shl":
        return bin(a[0], a[1], lua.SyntaxKind.BitwiseLeftShiftOperator);
      case "byteSet":
        return undefined; // statement form only, see below
    }
  };
  return {
    visitors: {
      [ts.SyntaxKind.CallExpression]: (node, context) => {
        if (intrinsicOf(context.checker, node) === "byteSet") {
          throw new Error("byteSet() must be used as a statement");
        }
        return lower(node, context) ?? context.superTransformExpression(node);
      },
      [ts.SyntaxKind.ExpressionStatement]: (node, context) => {
        const e = node.expression;
        if (ts.isCallExpression(e) && intrinsicOf(context.checker, e) === "byteSet") {
          const [b, i, v] = e.arguments.map((arg) => context.transformExpression(arg));
          return lua.createAssignmentStatement(lua.createTableIndexExpression(b, i), v, node);
        }
        return context.superTransformStatements(node);
      },
    },
  };
}

/**
 * Espruino backend: give every `private` class member a trailing `_` (resolved by
 * symbol, so only the members TypeScript itself keeps inside their class), which
 * esbuild's `mangleProps: PRIVATE_PROPS` then shortens to one or two letters. On
 * Espruino every property name is stored in RAM once per object (and once per
 * method on the prototype), and a long name takes an extra block.
 */
export const PRIVATE_PROPS = /_$/;

export function espruinoPrivateNamesTransformer(program: ts.Program): ts.TransformerFactory<ts.SourceFile> {
  const checker = program.getTypeChecker();
  const isPrivateDecl = (d: ts.Declaration): boolean =>
    (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private) !== 0 && ts.isClassElement(d);
  const isPrivateName = (name: ts.Node): boolean => {
    const orig = ts.getOriginalNode(name);
    if (orig.pos < 0 || !orig.parent) return false;
    const sym = checker.getSymbolAtLocation(orig);
    return !!sym?.declarations && sym.declarations.length > 0 && sym.declarations.every(isPrivateDecl);
  };
  return (ctx) => {
    const f = ctx.factory;
    const renamed = (id: ts.Identifier) => f.createIdentifier(id.text + "_");
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name) && isPrivateName(node.name)) {
        return f.updatePropertyAccessExpression(node, ts.visitNode(node.expression, visit) as ts.Expression, renamed(node.name));
      }
      if (ts.isPropertyDeclaration(node) && ts.isIdentifier(node.name) && isPrivateDecl(node)) {
        return f.updatePropertyDeclaration(
          node,
          node.modifiers,
          renamed(node.name),
          node.questionToken ?? node.exclamationToken,
          node.type,
          node.initializer ? (ts.visitNode(node.initializer, visit) as ts.Expression) : undefined,
        );
      }
      if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name) && isPrivateDecl(node)) {
        const m = ts.visitEachChild(node, visit, ctx) as ts.MethodDeclaration;
        return f.updateMethodDeclaration(m, m.modifiers, m.asteriskToken, renamed(node.name), m.questionToken, m.typeParameters, m.parameters, m.type, m.body);
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    return (sf) => ts.visitNode(sf, visit) as ts.SourceFile;
  };
}

/**
 * Espruino backend: replace each reference to a module-level `const NAME = <number>`
 * (or `-<number>`, `true`, `false`) of the firmware, in any module, by its value.
 * esbuild inlines such constants only inside one module; across modules each stays a
 * variable, and Espruino looks a variable up by name through the scopes at every use
 * and keeps its name and value in RAM. Constants nobody else reads (not exported by
 * the bundle) are then dropped by esbuild.
 */
export function espruinoConstantsTransformer(program: ts.Program): ts.TransformerFactory<ts.SourceFile> {
  const checker = program.getTypeChecker();
  const valueOf = (id: ts.Identifier): ts.Expression | undefined => {
    const orig = ts.getOriginalNode(id) as ts.Identifier;
    if (orig.pos < 0 || !orig.parent) return undefined;
    const p = orig.parent;
    // only references: not names being declared, imported, exported or used as keys
    if (ts.isVariableDeclaration(p) && p.name === orig) return undefined;
    if (ts.isTypeNode(p) || ts.isQualifiedName(p)) return undefined;
    if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return undefined;
    if (ts.isShorthandPropertyAssignment(p) || (ts.isPropertyAssignment(p) && p.name === orig)) return undefined;
    if (ts.isPropertyAccessExpression(p) && p.name === orig) return undefined;
    if ((ts.isClassElement(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p)) && (p as ts.NamedDeclaration).name === orig) return undefined;
    return constantOf(checker.getSymbolAtLocation(orig));
  };
  /** `NS.NAME` through `import * as NS`: the constant's value, if it is one. */
  const memberValueOf = (e: ts.PropertyAccessExpression): ts.Expression | undefined => {
    const orig = ts.getOriginalNode(e) as ts.PropertyAccessExpression;
    if (orig.pos < 0 || !orig.parent || !ts.isIdentifier(orig.expression)) return undefined;
    const ns = checker.getSymbolAtLocation(orig.expression);
    if (!ns?.declarations?.some(ts.isNamespaceImport)) return undefined;
    if (ts.isCallExpression(orig.parent) && orig.parent.expression === orig) return undefined;
    return constantOf(checker.getSymbolAtLocation(orig.name));
  };
  const constantOf = (s: ts.Symbol | undefined): ts.Expression | undefined => {
    let sym = s;
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const d = sym?.declarations;
    if (!d || d.length !== 1 || !ts.isVariableDeclaration(d[0])) return undefined;
    const decl = d[0];
    const list = decl.parent;
    if (!ts.isVariableDeclarationList(list) || (list.flags & ts.NodeFlags.Const) === 0) return undefined;
    if (!ts.isVariableStatement(list.parent) || !ts.isSourceFile(list.parent.parent)) return undefined;
    if (list.parent.parent.isDeclarationFile) return undefined;
    const init = decl.initializer;
    if (!init) return undefined;
    if (ts.isNumericLiteral(init)) return ts.factory.createNumericLiteral(init.text);
    if (ts.isPrefixUnaryExpression(init) && init.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(init.operand)) {
      return ts.factory.createParenthesizedExpression(ts.factory.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, ts.factory.createNumericLiteral(init.operand.text)));
    }
    if (init.kind === ts.SyntaxKind.TrueKeyword) return ts.factory.createTrue();
    if (init.kind === ts.SyntaxKind.FalseKeyword) return ts.factory.createFalse();
    return undefined;
  };
  return (ctx) => {
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isIdentifier(node)) return valueOf(node) ?? node;
      if (ts.isPropertyAccessExpression(node)) {
        const v = memberValueOf(node);
        if (v) return v;
      }
      return ts.visitEachChild(node, visit, ctx);
    };
    return (sf) => ts.visitNode(sf, visit) as ts.SourceFile;
  };
}
