/**
 * An emulated ESP32 ROM bootloader (serial download mode) on a byte stream, for
 * testing `wisp flash-firmware` without hardware.
 *
 * Wire format (Espressif's documented serial protocol): SLIP frames (0xC0 ends,
 * 0xDB 0xDC / 0xDB 0xDD escape 0xC0 / 0xDB). A command is
 *   [0x00, op, size u16le, checksum u32le, data...]
 * a response
 *   [0x01, op, size u16le, value u32le, data..., status, error, 0, 0]
 * (four status bytes, as the ESP32 ROM sends). Implemented: SYNC (answered 8
 * times, as the ROM does), READ_REG (the chip-detect magic register reads
 * 0x00F01D83 = ESP32), WRITE_REG, SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE
 * (acknowledged), FLASH_BEGIN (erase), FLASH_DATA (sequence and checksum
 * checked), FLASH_END, SPI_FLASH_MD5 (32 ASCII hex digits, as the ROM answers).
 * Anything else gets status 1 / error 0x05 ("invalid message").
 */
import crypto from "node:crypto";

export const ESP32_MAGIC = 0x00f01d83;
export const CHIP_DETECT_MAGIC_REG = 0x40001000;
const CHECKSUM_MAGIC = 0xef;

export interface RomOptions {
  flashBytes?: number;
  /** Fault injection: corrupt flash at this offset after the FLASH_DATA that covers it (the ROM still acknowledges). */
  corruptAt?: number;
}

export interface RomLogEntry {
  op: number;
  name: string;
  status: number;
}

const NAMES: Record<number, string> = {
  0x02: "FLASH_BEGIN", 0x03: "FLASH_DATA", 0x04: "FLASH_END", 0x08: "SYNC", 0x09: "WRITE_REG", 0x0a: "READ_REG",
  0x0b: "SPI_SET_PARAMS", 0x0d: "SPI_ATTACH", 0x0f: "CHANGE_BAUDRATE", 0x13: "SPI_FLASH_MD5", 0x14: "GET_SECURITY_INFO",
};

export function slipEncode(pkt: Uint8Array): Buffer {
  const out: number[] = [0xc0];
  for (const b of pkt) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return Buffer.from(out);
}

export class EmulatedRom {
  readonly flash: Buffer;
  readonly log: RomLogEntry[] = [];
  private frame: number[] | null = null;
  private esc = false;
  private write: { offset: number; blockSize: number; blocks: number; nextSeq: number } | null = null;
  finished: { reboot: boolean } | null = null;

  constructor(
    private readonly send: (b: Buffer) => void,
    private readonly opts: RomOptions = {},
  ) {
    this.flash = Buffer.alloc(opts.flashBytes ?? 4 * 1024 * 1024, 0xff);
  }

  /** Bytes from the host. */
  input(data: Uint8Array): void {
    for (const b of data) {
      if (b === 0xc0) {
        if (this.frame && this.frame.length > 0) this.packet(Buffer.from(this.frame));
        this.frame = [];
        this.esc = false;
        continue;
      }
      if (!this.frame) continue; // noise between frames
      if (this.esc) {
        this.frame.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b);
        this.esc = false;
      } else if (b === 0xdb) this.esc = true;
      else this.frame.push(b);
    }
  }

  private reply(op: number, value: number, data: Uint8Array = new Uint8Array(0), status = 0, error = 0): void {
    const body = Buffer.concat([Buffer.from(data), Buffer.from([status, error, 0, 0])]);
    const head = Buffer.alloc(8);
    head[0] = 0x01;
    head[1] = op;
    head.writeUInt16LE(body.length, 2);
    head.writeUInt32LE(value >>> 0, 4);
    this.send(slipEncode(Buffer.concat([head, body])));
    this.log.push({ op, name: NAMES[op] ?? `0x${op.toString(16)}`, status });
  }

  private packet(p: Buffer): void {
    if (p.length < 8 || p[0] !== 0x00) return;
    const op = p[1];
    const size = p.readUInt16LE(2);
    const chk = p.readUInt32LE(4);
    const data = p.subarray(8, 8 + size);
    if (data.length !== size) return this.reply(op, 0, undefined, 1, 0x05);
    const u32 = (i: number) => data.readUInt32LE(i * 4);
    switch (op) {
      case 0x08: // SYNC: 07 07 12 20 + 32 x 0x55
        if (size !== 36 || data[0] !== 0x07 || data[1] !== 0x07 || data[2] !== 0x12 || data[3] !== 0x20) return;
        for (let i = 0; i < 8; i++) this.reply(op, 0x20120707);
        return;
      case 0x0a: // READ_REG
        return this.reply(op, u32(0) === CHIP_DETECT_MAGIC_REG ? ESP32_MAGIC : 0);
      case 0x09:
      case 0x0b:
      case 0x0d:
      case 0x0f:
        return this.reply(op, 0);
      case 0x02: {
        // FLASH_BEGIN: erase size, blocks, block size, offset
        const [eraseSize, blocks, blockSize, offset] = [u32(0), u32(1), u32(2), u32(3)];
        if (offset + eraseSize > this.flash.length) return this.reply(op, 0, undefined, 1, 0x06);
        this.flash.fill(0xff, offset, offset + eraseSize);
        this.write = { offset, blockSize, blocks, nextSeq: 0 };
        this.finished = null;
        return this.reply(op, 0);
      }
      case 0x03: {
        // FLASH_DATA: length, seq, 0, 0, payload; checksum over the payload
        const w = this.write;
        if (!w) return this.reply(op, 0, undefined, 1, 0x06);
        const len = u32(0);
        const seq = u32(1);
        const payload = data.subarray(16, 16 + len);
        let sum = CHECKSUM_MAGIC;
        for (const b of payload) sum ^= b;
        if (payload.length !== len || sum !== chk) return this.reply(op, 0, undefined, 1, 0x07);
        if (seq !== w.nextSeq) return this.reply(op, 0, undefined, 1, 0x05);
        const at = w.offset + seq * w.blockSize;
        const n = Math.min(payload.length, this.flash.length - at);
        Buffer.from(payload.subarray(0, n)).copy(this.flash, at);
        const c = this.opts.corruptAt;
        if (c !== undefined && c >= at && c < at + n) this.flash[c] ^= 0x01;
        w.nextSeq++;
        return this.reply(op, 0);
      }
      case 0x04: // FLASH_END: 0 = reboot, 1 = stay in the loader
        this.finished = { reboot: size >= 4 ? u32(0) === 0 : true };
        this.write = null;
        return this.reply(op, 0);
      case 0x13: {
        // SPI_FLASH_MD5: address, size, 0, 0 -> 32 ASCII hex digits
        const [addr, len] = [u32(0), u32(1)];
        if (addr + len > this.flash.length) return this.reply(op, 0, undefined, 1, 0x06);
        const md5 = crypto.createHash("md5").update(this.flash.subarray(addr, addr + len)).digest("hex");
        return this.reply(op, 0, Buffer.from(md5, "ascii"));
      }
      default:
        return this.reply(op, 0, undefined, 1, 0x05);
    }
  }
}
