/**
 * Upload an app and its settings into an Espruino board's Storage.
 *
 * Order (the previous app stays bootable until the last step):
 *   1. wake the REPL; check process.env VERSION (>= minimum) and BOARD (the config's board);
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
 */
import zlib from "node:zlib";
import { BoardError, EspruinoRepl, jsStringLiteral, versionNumber } from "./espruino.ts";
import { FlashError } from "./serial.ts";

export const TMP_APP = ".wisp-app.new";
export const TMP_SETTINGS = ".wisp-cfg.new";
export const BOOT_FILE = ".bootcde";
export const SETTINGS_FILE = "wisp.json";
export const MIN_VERSION = "2v00";

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

const toBytes = (utf8: string) => Buffer.from(utf8, "utf8").toString("latin1");
const crc32 = (bytes: string) => zlib.crc32(Buffer.from(bytes, "latin1")) >>> 0;

async function writeChunked(
  repl: EspruinoRepl,
  file: string,
  bytes: string,
  opts: FlashOptions,
  report: boolean,
): Promise<void> {
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
      if (e instanceof BoardError) throw new BoardError(`writing ${file} at byte ${c.end}: ${e.boardMessage}`);
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

async function boardCrc(repl: EspruinoRepl, file: string): Promise<number | null> {
  const v = await repl.eval(`(function(s){return s===undefined?null:E.CRC32(s)})(require("Storage").read(${JSON.stringify(file)}))`, 10_000, `CRC-32 of ${file}`);
  return typeof v === "number" ? v >>> 0 : null;
}

async function writeVerified(repl: EspruinoRepl, tmp: string, bytes: string, opts: FlashOptions, report: boolean): Promise<number> {
  await writeChunked(repl, tmp, bytes, opts, report);
  const want = crc32(bytes);
  const got = await boardCrc(repl, tmp);
  if (got !== want) {
    await repl.eval(`require("Storage").erase(${JSON.stringify(tmp)})`).catch(() => undefined);
    throw new FlashError(
      `verification failed for ${tmp}: board CRC-32 ${got === null ? "(file missing)" : hex(got)}, host ${hex(want)}; the upload was corrupted on the way (noisy cable? try a lower --baud or smaller --chunk). The previous app is untouched and still boots`,
      "VERIFY_FAILED",
    );
  }
  return want;
}

const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");

async function commit(repl: EspruinoRepl, tmp: string, dest: string, crc: number): Promise<void> {
  await repl.eval(`require("Storage").write(${JSON.stringify(dest)},require("Storage").read(${JSON.stringify(tmp)}))`, 10_000, `copy to ${dest}`);
  const got = await boardCrc(repl, dest);
  if (got !== crc) throw new FlashError(`${dest} does not match after the copy (CRC-32 ${got === null ? "missing" : hex(got)}, expected ${hex(crc)}); run wisp flash again`, "VERIFY_FAILED");
  await repl.eval(`require("Storage").erase(${JSON.stringify(tmp)})`);
}

/** Run the whole upload on an awake or sleeping REPL. Returns bytes written. */
export async function flashApp(repl: EspruinoRepl, opts: FlashOptions): Promise<{ bytes: number; seconds: number }> {
  const t0 = Date.now();
  const env = await repl.wake();
  const min = opts.minVersion ?? MIN_VERSION;
  if (!(versionNumber(env.VERSION) >= versionNumber(min)))
    throw new FlashError(`Espruino ${env.VERSION} on the board is too old (wisp needs ${min} or later): update it with wisp flash-firmware`, "VERSION");
  if (opts.expectBoard && env.BOARD !== opts.expectBoard)
    throw new FlashError(`board mismatch: the config is for an Espruino ${opts.expectBoard} board, but the board on this port reports BOARD=${env.BOARD}; check --port and "board" in flash.config.json`, "BOARD_MISMATCH");

  const app = toBytes(opts.app);
  const settings = opts.settings === undefined ? undefined : toBytes(JSON.stringify(opts.settings));
  const st = (await repl.eval(
    `{free:require("Storage").getFree(),boot:(require("Storage").read(${JSON.stringify(BOOT_FILE)})||"").length,tmp:(require("Storage").read(${JSON.stringify(TMP_APP)})||"").length,cfg:(require("Storage").read(${JSON.stringify(SETTINGS_FILE)})||"").length}`,
  )) as { free: number; boot: number; tmp: number; cfg: number };
  opts.onEvent?.({ event: "board", version: env.VERSION, board: env.BOARD, free: st.free });
  // temp app + (new .bootcde - old) + temp settings + (new wisp.json - old), with per-file headers
  const sl = settings?.length ?? 0;
  const need = app.length + Math.max(0, app.length - st.boot) + sl + Math.max(0, sl - st.cfg) + 4 * 64 - st.tmp;
  if (need > st.free)
    throw new FlashError(
      `not enough free Storage on the board: the app (${app.length} B) needs about ${need} B while uploading, ${st.free} B are free. Erase unused files (require("Storage").list()) and run require("Storage").compact(), or make the app smaller`,
      "STORAGE_FULL",
    );

  try {
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
    if (e instanceof BoardError && e.code === "STORAGE_FULL")
      throw new FlashError(`Storage on the board is full (${e.boardMessage}); the previous app is untouched. Erase unused files and compact Storage`, "STORAGE_FULL");
    throw e;
  }
  if (!opts.noReset) {
    await repl.send("\x10load()\n");
    opts.onEvent?.({ event: "boot", file: BOOT_FILE });
  }
  const seconds = (Date.now() - t0) / 1000;
  const bytes = app.length + (settings?.length ?? 0);
  opts.onEvent?.({ event: "done", bytes, seconds, bytesPerSecond: Math.round(bytes / Math.max(seconds, 1e-3)) });
  return { bytes, seconds };
}
