/**
 * `wisp flash-firmware` (esptool-js over the serialport adapter) against an
 * emulated ESP32 ROM bootloader on a socat pty: sync, chip detect, flash
 * begin/data/end, MD5 check; and a flash fault caught by the MD5.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { test } from "node:test";
import { openPtyPair, openSerialEnd } from "../../host-tools/emulator/pty.ts";
import { flashFirmware } from "../../host-tools/flasher/firmware.ts";
import { EmulatedRom } from "../doubles/rom-emulator.ts";
import { skipUnless } from "../helpers/system-deps.ts";

async function withRom<T>(opts: ConstructorParameters<typeof EmulatedRom>[1], fn: (rom: EmulatedRom, hostPath: string) => Promise<T>) {
  const pair = await openPtyPair();
  const end = openSerialEnd(pair.boardPath);
  const rom = new EmulatedRom((b) => end.write(b.toString("latin1")), opts);
  end.onData((d) => rom.input(Buffer.from(d, "latin1")));
  try {
    return await fn(rom, pair.hostPath);
  } finally {
    end.close();
    await pair.close();
  }
}

const image = crypto.randomBytes(40_000 + 3); // not a multiple of 4 or of the block size
image[0] = 0xe9; // image magic

test("flash-firmware writes an image through the emulated ESP32 ROM and verifies its MD5", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  await withRom({}, async (rom, hostPath) => {
    const events: any[] = [];
    const r = await flashFirmware({ port: hostPath, image, address: 0x1000, before: "no_reset", onEvent: (e) => events.push(e) });
    assert.equal(r.chip, "ESP32");
    assert.deepEqual(rom.flash.subarray(0x1000, 0x1000 + image.length), image);
    assert.equal(rom.flash[0x1000 + image.length], 0xff);
    const ops = rom.log.map((l) => l.name);
    for (const op of ["SYNC", "READ_REG", "FLASH_BEGIN", "FLASH_DATA", "FLASH_END", "SPI_FLASH_MD5"]) assert.ok(ops.includes(op), `${op} in ${[...new Set(ops)]}`);
    assert.ok(rom.log.filter((l) => l.name === "FLASH_DATA").every((l) => l.status === 0));
    assert.deepEqual(rom.finished, { reboot: false });
    assert.equal(events[0].event, "chip");
    const prog = events.filter((e) => e.event === "progress");
    assert.equal(prog.at(-1).bytes, prog.at(-1).total);
    assert.equal(events.at(-1).event, "verified");
  });
});

test("flash-firmware: a byte flipped in flash is caught by the MD5 check", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  await withRom({ corruptAt: 0x1000 + 20_000 }, async (_rom, hostPath) => {
    await assert.rejects(flashFirmware({ port: hostPath, image, address: 0x1000, before: "no_reset" }), (e: any) => e.code === "VERIFY_FAILED" && /MD5 mismatch/.test(e.message));
  });
});

test("flash-firmware: nothing answering is a clear error", { timeout: 60_000, skip: skipUnless("socat") }, async () => {
  const pair = await openPtyPair();
  try {
    await assert.rejects(flashFirmware({ port: pair.hostPath, image, address: 0x1000, before: "no_reset" }), (e: any) => e.code === "NO_BOOTLOADER" && /download mode/.test(e.message));
  } finally {
    await pair.close();
  }
});

test("wisp flash-firmware CLI: --json events, and --bin is required", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  const { runFlashFirmware } = await import("../../host-tools/flasher/firmware.ts");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-fw-"));
  const bin = path.join(dir, "espruino.bin");
  fs.writeFileSync(bin, image);
  try {
    const lines: string[] = [];
    assert.equal(await runFlashFirmware(["--port", "/dev/x"], { out: (l) => lines.push(l) }), 1);
    assert.match(lines[0], /--bin <image\.bin> is required/);
    await withRom({}, async (rom, hostPath) => {
      const out: string[] = [];
      const code = await runFlashFirmware(["--port", hostPath, "--bin", bin, "--address", "0x10000", "--before", "no_reset", "--json"], { out: (l) => out.push(l) });
      assert.equal(code, 0, out.join("\n"));
      const ev = out.map((l) => JSON.parse(l));
      assert.deepEqual([ev[0].event, ev.at(-2).event, ev.at(-1).event], ["chip", "verified", "done"]);
      assert.deepEqual(rom.flash.subarray(0x10000, 0x10000 + image.length), image);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
