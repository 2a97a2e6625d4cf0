/**
 * Talking to an Espruino REPL over a serial link (DESIGN.md, "Talking to an
 * Espruino board over serial"):
 *   - every command is one line starting with DLE (0x10), so the REPL does not echo it;
 *   - each command prints a reply framed by a marker the host can find in the
 *     stream (`@@W<n>:<json>@@`, or `@@E<n>:<json>@@` for an exception), built by
 *     string concatenation on the board so the marker never appears in the
 *     command text itself;
 *   - data travels only inside escaped JS string literals: no raw control bytes;
 *   - XOFF/XON from the board pause/resume our writes.
 */
import type { SerialPort } from "serialport";
import { FlashError } from "./serial.ts";

/** A byte link: what the flasher needs from a serial port. */
export interface Link {
  write(bytes: Buffer): Promise<void>;
  onData(fn: (b: Buffer) => void): void;
  offData(fn: (b: Buffer) => void): void;
  /** Called once if the link goes away (port closed, cable unplugged). */
  onClose?(fn: () => void): void;
}

export function linkFromSerialPort(port: SerialPort): Link {
  return {
    write: (bytes) =>
      new Promise((resolve, reject) => {
        port.write(bytes, (err) => {
          if (err) return reject(err);
          port.drain((e) => (e ? reject(e) : resolve()));
        });
      }),
    onData: (fn) => port.on("data", fn),
    offData: (fn) => port.off("data", fn),
    onClose: (fn) => {
      port.once("close", fn);
      port.once("error", fn);
    },
  };
}

// One escaping and one version rule for the CLI and the web page.
export { jsStringLiteral, versionNumber } from "./install-protocol.ts";
import { jsStringLiteral } from "./install-protocol.ts";

export class EspruinoRepl {
  private buf = "";
  private seq = 0;
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private waiters: (() => void)[] = [];
  private readonly onData = (b: Buffer) => {
    let s = b.toString("latin1");
    if (s.includes("\x13") || s.includes("\x11")) {
      let kept = "";
      for (const ch of s) {
        if (ch === "\x13") this.paused = true;
        else if (ch === "\x11") {
          this.paused = false;
          for (const w of this.resumeWaiters.splice(0)) w();
        } else kept += ch;
      }
      s = kept;
    }
    this.buf += s;
    if (this.buf.length > 1 << 20) this.buf = this.buf.slice(-65536);
    for (const w of this.waiters.splice(0)) w();
  };

  constructor(
    readonly link: Link,
    readonly opts: { replyTimeoutMs?: number } = {},
  ) {
    link.onData(this.onData);
    link.onClose?.(() => {
      this.lost = true;
      for (const w of this.waiters.splice(0)) w();
      for (const w of this.resumeWaiters.splice(0)) w();
    });
  }

  /** The link went away. */
  lost = false;

  close(): void {
    this.link.offData(this.onData);
  }

  private async whenResumed(timeoutMs: number): Promise<void> {
    if (!this.paused) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new FlashError(`the board sent XOFF and no XON within ${timeoutMs} ms`, "FLOW_TIMEOUT")), timeoutMs);
      this.resumeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async send(text: string): Promise<void> {
    if (this.lost) throw new FlashError("the serial port went away (cable unplugged? board reset?)", "PORT_CLOSED");
    await this.whenResumed(this.opts.replyTimeoutMs ?? 5000);
    try {
      await this.link.write(Buffer.from(text, "latin1"));
    } catch (e) {
      this.lost = true;
      throw new FlashError(`the serial port failed while writing (${(e as Error).message}): cable unplugged or board reset? Whatever was not verified was not made the boot code`, "PORT_CLOSED");
    }
  }

  /** Drop whatever the board printed so far. */
  discard(): string {
    const b = this.buf;
    this.buf = "";
    return b;
  }

  /** Queue `expr` for evaluation on the board; returns the id to await with reply(). */
  async post(expr: string): Promise<number> {
    const n = ++this.seq;
    const line = `\x10try{print("@"+"@W${n}:"+JSON.stringify(${expr})+"@@")}catch(e){print("@"+"@E${n}:"+JSON.stringify(""+e)+"@@")}\n`;
    await this.send(line);
    return n;
  }

  /** Wait for the reply to command `n`; throws FlashError on a board exception or time-out. */
  async reply(n: number, timeoutMs = this.opts.replyTimeoutMs ?? 5000, what = "reply"): Promise<unknown> {
    const re = new RegExp(`@@([WE])${n}:(.*?)@@`);
    const stop = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        const before = this.buf.slice(0, m.index);
        this.buf = this.buf.slice(m.index + m[0].length);
        let v: unknown;
        try {
          v = m[2] === "" || m[2] === "undefined" ? undefined : JSON.parse(m[2]);
        } catch {
          throw new FlashError(`garbled ${what} from the board: ${JSON.stringify(m[2].slice(0, 80))}`, "BAD_REPLY");
        }
        if (m[1] === "E") throw new BoardError(String(v));
        void before;
        return v;
      }
      if (this.lost) throw new FlashError(`the serial port went away while waiting for the ${what} (cable unplugged? board reset?); whatever was not verified was not made the boot code`, "PORT_CLOSED");
      const left = stop - Date.now();
      if (left <= 0) throw new FlashError(`no ${what} from the board within ${timeoutMs} ms`, "NO_REPLY");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async eval(expr: string, timeoutMs?: number, what?: string): Promise<unknown> {
    return this.reply(await this.post(expr), timeoutMs, what);
  }

  /**
   * Get the REPL's attention: Ctrl-C drops a half-typed line, then a probe must
   * come back. Tries `attempts` times, starting gently (DESIGN: small writes, gaps).
   */
  async wake(attempts = 3, timeoutMs = 1500): Promise<{ VERSION: string; BOARD: string }> {
    let last: Error | null = null;
    for (let i = 0; i < attempts; i++) {
      await this.send("\x03");
      await new Promise((r) => setTimeout(r, 50 + 100 * i));
      this.discard();
      try {
        const env = (await this.eval("{VERSION:process.env.VERSION,BOARD:process.env.BOARD}", timeoutMs, "REPL prompt")) as any;
        if (env && typeof env.VERSION === "string") return env;
        last = new Error("process.env has no VERSION");
      } catch (e) {
        last = e as Error;
      }
    }
    throw new FlashError(
      `no Espruino REPL prompt: the board did not answer a probe (${last?.message}). Is it running Espruino, at this baud rate? Press reset or power-cycle it, close other programs using the port, or flash the interpreter with \`wisp flash-firmware\``,
      "NO_PROMPT",
    );
  }
}

export class BoardError extends FlashError {
  constructor(readonly boardMessage: string) {
    super(`the board reported: ${boardMessage}`, /not enough space|Not enough free space|Unable to find or create file|full/i.test(boardMessage) ? "STORAGE_FULL" : "BOARD_ERROR");
  }
}

