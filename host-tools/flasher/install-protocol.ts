/**
 * Installing an app into an Espruino board's Storage: the protocol `wisp flash` and
 * the `wisp web` page share. No Node imports: it runs in Node and in a browser.
 *
 * Order (the previous app stays bootable until the last step):
 *   1. wake the REPL; check process.env VERSION (>= minimum) and BOARD (when expected);
 *   2. check free Storage for the new files;
 *   3. write the app to a temporary Storage file in chunks, each an escaped JS
 *      string literal; at most `window` chunks are unacknowledged (flow control on
 *      top of the board's XON/XOFF);
 *   4. compare E.CRC32 of the temporary file with the host's CRC-32; a mismatch
 *      erases the temporary file and stops: `.bootcde` was never touched;
 *   5. same for the settings (`wisp.json`, via a temporary file);
 *   6. copy the verified temporary file over `.bootcde` in one statement, check
 *      its CRC again, erase the temporary files, `load()`.
 * An interruption before step 6 leaves the old `.bootcde` and `wisp.json` as they were.
 *
 * The REPL side (`InstallRepl`) frames commands and replies on the wire: `ReplSession`
 * below, over any byte link (the CLI's serialport through `EspruinoRepl`, the page's
 * Web Serial port).
 */


/** Longest a single write to the port may take (a 2 KB chunk at 9600 baud is ~2 s). */
const WRITE_STALL_MS = 15_000;
export const TMP_APP = ".wisp-app.new";
export const TMP_SETTINGS = ".wisp-cfg.new";
export const TMP_MODULE = ".wisp-mod.new";
export const BOOT_FILE = ".bootcde";
export const SETTINGS_FILE = "wisp.json";
export const MIN_VERSION = "2v00";

/** An install failure a user can act on; `code` names it (VERIFY_FAILED, STORAGE_FULL, ...). */
export class InstallError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An exception the board reported for a command. */
export class BoardReplyError extends InstallError {
  constructor(readonly boardMessage: string) {
    super(`the board reported: ${boardMessage}`, /not enough space|Not enough free space|Unable to find or create file|full/i.test(boardMessage) ? "STORAGE_FULL" : "BOARD_ERROR");
  }
}

export type FlashEvent =
  | { event: "board"; version: string; board: string; free: number }
  | { event: "start"; file: string; bytes: number; chunks: number }
  | { event: "progress"; file: string; bytes: number; total: number; bytesPerSecond: number }
  | { event: "verified"; file: string; crc32: number }
  | { event: "settings"; file: string; bytes: number }
  | { event: "boot"; file: string }
  | { event: "done"; bytes: number; seconds: number; bytesPerSecond: number };

export interface FlashOptions {
  /** App source (UTF-8). */
  app: string;
  /**
   * Storage modules the app requires on demand (Storage name -> source,
   * host-tools/device/app-modules.ts): each written and verified before the app.
   */
  modules?: Record<string, string>;
  /** Storage wisp.json content; undefined leaves the board's settings alone. */
  settings?: object;
  /** process.env.BOARD expected (e.g. "ESP32"); undefined skips the check. */
  expectBoard?: string;
  minVersion?: string;
  chunkSize?: number;
  /** Unacknowledged chunks allowed in flight. */
  window?: number;
  onEvent?: (e: FlashEvent) => void;
  /** Test hook: corrupt the data of this chunk index (0-based) on the wire. */
  corruptChunk?: number;
  /** Skip the final load() (leave the board at the REPL). */
  noReset?: boolean;
}

/** What the protocol needs from a REPL: queued commands with framed replies. */
export interface InstallRepl {
  wake(): Promise<{ VERSION: string; BOARD: string }>;
  post(expr: string): Promise<number>;
  reply(id: number, timeoutMs?: number, what?: string): Promise<unknown>;
  eval(expr: string, timeoutMs?: number, what?: string): Promise<unknown>;
  send(text: string): Promise<void>;
}

/** "2v24" -> comparable number (major*1000 + minor); NaN when unparsable. */
export function versionNumber(v: string): number {
  const m = /^(\d+)v(\d+)/.exec(v);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : NaN;
}

export { jsStringLiteral } from "../device/js-literal.ts";
import { jsStringLiteral } from "../device/js-literal.ts";

/** UTF-8 text as a byte string (one char per byte), as Storage holds it. */
export function utf8Bytes(text: string): string {
  const u = new TextEncoder().encode(text);
  let s = "";
  for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode(...u.subarray(i, i + 4096));
  return s;
}

/** CRC-32 of a byte string, as the board's E.CRC32 computes it. */
export { crc32OfByteString as crc32 } from "../device/crc32.ts";
import { crc32OfByteString as crc32 } from "../device/crc32.ts";

