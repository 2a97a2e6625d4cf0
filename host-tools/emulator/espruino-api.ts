/**
 * Small Espruino built-ins that are pure functions of their input: E.toString,
 * E.toUint8Array's byte gathering, E.CRC32, console formatting, btoa/atob.
 */

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

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib), unsigned. */
export function crc32(bytes: ArrayLike<number>): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

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
    return entries.length ? `{ ${entries.join(", ")} }` : "{ }";
  } catch {
    return String(v);
  }
}

export function btoa(s: string): string {
  return Buffer.from(String(s), "latin1").toString("base64");
}
export function atob(s: string): string {
  return Buffer.from(String(s), "base64").toString("latin1");
}
