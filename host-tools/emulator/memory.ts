/**
 * `process.memory()` estimate: Espruino variable slots ("blocks") the program
 * holds, counted by walking everything reachable from the program's globals.
 *
 * Cost per value, after Espruino's storage model (one block = `ram.blockBytes`,
 * 14 bytes on ESP32):
 *   object / array          1 block, plus 1 block per property or element
 *   string                  ceil(length / 12) blocks (a short one shares its name block: 0 extra if <= 4)
 *   number, boolean, null   0 extra (held in the property's block)
 *   Uint8Array and friends  2 blocks + ceil(byteLength / blockBytes) for the data (shared buffers count once)
 *   function                1 block + ceil(source length / 12) for its code, plus its own properties
 * Platform objects (the emulator's modules, built-ins) count as native, 0.
 * Variables captured only by closures are invisible to the walk, so this is a
 * lower bound; it is good for trends (does usage grow per publish?) and budgets.
 */
export interface MemoryFigures {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc: number;
  gctime: number;
  blocksize: number;
}

export function estimateBlocks(roots: Iterable<unknown>, blockBytes: number, baseline: Set<unknown>, limit = 500_000): number {
  const seen = new Set<unknown>(baseline);
  const start = seen.size;
  let blocks = 0;
  const strCost = (s: string) => (s.length <= 4 ? 0 : Math.ceil(s.length / 12));
  const stack: unknown[] = [...roots];
  while (stack.length > 0 && seen.size - start < limit) {
    const v = stack.pop();
    if (typeof v === "string") {
      blocks += strCost(v);
      continue;
    }
    if ((typeof v !== "object" && typeof v !== "function") || v === null) continue;
    if (seen.has(v)) continue;
    seen.add(v);
    if (isHostObject(v)) continue; // a host (platform) object: native on a board
    if (ArrayBuffer.isView(v)) {
      const buf = (v as ArrayBufferView).buffer;
      blocks += 2;
      if (!seen.has(buf)) {
        seen.add(buf);
        blocks += Math.ceil(buf.byteLength / blockBytes);
      }
      continue;
    }
    blocks += 1;
    if (typeof v === "function") {
      let src = "";
      try {
        src = Function.prototype.toString.call(v);
      } catch {
        src = "";
      }
      if (!src.includes("[native code]")) blocks += Math.ceil(src.length / 12);
    }
    let keys: string[] = [];
    try {
      keys = Object.getOwnPropertyNames(v);
    } catch {
      keys = [];
    }
    for (const k of keys) {
      if (typeof v === "function" && (k === "length" || k === "name" || k === "arguments" || k === "caller")) continue;
      blocks += 1;
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d && "value" in d) stack.push(d.value);
    }
    const proto = Object.getPrototypeOf(v);
    if (proto && !isHostObject(proto)) stack.push(proto);
  }
  return blocks;
}

/** Every object reachable from `root` (the built-ins of a fresh realm): excluded from the count. */
export function collectReachable(root: object, stopAt: object[] = []): Set<unknown> {
  const seen = new Set<unknown>(stopAt);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if ((typeof v !== "object" && typeof v !== "function") || v === null || seen.has(v)) continue;
    seen.add(v);
    let keys: (string | symbol)[] = [];
    try {
      keys = Reflect.ownKeys(v);
    } catch {
      keys = [];
    }
    for (const k of keys) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (!d) continue;
      if ("value" in d) stack.push(d.value);
      else {
        stack.push(d.get);
        stack.push(d.set);
      }
    }
    stack.push(Object.getPrototypeOf(v));
  }
  return seen;
}

function isHostObject(v: object): boolean {
  return v instanceof Object;
}