const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");
const isBoardReply = (e: unknown): e is Error & { boardMessage: string; code: string } => e instanceof Error && typeof (e as { boardMessage?: unknown }).boardMessage === "string";

async function writeChunked(repl: InstallRepl, file: string, bytes: string, opts: FlashOptions, report: boolean): Promise<void> {
  const size = opts.chunkSize ?? 256;
  const window = Math.max(1, opts.window ?? 2);
  const total = bytes.length;
  const chunks = Math.max(1, Math.ceil(total / size));
  const t0 = Date.now();
  if (report) opts.onEvent?.({ event: "start", file, bytes: total, chunks });
  const inflight: { id: number; end: number }[] = [];
  const settle = async () => {
    const c = inflight.shift()!;
    try {
      await repl.reply(c.id, 10_000, `acknowledgement of a chunk of ${file}`);
    } catch (e) {
      if (isBoardReply(e)) throw new BoardReplyError(`writing ${file} at byte ${c.end}: ${e.boardMessage}`);
      throw e;
    }
    if (report) {
      const s = (Date.now() - t0) / 1000;
      opts.onEvent?.({ event: "progress", file, bytes: c.end, total, bytesPerSecond: s > 0 ? Math.round(c.end / s) : 0 });
    }
  };
  for (let i = 0; i < chunks; i++) {
    const off = i * size;
    let part = bytes.slice(off, off + size);
    if (opts.corruptChunk === i && part.length > 0) part = String.fromCharCode(part.charCodeAt(0) ^ 0x20) + part.slice(1);
    const args = i === 0 ? `${jsStringLiteral(part)},0,${total}` : `${jsStringLiteral(part)},${off}`;
    if (inflight.length >= window) await settle();
    inflight.push({ id: await repl.post(`require("Storage").write(${JSON.stringify(file)},${args})`), end: Math.min(total, off + size) });
  }
  while (inflight.length) await settle();
}

async function boardCrc(repl: InstallRepl, file: string): Promise<number | null> {
  const v = await repl.eval(`(function(s){return s===undefined?null:E.CRC32(s)})(require("Storage").read(${JSON.stringify(file)}))`, 10_000, `CRC-32 of ${file}`);
  return typeof v === "number" ? v >>> 0 : null;
}

async function writeVerified(repl: InstallRepl, tmp: string, bytes: string, opts: FlashOptions, report: boolean): Promise<number> {
  await writeChunked(repl, tmp, bytes, opts, report);
  const want = crc32(bytes);
  const got = await boardCrc(repl, tmp);
  if (got !== want) {
    await repl.eval(`require("Storage").erase(${JSON.stringify(tmp)})`).catch(() => undefined);
    throw new InstallError(
      `verification failed for ${tmp}: board CRC-32 ${got === null ? "(file missing)" : hex(got)}, host ${hex(want)}; the upload was corrupted on the way (noisy cable? try a lower --baud or smaller --chunk). The previous app is untouched and still boots`,
      "VERIFY_FAILED",
    );
  }
  return want;
}

async function commit(repl: InstallRepl, tmp: string, dest: string, crc: number): Promise<void> {
  await repl.eval(`require("Storage").write(${JSON.stringify(dest)},require("Storage").read(${JSON.stringify(tmp)}))`, 10_000, `copy to ${dest}`);
  const got = await boardCrc(repl, dest);
  if (got !== crc) throw new InstallError(`${dest} does not match after the copy (CRC-32 ${got === null ? "missing" : hex(got)}, expected ${hex(crc)}); install again`, "VERIFY_FAILED");
  await repl.eval(`require("Storage").erase(${JSON.stringify(tmp)})`);
}

