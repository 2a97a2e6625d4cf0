/**
 * Flash Storage: Espruino's `require("Storage")`, persisted to one JSON file per
 * emulated board (`{ "files": { "<name>": "<base64 bytes>" } }`), written after
 * every change so it survives deep sleep, reboot and emulator restarts.
 *
 * Semantics follow Espruino: names are at most 28 characters; `write(name, data)`
 * replaces a file; `write(name, data, offset, size)` with `size` creates a file of
 * `size` bytes (0xFF-filled, as erased flash) and writes the first chunk at
 * `offset`; later chunks give `offset` into the existing file and must fit in it.
 * `read` returns a byte string or undefined. Space is accounted as file size
 * rounded up to 4 bytes plus a 32-byte header per file.
 */
import fs from "node:fs";
import path from "node:path";

export const MAX_NAME = 28;
const HEADER = 32;

export class FlashStorage {
  private files = new Map<string, string>(); // byte strings
  constructor(
    readonly file: string | null,
    readonly capacity: number,
  ) {
    if (file && fs.existsSync(file)) {
      let data: { files?: Record<string, string> };
      try {
        data = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        throw new Error(`storage file ${file} is not valid JSON: ${(e as Error).message}`);
      }
      for (const [k, v] of Object.entries(data.files ?? {})) this.files.set(k, Buffer.from(v, "base64").toString("latin1"));
    }
  }

  private persist(): void {
    if (!this.file) return;
    const out: Record<string, string> = {};
    for (const [k, v] of this.files) out[k] = Buffer.from(v, "latin1").toString("base64");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = this.file + ".tmp";
    fs.writeFileSync(tmp, JSON.stringify({ files: out }, null, 1));
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
    for (const v of this.files.values()) n += HEADER + ((v.length + 3) & ~3);
    return n;
  }
  free(): number {
    return this.capacity - this.used();
  }

  private checkName(name: unknown): string {
    if (typeof name !== "string" || name.length === 0) throw new Error("Storage: file name must be a non-empty string");
    if (name.length > MAX_NAME) throw new Error(`Storage: file name "${name}" is longer than ${MAX_NAME} characters`);
    return name;
  }

  /** Espruino `write(name, data, offset?, size?)`. */
  write(nameIn: unknown, data: string, offset?: number, size?: number): boolean {
    const name = this.checkName(nameIn);
    let content: string;
    if (offset === undefined && size === undefined) {
      content = data;
    } else {
      const off = offset ?? 0;
      if (!Number.isInteger(off) || off < 0) throw new Error(`Storage.write("${name}"): offset must be an integer >= 0`);
      let base = this.files.get(name);
      if (size !== undefined && (off === 0 || base === undefined)) {
        if (!Number.isInteger(size) || size < 0) throw new Error(`Storage.write("${name}"): size must be an integer >= 0`);
        base = "\xff".repeat(size);
      }
      if (base === undefined) throw new Error(`Storage.write("${name}"): offset ${off} given but the file does not exist (give the total size with the first chunk)`);
      if (off + data.length > base.length)
        throw new Error(`Storage.write("${name}"): chunk at ${off}+${data.length} runs past the file size ${base.length}`);
      content = base.slice(0, off) + data + base.slice(off + data.length);
    }
    const old = this.files.get(name);
    const growth = HEADER + ((content.length + 3) & ~3) - (old === undefined ? 0 : HEADER + ((old.length + 3) & ~3));
    if (growth > this.free()) throw new Error(`Storage: not enough space for "${name}" (${content.length} bytes, ${this.free()} free)`);
    this.files.set(name, content);
    this.persist();
    return true;
  }

  erase(nameIn: unknown): void {
    const name = this.checkName(nameIn);
    if (this.files.delete(name)) this.persist();
  }
  eraseAll(): void {
    this.files.clear();
    this.persist();
  }
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
  return String(data);
}

/** The object firmware gets from `require("Storage")`. */
export function makeStorageModule(fs_: FlashStorage, realm: Realm, makeUint8: (s: string) => Uint8Array) {
  return {
    read(name: string, offset?: number, length?: number): string | undefined {
      const v = fs_.get(name);
      if (v === undefined) return undefined;
      const off = offset ?? 0;
      return length === undefined ? v.slice(off) : v.slice(off, off + length);
    },
    readArrayBuffer(name: string): ArrayBuffer | undefined {
      const v = fs_.get(name);
      return v === undefined ? undefined : makeUint8(v).buffer as ArrayBuffer;
    },
    readJSON(name: string, noExceptions?: boolean): unknown {
      const v = fs_.get(name);
      if (v === undefined) return undefined;
      try {
        return realm(JSON.parse(Buffer.from(v, "latin1").toString("utf8")));
      } catch (e) {
        if (noExceptions) return undefined;
        throw new SyntaxError(`Storage.readJSON("${name}"): ${(e as Error).message}`);
      }
    },
    write(name: string, data: unknown, offset?: number, size?: number): boolean {
      return fs_.write(name, toByteString(data), offset, size);
    },
    writeJSON(name: string, data: unknown): boolean {
      return fs_.write(name, Buffer.from(JSON.stringify(data), "utf8").toString("latin1"));
    },
    erase(name: string): void {
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
      return realm({ totalBytes: fs_.capacity, freeBytes: fs_.free(), fileBytes: fs_.used(), fileCount: fs_.names().length, trashBytes: 0, trashCount: 0 });
    },
    compact(): void {},
    debug(): void {},
  };
}
