/**
 * An Espruino-shaped JavaScript realm under Node.
 *
 * A fresh `vm` context has every ES builtin of V8; Espruino 2v2x lacks many of them.
 * We remove those so an artifact that slipped past the subset checker fails here
 * too (the second line of defence named in DESIGN.md), with an error that says
 * what Espruino lacks instead of a vague "undefined is not a function".
 *
 * The realm also counts byte-buffer constructions (Uint8Array, ArrayBuffer,
 * DataView and friends), which is how tests prove "no steady-state allocation".
 */
import vm from "node:vm";
import { espruinoStringify } from "./espruino-api.ts";

/** Builtins that Espruino 2v2x does not have (DESIGN.md, "The subset"). */
export const MISSING_GLOBALS = [
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "Symbol",
  "Proxy",
  "Reflect",
  "BigInt",
  "TextEncoder",
  "TextDecoder",
  "SharedArrayBuffer",
  "Atomics",
  "FinalizationRegistry",
  "Intl",
] as const;

/** Typed arrays and views whose construction counts as a buffer allocation. */
const BUFFER_CTORS = [
  "ArrayBuffer",
  "DataView",
  "Uint8Array",
  "Int8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
] as const;

export interface EspruinoSandbox {
  /** The vm context; its global object is what the firmware sees. */
  context: vm.Context;
  /** Run source code in the realm (a bundle, or one REPL statement). */
  run(code: string, filename?: string): unknown;
  /** Buffer constructions since the realm was made (or since `resetBufferCount`). */
  bufferCount(): number;
  resetBufferCount(): void;
}

/**
 * Build a realm. `globals` are the platform objects (require, E, timers, ...) the
 * emulator provides; they are copied onto the realm's global object.
 */
export function createEspruinoSandbox(globals: Record<string, unknown> = {}): EspruinoSandbox {
  const context = vm.createContext({});
  const counter = { n: 0 };
  // The realm's own builtins must be patched from inside the realm.
  const setup = vm.runInContext(
    `(function (missing, bufferCtors, counter) {
      const g = globalThis;
      const P = Proxy, R = Reflect; // captured before they are hidden below
      for (const name of missing) {
        Object.defineProperty(g, name, {
          configurable: false,
          enumerable: false,
          get() { throw new ReferenceError(name + " is not available on Espruino (wisp sandbox)"); },
        });
      }
      // Array.from and Array.prototype.slice are not reachable on Espruino 2v2x.
      Object.defineProperty(Array, "from", { get() { throw new TypeError("Array.from is not available on Espruino (wisp sandbox)"); } });
      delete Array.prototype.slice;
      // Count every buffer construction, including views made by subarray().
      for (const name of bufferCtors) {
        const Orig = g[name];
        const Counted = new P(Orig, {
          construct(target, args, newTarget) {
            counter.n++;
            return R.construct(target, args, newTarget === Counted ? target : newTarget);
          },
        });
        Object.defineProperty(g, name, { value: Counted, writable: false, configurable: false, enumerable: false });
      }
      const origSub = g.Uint8Array.prototype.subarray;
      g.Uint8Array.prototype.subarray = function () { counter.n++; return origSub.apply(this, arguments); };
      // Node-only or browser-only things that would not exist on a board.
      for (const name of ["queueMicrotask", "structuredClone", "fetch", "WebAssembly"]) {
        try { delete g[name]; } catch (e) {}
      }
    })`,
    context,
  ) as (missing: readonly string[], ctors: readonly string[], counter: { n: number }) => void;
  setup(MISSING_GLOBALS, BUFFER_CTORS, counter);
  // JSON.stringify in Espruino's dialect (bytes >= 0x7F as \u00XX, undefined as "null")
  const realmJSON = vm.runInContext("JSON", context) as JSON;
  const v8Stringify = realmJSON.stringify.bind(realmJSON) as (v: unknown, r?: unknown, s?: unknown) => string | undefined;
  Object.defineProperty(realmJSON, "stringify", {
    value: function stringify(v: unknown, replacer?: unknown, space?: unknown) {
      return espruinoStringify(v8Stringify, v, replacer, space);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  for (const [k, v] of Object.entries(globals)) {
    Object.defineProperty(context, k, { value: v, writable: true, configurable: true, enumerable: true });
  }
  return {
    context,
    run: (code, filename = "sandbox.js") => vm.runInContext(code, context, { filename }),
    bufferCount: () => counter.n,
    resetBufferCount: () => {
      counter.n = 0;
    },
  };
}