/** Run the whole install on an awake or sleeping REPL. Returns bytes written. */
export async function installApp(repl: InstallRepl, opts: FlashOptions): Promise<{ bytes: number; seconds: number }> {
  const t0 = Date.now();
  const env = await repl.wake();
  const min = opts.minVersion ?? MIN_VERSION;
  if (!(versionNumber(env.VERSION) >= versionNumber(min)))
    throw new InstallError(`Espruino ${env.VERSION} on the board is too old (wisp needs ${min} or later): update it with wisp flash-firmware`, "VERSION");
  if (opts.expectBoard && env.BOARD !== opts.expectBoard)
    throw new InstallError(
      `board mismatch: the config is for an Espruino ${opts.expectBoard} board, but the board on this port reports BOARD=${env.BOARD}; check --port and "board" in flash.config.json`,
      "BOARD_MISMATCH",
    );

  const app = utf8Bytes(opts.app);
  const settings = opts.settings === undefined ? undefined : utf8Bytes(JSON.stringify(opts.settings));
  const st = (await repl.eval(
    `{free:require("Storage").getFree(),trash:require("Storage").getStats().trashBytes,boot:(require("Storage").read(${JSON.stringify(BOOT_FILE)})||"").length,tmp:(require("Storage").read(${JSON.stringify(TMP_APP)})||"").length,cfg:(require("Storage").read(${JSON.stringify(SETTINGS_FILE)})||"").length}`,
  )) as { free: number; trash: number; boot: number; tmp: number; cfg: number };
  opts.onEvent?.({ event: "board", version: env.VERSION, board: env.BOARD, free: st.free });
  // temp app + (new .bootcde - old) + temp settings + (new wisp.json - old), with per-file headers
  const sl = settings?.length ?? 0;
  const modules = Object.entries(opts.modules ?? {}).map(([name, code]) => ({ name, bytes: utf8Bytes(code) }));
  // each module: a temporary copy and the file itself (old copies become trash)
  const ml = modules.reduce((n, m) => n + 2 * m.bytes.length + 2 * 64, 0);
  const need = ml + app.length + Math.max(0, app.length - st.boot) + sl + Math.max(0, sl - st.cfg) + 4 * 64 - st.tmp;
  // Old copies of rewritten files (every earlier upload leaves some) are trash that
  // getFree() does not count; a compact reclaims them (jsflash.c, jsfCompact), so
  // compact first rather than refuse a board that has the room.
  if (need > st.free && need <= st.free + st.trash) st.free = (await repl.eval(`(require("Storage").compact(),require("Storage").getFree())`, 60_000)) as number;
  if (need > st.free)
    throw new InstallError(
      `not enough free Storage on the board: the app (${app.length} B) needs about ${need} B while uploading, ${st.free} B are free. Erase unused files (require("Storage").list()) and run require("Storage").compact(), or make the app smaller`,
      "STORAGE_FULL",
    );

  try {
    // modules first: an app that finds them is never booted without them
    for (const m of modules) await commit(repl, TMP_MODULE, m.name, await writeVerified(repl, TMP_MODULE, m.bytes, { ...opts, corruptChunk: undefined }, false));
    const crc = await writeVerified(repl, TMP_APP, app, opts, true);
    opts.onEvent?.({ event: "verified", file: BOOT_FILE, crc32: crc });
    let cfgCrc = 0;
    if (settings !== undefined) cfgCrc = await writeVerified(repl, TMP_SETTINGS, settings, { ...opts, corruptChunk: undefined }, false);
    // point of no return: both new files are verified on the board
    await commit(repl, TMP_APP, BOOT_FILE, crc);
    if (settings !== undefined) {
      await commit(repl, TMP_SETTINGS, SETTINGS_FILE, cfgCrc);
      opts.onEvent?.({ event: "settings", file: SETTINGS_FILE, bytes: settings.length });
    }
  } catch (e) {
    if (isBoardReply(e) && e.code === "STORAGE_FULL")
      throw new InstallError(`Storage on the board is full (${e.boardMessage}); the previous app is untouched. Erase unused files and compact Storage`, "STORAGE_FULL");
    throw e;
  }
  if (!opts.noReset) {
    await repl.send("\x10load()\n");
    opts.onEvent?.({ event: "boot", file: BOOT_FILE });
  }
  const seconds = (Date.now() - t0) / 1000;
  const bytes = app.length + (settings?.length ?? 0) + modules.reduce((n, m) => n + m.bytes.length, 0);
  opts.onEvent?.({ event: "done", bytes, seconds, bytesPerSecond: Math.round(bytes / Math.max(seconds, 1e-3)) });
  return { bytes, seconds };
}

/** A byte link (one char per byte): a serial port, a Web Serial port, a pipe. */
export interface ByteLink {
  write(bytes: string): Promise<void>;
  /** Returns a function that stops the delivery. */
  onData(fn: (bytes: string) => void): () => void;
  /** Called once if the link goes away (port closed, cable unplugged). */
  onClose(fn: () => void): void;
}

/**
 * Commands and framed replies over a ByteLink (DESIGN.md, "Talking to an Espruino
 * board over serial"): every command is one DLE line, so the REPL does not echo it;
 * its reply is printed between markers (`@@W<n>:<json>@@`, `@@E<n>:<json>@@` for an
 * exception) built by concatenation on the board, so the marker is never in the
 * command text; XOFF/XON pause and resume our writes.
 */
