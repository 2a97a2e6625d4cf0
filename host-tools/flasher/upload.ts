/**
 * `wisp flash`'s upload: the shared install protocol (`install-protocol.ts`, no Node
 * imports, also run by the `wisp web` page) over the CLI's serialport REPL, with its
 * failures reported as the CLI's FlashError (same codes and messages).
 */
import { BoardError, type EspruinoRepl } from "./espruino.ts";
import { BoardReplyError, installApp, InstallError, type FlashOptions } from "./install-protocol.ts";
import { FlashError } from "./serial.ts";

export { BOOT_FILE, MIN_VERSION, SETTINGS_FILE, TMP_APP, TMP_SETTINGS, type FlashEvent, type FlashOptions } from "./install-protocol.ts";

/** Run the whole upload on an awake or sleeping REPL. Returns bytes written. */
export async function flashApp(repl: EspruinoRepl, opts: FlashOptions): Promise<{ bytes: number; seconds: number }> {
  try {
    return await installApp(repl, opts);
  } catch (e) {
    if (e instanceof BoardReplyError) throw new BoardError(e.boardMessage);
    if (e instanceof InstallError) throw new FlashError(e.message, e.code);
    throw e;
  }
}
