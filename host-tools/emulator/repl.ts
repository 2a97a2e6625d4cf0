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
 *
 * The console device itself is part of what the REPL offers: the ESP32 build's
 * console is `Serial1` (`boards/ESP32.py`: default_console EV_SERIAL1, so
 * `process.env.CONSOLE` is "Serial1"), and tools such as `@espruino-tools/core`
 * answer through it with `eval(process.env.CONSOLE).println(...)`. So every run the
 * REPL is attached to gets (see `installConsoleObjects`):
 *   - `Serial1` with print / println / write (jswrap_serial.c), writing to this console;
 *   - `LED1` = D2 and `BTN1` = D0, the ESP32 board file's only devices: there is no
 *     `LED2`, so `digitalPulse(LED2,1,100)` fails with a ReferenceError, as on a board;
 *   - `digitalPulse(pin, value, ms)` (jswrap_io.c), which drives no real pin here;
 *   - `E.dumpStr()` (jswrap_espruino.c): the code that recreates the program's globals,
 *     "" when there are none (the real interpreter's answer on an empty board).
 */
import vm from "node:vm";
import type { EmulatedBoard } from "./emulator.ts";
import { bytesToLatin1, formatValue, gatherBytes } from "./espruino-api.ts";

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
    installConsoleObjects(board);
    if (opts.banner !== false) this.write(this.bannerText() + ">");
  }

  private onEvent = (e: { type: string; cause?: string }) => {
    if (e.type === "boot") installConsoleObjects(this.board);
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

/**
 * Give the board's current run the console objects of the ESP32 build (see the
 * header). They are host-realm values, as the emulator's other platform globals are,
 * and their names join the run's baseline so `process.memory()` does not count them
 * as the program's.
 */
export function installConsoleObjects(board: EmulatedBoard): void {
  const sandbox = board.sandbox;
  if (!sandbox) return;
  const ctx = sandbox.context as Record<string, unknown>;
  if (ctx.Serial1 !== undefined) return;
  const write = (text: string) => board.consoleWrite(text);
  const serial1 = {
    print: (v: unknown) => write(formatValue(v)),
    println: (v: unknown) => write(formatValue(v) + "\r\n"),
    write: (...args: unknown[]) => write(bytesToLatin1(gatherBytes(args))),
    toString: () => "Serial1",
  };
  const pin = (name: string) => ctx[name];
  const globals: Record<string, unknown> = {
    Serial1: serial1,
    LED1: pin("D2"),
    BTN1: pin("D0"),
    digitalPulse: (p: unknown, _value: unknown, _ms: unknown) => {
      if (p === undefined) throw new TypeError("digitalPulse: pin is undefined");
    },
  };
  const baseline = (board as unknown as { run?: { baselineNames?: Set<string> } }).run?.baselineNames;
  for (const [k, v] of Object.entries(globals)) {
    Object.defineProperty(ctx, k, { value: v, writable: true, configurable: true, enumerable: false });
    baseline?.add(k);
  }
  const E = ctx.E as Record<string, unknown> | undefined;
  if (E && typeof E === "object" && !("dumpStr" in E)) {
    E.dumpStr = () => dumpGlobals(ctx, baseline);
  }
}

/** What E.dumpStr() prints: each program global as a statement that recreates it. */
function dumpGlobals(ctx: Record<string, unknown>, baseline: Set<string> | undefined): string {
  if (!baseline) return "";
  let out = "";
  for (const k of Object.getOwnPropertyNames(ctx)) {
    if (baseline.has(k)) continue;
    const d = Object.getOwnPropertyDescriptor(ctx, k);
    if (!d || !("value" in d)) continue;
    const v = d.value;
    if (typeof v === "function") {
      const src = Function.prototype.toString.call(v);
      out += (/^function[\s(]/.test(src) ? src.replace(/^function\s*\(/, `function ${k}(`) : `var ${k} = ${src};`) + "\n";
    } else {
      let text: string;
      try {
        text = JSON.stringify(v) ?? "undefined";
      } catch {
        text = "undefined";
      }
      out += `var ${k} = ${text};\n`;
    }
  }
  return out;
}
