/**
 * Small Espruino built-ins that are pure functions of their input: E.toString,
 * E.toUint8Array's byte gathering, E.CRC32, console formatting, btoa/atob, and the
 * JSON dialect Storage.writeJSON writes and Storage.readJSON reads. Error texts are
 * the interpreter's (src/jswrap_espruino.c, jswrap_functions.c, jswrap_interactive.c, jsutils.c).
 */

/** Espruino's name for a value's type in error messages (jsutils.c, "%t"). */
export function typeName(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "number") return "Number";
  if (typeof v === "boolean") return "Boolean";
  if (typeof v === "string") return "String";
  if (typeof v === "function") return "Function";
  if (Array.isArray(v)) return "Array";
  if (ArrayBuffer.isView(v)) return v.constructor?.name ?? "Uint8Array";
  return "Object";
}

/** Gather bytes from Espruino's flexible arguments: strings, numbers, arrays, typed arrays, {data, count}. */
export function gatherBytes(args: unknown[]): number[] {
  const out: number[] = [];
  const add = (v: unknown): void => {
    if (typeof v === "string") {
      for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i) & 255);
    } else if (typeof v === "number") {
      out.push(v & 255);
    } else if (typeof v === "boolean") {
      out.push(v ? 1 : 0);
    } else if (ArrayBuffer.isView(v)) {
      const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < u.length; i++) out.push(u[i]);
    } else if (Object.prototype.toString.call(v) === "[object ArrayBuffer]") {
      const u = new Uint8Array(v as ArrayBuffer);
      for (let i = 0; i < u.length; i++) out.push(u[i]);
    } else if (Array.isArray(v)) {
      for (const x of v) add(x);
    } else if (v && typeof v === "object" && "data" in v) {
      const o = v as { data: unknown; count?: number };
      const n = typeof o.count === "number" ? o.count : 1;
      for (let i = 0; i < n; i++) add(o.data);
    } else if (v && typeof v === "object") {
      // jsvIterateCallback: any other object is refused
      throw new TypeError(`If specifying an object, it must be of the form {data : ..., count : N} or {callback : fn} - got ${formatValue(v)}`);
    }
  };
  for (const a of args) add(a);
  return out;
}

export function bytesToLatin1(bytes: number[]): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.slice(i, i + 4096));
  return s;
}

export { crc32 } from "../device/crc32.ts";
import { crc32 } from "../device/crc32.ts";

/** How print()/console.log show a value: strings raw, others roughly as Espruino does. */
export function formatValue(v: unknown, top = true): string {
  if (typeof v === "string") return top ? v : JSON.stringify(v);
  if (v === undefined) return "undefined";
  if (v === null || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "function") return `function ${(v as Function).name || ""}() {...}`;
  if (ArrayBuffer.isView(v)) return `new ${v.constructor?.name ?? "Uint8Array"}([${Array.prototype.join.call(v as unknown as ArrayLike<number>, ", ")}])`;
  if (Array.isArray(v)) return `[ ${v.map((x) => formatValue(x, false)).join(", ")} ]`;
  if (v instanceof Error || (typeof v === "object" && v && "message" in v && "name" in v && Object.prototype.toString.call(v) === "[object Error]"))
    return `${(v as Error).name}: ${(v as Error).message}`;
  try {
    const entries = Object.keys(v as object).map((k) => `${JSON.stringify(k)}: ${formatValue((v as Record<string, unknown>)[k], false)}`);
    return entries.length ? `{ ${entries.join(", ")} }` : "{  }"; // (Espruino prints an empty object with two spaces)
  } catch {
    return String(v);
  }
}

/** CRC-32 of what E.CRC32 accepts (a string or something iterable); anything else gives undefined. */
export function crc32Of(data: unknown): number | undefined {
  if (typeof data !== "string" && !Array.isArray(data) && !ArrayBuffer.isView(data) && Object.prototype.toString.call(data) !== "[object ArrayBuffer]") return undefined;
  return crc32(gatherBytes([data]));
}