export class ReplSession implements InstallRepl {
  private buf = "";
  private seq = 0;
  private paused = false;
  private waiters: (() => void)[] = [];
  private readonly stop: () => void;
  /** The link went away. */
  lost = false;

  constructor(
    readonly link: ByteLink,
    readonly opts: { replyTimeoutMs?: number } = {},
  ) {
    this.stop = link.onData((s) => {
      if (s.includes("\x13") || s.includes("\x11")) {
        let kept = "";
        for (const ch of s) {
          if (ch === "\x13") this.paused = true;
          else if (ch === "\x11") this.paused = false;
          else kept += ch;
        }
        s = kept;
      }
      this.buf += s;
      if (this.buf.length > 1 << 20) this.buf = this.buf.slice(-65536);
      this.notify();
    });
    link.onClose(() => {
      this.lost = true;
      this.notify();
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private nap(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.stop();
  }

  async send(text: string): Promise<void> {
    if (this.lost) throw new InstallError("the serial port went away (cable unplugged? board reset?)", "PORT_CLOSED");
    const until = Date.now() + (this.opts.replyTimeoutMs ?? 5000);
    while (this.paused) {
      if (Date.now() > until) throw new InstallError("the board sent XOFF and no XON in time", "FLOW_TIMEOUT");
      await this.nap(50);
    }
    // A port that goes away mid-write may never call back: bound the wait, so the
    // install ends with a clear error instead of hanging with nothing left to run.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${text.length} bytes not taken within ${WRITE_STALL_MS} ms`)), WRITE_STALL_MS);
    });
    try {
      await Promise.race([this.link.write(text), stalled]);
    } catch (e) {
      this.lost = true;
      throw new InstallError(`the serial port failed while writing (${(e as Error).message}): cable unplugged or board reset? Whatever was not verified was not made the boot code`, "PORT_CLOSED");
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drop whatever the board printed so far. */
  discard(): string {
    const b = this.buf;
    this.buf = "";
    return b;
  }

  async post(expr: string): Promise<number> {
    const n = ++this.seq;
    await this.send(`\x10try{print("@"+"@W${n}:"+JSON.stringify(${expr})+"@@")}catch(e){print("@"+"@E${n}:"+JSON.stringify(""+e)+"@@")}\n`);
    return n;
  }

  async reply(n: number, timeoutMs = this.opts.replyTimeoutMs ?? 5000, what = "reply"): Promise<unknown> {
    const re = new RegExp(`@@([WE])${n}:(.*?)@@`);
    const stop = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        let v: unknown;
        try {
          v = m[2] === "" || m[2] === "undefined" ? undefined : JSON.parse(m[2]);
        } catch {
          throw new InstallError(`garbled ${what} from the board: ${JSON.stringify(m[2].slice(0, 80))}`, "BAD_REPLY");
        }
        if (m[1] === "E") throw new BoardReplyError(String(v));
        return v;
      }
      if (this.lost) throw new InstallError(`the serial port went away while waiting for the ${what} (cable unplugged? board reset?); whatever was not verified was not made the boot code`, "PORT_CLOSED");
      const left = stop - Date.now();
      if (left <= 0) throw new InstallError(`no ${what} from the board within ${timeoutMs} ms`, "NO_REPLY");
      await this.nap(Math.min(left, 250));
    }
  }

  async eval(expr: string, timeoutMs?: number, what?: string): Promise<unknown> {
    return this.reply(await this.post(expr), timeoutMs, what);
  }

  /** Get the REPL's attention: Ctrl-C drops a half-typed line, then a probe must come back. */
  async wake(attempts = 3, timeoutMs = 1500): Promise<{ VERSION: string; BOARD: string }> {
    let last: Error | null = null;
    for (let i = 0; i < attempts; i++) {
      await this.send("\x03");
      await new Promise((r) => setTimeout(r, 50 + 100 * i));
      this.discard();
      try {
        const env = (await this.eval("{VERSION:process.env.VERSION,BOARD:process.env.BOARD}", timeoutMs, "REPL prompt")) as { VERSION?: unknown; BOARD?: unknown } | null;
        if (env && typeof env.VERSION === "string") return env as { VERSION: string; BOARD: string };
        last = new Error("process.env has no VERSION");
      } catch (e) {
        if (e instanceof InstallError && e.code === "PORT_CLOSED") throw e;
        last = e as Error;
      }
    }
    throw new InstallError(
      `no Espruino REPL prompt: the board did not answer a probe (${last?.message}). Is it running Espruino, at this baud rate? Press its reset button or power-cycle it, close other programs using the port, or flash the interpreter with \`wisp flash-firmware\``,
      "NO_PROMPT",
    );
  }
}
