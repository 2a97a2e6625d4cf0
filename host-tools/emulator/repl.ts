/**
 * The Espruino serial console (REPL) of an emulated board, over any byte stream.
 *
 * Conventions kept (DESIGN.md, "Talking to an Espruino board over serial"):
 *   - `>` prompt; typed characters are echoed; after Enter the statement runs in
 *     the board's sandbox and `=<value>` is printed, then the prompt;
 *   - a line that begins with 0x10 (DLE) runs without echo: no echoed input, no
 *     `=<value>`, no prompt; only what the code prints (and errors) comes back;
 *   - `echo(0)` turns echo, `=<value>` and the prompt off for every line;
 *   - an unfinished statement (open bracket or string) keeps reading lines;
 *   - Ctrl-C (0x03) drops the line being typed; a statement that runs longer than
 *     `timeoutMs` is interrupted ("Execution Interrupted"), as a double Ctrl-C would;
 *   - XOFF (0x13) pauses output to the host, XON (0x11) resumes it;
 *   - `reset()`, `load()`, `require("Storage").write(...)`, `process.env`, `E.CRC32`
 *     are ordinary sandbox calls; a reboot they cause happens after the line.
 * Line endings out are "\r\n", as Espruino's.
 * While the board is in deep sleep the chip is off: input is dropped.
 */
import vm from "node:vm";
import type { EmulatedBoard } from "./emulator.ts";
import { formatValue } from "./espruino-api.ts";

export interface ReplOptions {
  timeoutMs?: number;
  /** Print a banner and prompt on attach (default true). */
  banner?: boolean;
}

export class SerialRepl {
  private line = "";
  private pendingCode = "";
  private lineNoEcho = false;
  private atLineStart = true;
  private lastWasCR = false;
  private paused = false;
  private held: string[] = [];
  private readonly detach: () => void;
  private readonly timeoutMs: number;

  constructor(
    private readonly board: EmulatedBoard,
    private readonly out: (bytes: string) => void,
    opts: ReplOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.detach = board.onConsole((t) => this.write(t));
    board.on("event", this.onEvent);
    if (opts.banner !== false) this.write(this.bannerText() + ">");
  }

  private onEvent = (e: { type: string; cause?: string }) => {
    if (e.type === "boot" && e.cause === "reset") this.write(this.bannerText() + ">");
  };

  private bannerText(): string {
    const c = this.board.config;
    return `\r\n wisp emulator: Espruino ${c.espruino.version} (${c.espruino.board}) on ${c.name}\r\n\r\n`;
  }

  close(): void {
    this.detach();
    this.board.off("event", this.onEvent);
  }

  private write(s: string): void {
    if (this.paused) this.held.push(s);
    else this.out(s);
  }

  /** Bytes from the host (latin1 string). */
  input(bytes: string): void {
    for (const ch of bytes) this.byte(ch.charCodeAt(0), ch);
  }

  private echoOn(): boolean {
    return this.board.echo && !this.lineNoEcho;
  }

  private byte(c: number, ch: string): void {
    if (c === 0x13) {
      this.paused = true;
      return;
    }
    if (c === 0x11) {
      this.paused = false;
      const h = this.held.splice(0);
      for (const s of h) this.out(s);
      return;
    }
    if (this.board.sleeping || this.board.stopped) return; // the chip is off
    if (c === 0x0a && this.lastWasCR) {
      this.lastWasCR = false;
      return;
    }
    this.lastWasCR = c === 0x0d;
    if (c === 0x03) {
      const echo = this.echoOn();
      this.line = "";
      this.pendingCode = "";
      this.lineNoEcho = false;
      this.atLineStart = true;
      if (echo) this.write("\r\n>");
      return;
    }
    if (c === 0x10 && this.atLineStart) {
      this.lineNoEcho = true;
      return;
    }
    if (c === 0x0d || c === 0x0a) {
      this.endOfLine();
      return;
    }
    if (c === 0x08 || c === 0x7f) {
      if (this.line.length > 0) {
        this.line = this.line.slice(0, -1);
        if (this.echoOn()) this.write("\b \b");
      }
      return;
    }
    this.atLineStart = false;
    this.line += ch;
    if (this.echoOn()) this.write(ch);
  }

  private endOfLine(): void {
    const echo = this.echoOn();
    const code = this.pendingCode + this.line;
    this.line = "";
    this.atLineStart = true;
    if (code.trim() === "") {
      this.pendingCode = "";
      this.lineNoEcho = false;
      if (echo) this.write("\r\n>");
      return;
    }
    if (isIncomplete(code)) {
      this.pendingCode = code + "\n";
      if (echo) this.write("\r\n:");
      return;
    }
    this.pendingCode = "";
    if (echo) this.write("\r\n");
    let result: unknown;
    let failed = false;
    try {
      result = this.board.evaluate(code, { timeoutMs: this.timeoutMs });
    } catch (e) {
      failed = true;
      const err = e as Error;
      if (err && /Script execution timed out/.test(String(err.message))) this.write("Execution Interrupted\r\n");
      else this.write(`Uncaught ${err?.name ?? "Error"}: ${err?.message ?? String(e)}\r\n`);
    }
    // echo() may have changed during the line
    const echoAfter = this.board.echo && !this.lineNoEcho;
    this.lineNoEcho = false;
    if (!echoAfter || !echo) return;
    if (!failed && this.board.running) this.write(`=${formatValue(result, false)}\r\n`);
    this.write(">");
  }
}

/** True when `code` only fails to compile because it ends too early (open bracket, string, template). */
export function isIncomplete(code: string): boolean {
  try {
    new vm.Script(code);
    return false;
  } catch (e) {
    const m = String((e as Error).message);
    return /Unexpected end of input|Unterminated template|missing \) after argument list/.test(m) && !/Invalid or unexpected token/.test(m);
  }
}
