/**
 * Flash Storage: Espruino's `require("Storage")`, persisted to one JSON file per
 * emulated board (`{ "files": { "<name>": "<base64 bytes>" } }`), written after
 * every change so it survives deep sleep, reboot and emulator restarts.
 *
 * Semantics follow Espruino's jsflash.c (jsfWriteFile) and jswrap_storage.c; the
 * table in docs/emulator.md lists each rule. Names are cut to 28 characters; a file
 * takes a 32-byte header plus its size rounded up to 4 bytes; a rewritten or erased
 * file leaves its old copy as trash, which `getFree()` does not count as free until
 * `compact()` (or a write that would not fit otherwise) reclaims it.
 * `write(name, data, offset, size)` with `size` creates a file of `size` bytes
 * (0xFF-filled, as erased flash); later chunks give `offset` and must land on
 * still-erased bytes inside it.
 */
import fs from "node:fs";
import path from "node:path";
import { espruinoJSON, parseEspruinoJSON } from "./espruino-api.ts";

export const MAX_NAME = 28;
const HEADER = 32;

export class FlashStorage {
  private files = new Map<string, string>(); // byte strings
  /** Bytes held by old copies of rewritten or erased files (jsflash.c keeps them until a compact). */
  private trash = { bytes: 0, count: 0 };
  constructor(
    readonly file: string | null,
    readonly capacity: number,
  ) {
    if (file && fs.existsSync(file)) {
      let data: { files?: Record<string, string>; trash?: { bytes: number; count: number } };
      try {
        data = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        throw new Error(`storage file ${file} is not valid JSON: ${(e as Error).message}`);
      }
      for (const [k, v] of Object.entries(data.files ?? {})) this.files.set(k, Buffer.from(v, "base64").toString("latin1"));
      if (data.trash) this.trash = { bytes: Number(data.trash.bytes) || 0, count: Number(data.trash.count) || 0 };
    }
  }

  private persist(): void {
    if (!this.file) return;
    const out: Record<string, string> = {};
    for (const [k, v] of this.files) out[k] = Buffer.from(v, "latin1").toString("base64");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = this.file + ".tmp";
    fs.writeFileSync(tmp, JSON.stringify({ files: out, trash: this.trash }, null, 1));
    fs.renameSync(tmp, this.file);
  }

  names(): string[] {
    return [...this.files.keys()];
  }
  get(name: string): string | undefined {
    return this.files.get(name);
  }
  used(): number {
    let n = 0;
    for (const v of this.files.values()) n += footprint(v.length);
    return n;
  }
  trashBytes(): number {
    return this.trash.bytes;
  }
  trashCount(): number {
    return this.trash.count;
  }
  free(): number {
    return this.capacity - this.used() - this.trash.bytes;
  }
  /** Reclaim the trash (Storage.compact). */
  compact(): void {
    this.trash = { bytes: 0, count: 0 };
    this.persist();
  }

  /** jsfNameFromVar: any value becomes a string, cut to 28 characters. */
  private checkName(name: unknown): string {
    return String(name).slice(0, MAX_NAME);
  }

  private discard(name: string): void {
    const old = this.files.get(name);
    if (old === undefined) return;
    this.files.delete(name);
    this.trash.bytes += footprint(old.length);
    this.trash.count++;
  }

  /** jsfWriteFile: `write(name, data, offset?, size?)`. */
  write(nameIn: unknown, data: string, offset = 0, sizeIn = 0): boolean {
    const name = this.checkName(nameIn);
    if (!Number.isFinite(offset) || !Number.isFinite(sizeIn) || offset < 0 || sizeIn < 0) return false;
    const size = sizeIn || data.length;
    if (!size) throw new Error("Can't create zero length file");
    let base = this.files.get(name);
    if (offset === 0) {
      if (base !== undefined && base.length === size && data.length === size && base === data) return true; // the same file again
      const reuse = base !== undefined && base.length === size && /^\xff*$/.test(base); // an erased file of the right size
      if (!reuse) {
        this.discard(name);
        // jsflash.c compacts when the free area is too small, then gives up
        if (footprint(size) > this.free()) this.trash = { bytes: 0, count: 0 };
        if (footprint(size) > this.free()) {
          this.persist();
          throw new Error("Unable to find or create file");
        }
        base = "\xff".repeat(size);
      }
    }
    if (base === undefined) throw new Error("Unable to find or create file");
    if (offset + data.length > base.length) throw new Error("Too much data for file size");
    if (!/^\xff*$/.test(base.slice(offset, offset + data.length))) throw new Error("File already written with different data");
    this.files.set(name, base.slice(0, offset) + data + base.slice(offset + data.length));
    this.persist();
    return true;
  }

