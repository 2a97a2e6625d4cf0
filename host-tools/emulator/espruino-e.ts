/**
 * Espruino's `E` object for one program run: byte conversion and CRC
 * (espruino-api.ts has the pure functions), reboot, and the few board queries the
 * firmware may make. Rules and sources: docs/emulator.md.
 */
import { bytesToLatin1, crc32Of, gatherBytes } from "./espruino-api.ts";

export interface EDeps {
  /** A byte string as a Uint8Array of the program's realm. */
  toUint8: (s: string) => Uint8Array;
  /** Copies a host value into the program's realm. */
  realm: <T>(v: T) => T;
  /** The board's seeded random source (0..1). */
  rng: () => number;
  /** Ask the board to reboot once the current call returns. */
  reboot: () => void;
}

export function makeE(deps: EDeps) {
  return {
    toString: (...args: unknown[]) => bytesToLatin1(gatherBytes(args)),
    toUint8Array: (...args: unknown[]) => deps.toUint8(bytesToLatin1(gatherBytes(args))),
    CRC32: (data: unknown) => crc32Of(data),
    reboot: () => {
      deps.reboot();
    },
    getErrorFlags: () => deps.realm([]),
    getSizeOf: () => 1,
    getTemperature: () => 40,
    hwRand: () => Math.floor(deps.rng() * 0x7fffffff),
    on: () => {},
  };
}
