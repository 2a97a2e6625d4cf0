/**
 * `wisp flash`'s upload: the shared install protocol (`install-protocol.ts`, no Node
 * imports, also run by the `wisp web` page) over the CLI's serialport REPL; its
 * failures are the CLI's FlashError (the same class), with the same codes and messages.
 */
import type { EspruinoRepl } from "./espruino.ts";
import { installApp, type FlashOptions } from "./install-protocol.ts";

export { BOOT_FILE, MIN_VERSION, SETTINGS_FILE, TMP_APP, TMP_SETTINGS, type FlashEvent, type FlashOptions } from "./install-protocol.ts";

/** Run the whole upload on an awake or sleeping REPL. Returns bytes written. */
export async function flashApp(repl: EspruinoRepl, opts: FlashOptions): Promise<{ bytes: number; seconds: number }> {
  return installApp(repl, opts);
}