  erase(nameIn: unknown): void {
    const name = this.checkName(nameIn);
    if (this.files.has(name)) {
      this.discard(name);
      this.persist();
    }
  }
  eraseAll(): void {
    this.files.clear();
    this.trash = { bytes: 0, count: 0 };
    this.persist();
  }
}

/** Flash a file takes: a 32-byte header and its data rounded up to 4 bytes. */
function footprint(length: number): number {
  return HEADER + ((length + 3) & ~3);
}

type Realm = <T>(v: T) => T;

/** Convert what firmware may pass as data (string, Uint8Array, array, ArrayBuffer) to a byte string. */
export function toByteString(data: unknown): string {
  if (typeof data === "string") return data;
  if (data === undefined || data === null) return "";
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === "[object ArrayBuffer]")
    return Buffer.from(new Uint8Array(data as ArrayBuffer)).toString("latin1");
  if (Array.isArray(data)) return String.fromCharCode(...data.map((x) => Number(x) & 255));
  if (typeof data === "number") return String.fromCharCode(data & 255);
  if (typeof data === "boolean") return data ? "\x01" : "\x00";
  return String(data);
}

/**
 * What Storage.write stores for `data` (jswrap_storage_write, JSV_GET_AS_CHAR_ARRAY):
 * an object is written as its JSON (from offset 0), a number as one byte, a boolean as
 * 0 or 1; null and undefined are refused with the interpreter's words.
 */
function storageBytes(data: unknown, stringify: (v: unknown) => string | undefined): string {
  if (data === null) throw new TypeError("Expecting Number or iterable, got null");
  if (data === undefined) throw new Error("Can't get pointer to data to write");
  if (typeof data === "object" && !Array.isArray(data) && !ArrayBuffer.isView(data) && Object.prototype.toString.call(data) !== "[object ArrayBuffer]")
    return Buffer.from(stringify(data) ?? "", "utf8").toString("latin1");
  return toByteString(data);
}

export interface StorageModuleDeps {
  /** Copies a host value into the program's realm. */
  realm: Realm;
  makeUint8: (s: string) => Uint8Array;
  /** The realm's JSON.stringify (Espruino's dialect). */
  stringify: (v: unknown) => string | undefined;
}

/** The object firmware gets from `require("Storage")`. */
export function makeStorageModule(fs_: FlashStorage, deps: StorageModuleDeps) {
  const { realm, makeUint8 } = deps;
  return {
    read(name: unknown, offset?: number, length?: number): string | undefined {
      const v = fs_.get(String(name).slice(0, MAX_NAME));
      if (v === undefined) return undefined;
      const off = offset ?? 0;
      return length === undefined ? v.slice(off) : v.slice(off, off + length);
    },
    readArrayBuffer(name: unknown): ArrayBuffer | undefined {
      const v = fs_.get(String(name).slice(0, MAX_NAME));
      return v === undefined ? undefined : (makeUint8(v).buffer as ArrayBuffer);
    },
    /** Espruino's JSON parser (unquoted keys, \xHH, text after the value ignored); noExceptions gives undefined. */
    readJSON(name: unknown, noExceptions?: boolean): unknown {
      const v = fs_.get(String(name).slice(0, MAX_NAME));
      if (v === undefined) return undefined;
      try {
        return realm(parseEspruinoJSON(v));
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    write(name: unknown, data: unknown, offset?: number, size?: number): boolean {
      const isObject = data !== null && typeof data === "object" && !Array.isArray(data) && !ArrayBuffer.isView(data);
      const bytes = storageBytes(data, deps.stringify);
      return isObject ? fs_.write(name, bytes) : fs_.write(name, bytes, offset ?? 0, size ?? 0);
    },
    writeJSON(name: unknown, data: unknown): boolean {
      return fs_.write(name, espruinoJSON(data) ?? "");
    },
    erase(name: unknown): void {
      fs_.erase(name);
    },
    eraseAll(): void {
      fs_.eraseAll();
    },
    list(filter?: RegExp | string): string[] {
      let names = fs_.names();
      if (filter !== undefined) {
        const re = typeof filter === "string" ? new RegExp(filter) : new RegExp(filter.source, filter.flags);
        names = names.filter((n) => re.test(n));
      }
      return realm(names);
    },
    getFree(): number {
      return fs_.free();
    },
    getStats() {
      return realm({ totalBytes: fs_.capacity, freeBytes: fs_.free(), fileBytes: fs_.used(), fileCount: fs_.names().length, trashBytes: fs_.trashBytes(), trashCount: fs_.trashCount() });
    },
    compact(): void {
      fs_.compact();
    },
    debug(): void {},
  };
}
