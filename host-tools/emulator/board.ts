/**
 * The emulator's view of a board description. Boards are loaded and checked in
 * host-tools/device/board.ts (shared with the flasher); this module keeps the
 * emulator's modules importing `./board.ts` as before.
 */
export * from "../device/board.ts";