/** btoa (jswrap_functions.c, jswrap_btoa): a string or an array of bytes. */
export function btoa(...args: unknown[]): string {
  const s = args[0];
  if (typeof s === "string") return Buffer.from(s, "latin1").toString("base64");
  if (Array.isArray(s) || ArrayBuffer.isView(s)) return Buffer.from(gatherBytes([s])).toString("base64");
  throw new Error(`Expecting String or Array, got ${typeName(s)}`);
}
/** atob (jswrap_functions.c, jswrap_atob): a string; characters outside base64 are skipped. */
export function atob(...args: unknown[]): string {
  const s = args[0];
  if (typeof s !== "string") throw new Error(`Expecting String, got ${typeName(s)}`);
  return Buffer.from(s, "base64").toString("latin1");
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string literal as Espruino's JSON writer escapes it for Storage (\xHH for bytes, not \u00HH). */
function espruinoStringLiteral(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 8) out += "\\" + c; // octal, as jsvGetJSON writes \1 (cannot be followed by a digit here: rare)
    else if (c < 0x20 || (c >= 0x7f && c <= 0xff)) out += "\\x" + c.toString(16).toUpperCase().padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/**
 * Storage.writeJSON's text (jswrap_storage_writeJSON: JSON_DROP_QUOTES, bytes as \xHH):
 * keys that are identifiers go unquoted, functions and undefined members are left
 * out, undefined in an array is null, typed arrays are arrays, toJSON is honoured.
 */
export function espruinoJSON(v: unknown): string | undefined {
  const enc = (x: unknown, inArray: boolean): string | undefined => {
    if (x && typeof x === "object" && typeof (x as { toJSON?: unknown }).toJSON === "function") x = (x as { toJSON: () => unknown }).toJSON();
    if (x === undefined || typeof x === "function") return inArray ? "null" : undefined;
    if (x === null) return "null";
    if (typeof x === "boolean") return String(x);
    if (typeof x === "number") return Number.isFinite(x) ? String(x) : "null";
    if (typeof x === "string") return espruinoStringLiteral(x);
    if (Array.isArray(x) || ArrayBuffer.isView(x)) {
      const items = Array.isArray(x) ? x : Array.prototype.slice.call(x as unknown as ArrayLike<number>);
      return "[" + items.map((e) => enc(e, true)).join(",") + "]";
    }
    const parts: string[] = [];
    for (const k of Object.keys(x as object)) {
      const e = enc((x as Record<string, unknown>)[k], false);
      if (e !== undefined) parts.push((IDENT.test(k) ? k : espruinoStringLiteral(k)) + ":" + e);
    }
    return "{" + parts.join(",") + "}";
  };
  return enc(v, false);
}

/**
 * Parse text as Storage.readJSON does (Espruino's own lexer, jswrap_json.c): keys may
 * be unquoted, strings may use single quotes and \xHH escapes, a trailing comma is
 * allowed, and text after the first value is ignored. Throws SyntaxError otherwise.
 */
export function parseEspruinoJSON(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(i >= text.length ? `Got EOF expected ${what}` : `Expecting ${what}, got ${JSON.stringify(text[i])}`);
  };
  const str = (): string => {
    const q = text[i++];
    let out = "";
    while (i < text.length && text[i] !== q) {
      let c = text[i++];
      if (c === "\\") {
        const e = text[i++];
        if (e === "n") c = "\n";
        else if (e === "r") c = "\r";
        else if (e === "t") c = "\t";
        else if (e === "b") c = "\b";
        else if (e === "f") c = "\f";
        else if (e === "x") { c = String.fromCharCode(parseInt(text.slice(i, i + 2), 16)); i += 2; }
        else if (e === "u") { c = String.fromCharCode(parseInt(text.slice(i, i + 4), 16)); i += 4; }
        else if (e >= "0" && e <= "7") c = String.fromCharCode(Number(e));
        else c = e;
      }
      out += c;
    }
    if (i >= text.length) fail("'\"'");
    i++;
    return out;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === undefined) return fail("valid value");
    if (c === '"' || c === "'") return str();
    if (c === "{") {
      i++;
      const o: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === "}") { i++; return o; }
        let k: string;
        if (text[i] === '"' || text[i] === "'") k = str();
        else {
          const m = /^[A-Za-z0-9_$]+/.exec(text.slice(i));
          if (!m) return fail("'}'");
          k = m[0];
          i += k.length;
        }
        ws();
        if (text[i] !== ":") fail("':'");
        i++;
        o[k] = value();
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return o; }
        fail("','");
      }
    }
    if (c === "[") {
      i++;
      const a: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === "]") { i++; return a; }
        a.push(value());
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return a; }
        fail("','");
      }
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) { i += num[0].length; return Number(num[0]); }
    for (const [w, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(w, i) && !/[A-Za-z0-9_$]/.test(text[i + w.length] ?? "")) { i += w.length; return v; }
    }
    const id = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(i));
    throw new SyntaxError(`Expecting valid value, got ${id ? (id[0] === "undefined" ? "undefined" : "ID") : JSON.stringify(c)}`);
  };
  return value();
}

/**
 * JSON.stringify as Espruino writes it (jswrap_json.c): like V8's, but bytes 0x7F..0xFF
 * and control characters are escaped as \u00XX with upper-case hex, and a top-level
 * undefined gives "null". `stringify` is the realm's own JSON.stringify.
 */
export function espruinoStringify(stringify: (v: unknown, r?: unknown, s?: unknown) => string | undefined, v: unknown, replacer?: unknown, space?: unknown): string | undefined {
  if (v === undefined) return "null";
  const out = stringify(v, replacer, space);
  if (out === undefined) return out;
  return out
    .replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => "\\u" + h.toUpperCase())
    .replace(/[\x7f-\xff]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16).toUpperCase());
}
