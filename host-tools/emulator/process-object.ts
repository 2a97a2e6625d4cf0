/**
 * Espruino's `process` object for one program run: `process.env` describing the
 * emulated board and `process.memory()` (shaped as jswrap_process.c does; the block
 * figures come from memory.ts through the board).
 */
import type { BoardConfig } from "./board.ts";

export interface ProcessDeps {
  config: BoardConfig;
  /** Module names `require` offers (process.env.MODULES). */
  modules: string[];
  /** process.memory(gc): the board's report. */
  memory: (gc: boolean) => Record<string, unknown>;
  /** Copies a host value into the program's realm. */
  realm: <T>(v: T) => T;
}

export function makeProcess(deps: ProcessDeps) {
  const cfg = deps.config;
  return {
    // a host object: the board moves it into the program's realm once the realm exists
    env: {
      VERSION: cfg.espruino.version,
      GIT_COMMIT: "wisp-emulator",
      BOARD: cfg.espruino.board,
      RAM: cfg.ram.variables * cfg.ram.blockBytes,
      FLASH: cfg.storage.bytes,
      STORAGE: cfg.storage.bytes,
      SERIAL: "wisp-emu-" + cfg.id,
      CONSOLE: "Serial1",
      MODULES: deps.modules.join(","),
      EXPTR: 0,
    } as Record<string, unknown>,
    memory: (gc?: unknown) => deps.realm(deps.memory(gc === undefined || !!gc)),
    version: cfg.espruino.version,
  };
}
