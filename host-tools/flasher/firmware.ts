/**
 * `wisp flash-firmware`: write an Espruino interpreter image to an ESP32 through
 * its ROM bootloader, with esptool-js driving the protocol over the Node
 * serialport adapter. Steps: connect and sync, detect the chip (must be an
 * ESP32), FLASH_BEGIN/FLASH_DATA per block with progress, FLASH_END, then compare
 * the ROM's MD5 of the written region with the host's.
 *
 * The flasher stub is not uploaded: the ROM's own commands suffice and keep the
 * path testable against the emulated ROM (test/doubles/rom-emulator.ts).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { ESPLoader, Transport } from "esptool-js";
import { FlashError } from "./serial.ts";
import { WebSerialAdapter } from "./webserial-adapter.ts";

export const FIRMWARE_USAGE = `usage: wisp flash-firmware --port P --bin IMAGE [options]

  --port P           serial port of the ESP32 (see wisp ports)
  --bin FILE         image to write (e.g. espruino_2v24_esp32.bin, a merged image at 0x0, or the app part)
  --address A        flash offset (default 0x1000 for a merged bootloader+partitions+app image, write 0x0 for a full dump)
  --baud N           baud rate (default 115200)
  --before MODE      default_reset (toggle DTR/RTS into the bootloader) or no_reset (already in download mode)
  --json             one JSON object per line
  -h, --help         this text
`;

export interface FirmwareOptions {
  port: string;
  image: Uint8Array;
  address: number;
  baud?: number;
  before?: "default_reset" | "no_reset";
  onEvent?: (e: Record<string, unknown>) => void;
}

/** Write `image` at `address`; resolves with the chip name and MD5. */
export async function flashFirmware(o: FirmwareOptions): Promise<{ chip: string; md5: string; bytes: number }> {
  const device = new WebSerialAdapter(o.port);
  const transport = new Transport(device as unknown as ConstructorParameters<typeof Transport>[0], false);
  const quiet = { clean() {}, writeLine() {}, write() {} };
  const loader = new ESPLoader({ transport, baudrate: o.baud ?? 115200, romBaudrate: o.baud ?? 115200, terminal: quiet });
  const ev = o.onEvent ?? (() => {});
  try {
    try {
      await loader.detectChip(o.before ?? "default_reset", 3);
    } catch (e) {
      if (e instanceof FlashError) throw e;
      throw new FlashError(
        `no ESP32 ROM bootloader answered on ${o.port} (${(e as Error).message}): hold BOOT (GPIO0) while pressing EN/RESET to enter download mode, or check the cable and port`,
        "NO_BOOTLOADER",
      );
    }
    const chip = loader.chip.CHIP_NAME;
    ev({ event: "chip", chip });
    if (chip !== "ESP32") throw new FlashError(`this is an ${chip}, not an ESP32: wisp's boards and Espruino image are for the ESP32`, "CHIP_MISMATCH");
    const padded = new Uint8Array(Math.ceil(o.image.length / 4) * 4).fill(0xff);
    padded.set(o.image);
    const t0 = Date.now();
    await loader.writeFlash({
      fileArray: [{ data: padded, address: o.address }],
      flashSize: "keep",
      flashMode: "keep",
      flashFreq: "keep",
      eraseAll: false,
      compress: false,
      reportProgress: (_i: number, written: number, total: number) => {
        const s = (Date.now() - t0) / 1000;
        ev({ event: "progress", bytes: written, total, bytesPerSecond: s > 0 ? Math.round(written / s) : 0 });
      },
    });
    await loader.flashFinish(false);
    // MD5 of the region as the ROM computes it: 32 ASCII hex digits (a stub would send 16 raw bytes)
    const pkt = new Uint8Array(16);
    const dv = new DataView(pkt.buffer);
    dv.setUint32(0, o.address, true);
    dv.setUint32(4, padded.length, true);
    const res = (await loader.checkCommand("calculate md5sum", loader.ESP_SPI_FLASH_MD5, pkt, undefined, 32, 10_000)) as Uint8Array;
    const got = Buffer.from(res).toString("ascii").toLowerCase();
    const want = crypto.createHash("md5").update(padded).digest("hex");
    if (got !== want) throw new FlashError(`MD5 mismatch after writing: flash ${got}, image ${want}; the flash is not a faithful copy, write it again (lower --baud)`, "VERIFY_FAILED");
    ev({ event: "verified", md5: want });
    return { chip, md5: want, bytes: padded.length };
  } finally {
    await transport.disconnect().catch(() => undefined);
  }
}

export async function runFlashFirmware(argv: string[], io: { out?: (l: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  let port = process.env.WISP_PORT;
  let bin: string | undefined;
  let address = 0x1000;
  let baud = 115200;
  let before: "default_reset" | "no_reset" = "default_reset";
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? "";
    if (k === "--port") port = v();
    else if (k === "--bin") bin = v();
    else if (k === "--address") address = Number(v());
    else if (k === "--baud") baud = Number(v());
    else if (k === "--before") before = v() === "no_reset" ? "no_reset" : "default_reset";
    else if (k === "--json") json = true;
    else if (k === "-h" || k === "--help") {
      out(FIRMWARE_USAGE);
      return 0;
    } else {
      out(`wisp flash-firmware: unknown option ${k}\n\n${FIRMWARE_USAGE}`);
      return 2;
    }
  }
  const fail = (code: string, message: string) => {
    out(json ? JSON.stringify({ event: "error", code, message }) : `wisp flash-firmware: ${message}`);
    return 1;
  };
  if (!bin) return fail("USAGE", "--bin <image.bin> is required");
  if (!Number.isInteger(address) || address < 0) return fail("USAGE", `--address must be a non-negative integer (e.g. 0x1000)`);
  let image: Uint8Array;
  try {
    image = fs.readFileSync(bin);
  } catch (e) {
    return fail("NO_IMAGE", `cannot read ${bin}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let last = 0;
  try {
    const r = await flashFirmware({
      port: port ?? "",
      image,
      address,
      baud,
      before,
      onEvent: (e) => {
        if (json) return out(JSON.stringify(e));
        if (e.event === "chip") out(`chip: ${e.chip}`);
        else if (e.event === "progress") {
          const pct = Math.floor((100 * (e.bytes as number)) / Math.max(1, e.total as number));
          if (pct >= last + 10 || e.bytes === e.total) {
            last = pct;
            out(`writing at 0x${address.toString(16)}: ${pct}% (${e.bytes}/${e.total} B, ${e.bytesPerSecond} B/s)`);
          }
        } else if (e.event === "verified") out(`verified: MD5 ${e.md5}`);
      },
    });
    if (!json) out(`done: ${r.bytes} B written to the ${r.chip} at 0x${address.toString(16)}; press reset to boot it`);
    else out(JSON.stringify({ event: "done", ...r }));
    return 0;
  } catch (e) {
    if (e instanceof FlashError) return fail(e.code, e.message);
    return fail("INTERNAL", (e as Error).message);
  }
}
