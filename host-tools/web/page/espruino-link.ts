/**
 * The page's one door to `@espruino-tools/core` 1.2.13 (the Espruino tooling the
 * project was specified with). The page uses it for what it does well: opening the
 * Web Serial port (its `connect()`), evaluating expressions on the board (`eval`),
 * and typing into the console (its UART `write`). Everything else the page does
 * goes through the byte link this module exposes, because the library's own
 * installers are unfit: `loadCode`/`upload` always send `reset(true)` (wiping the
 * saved app) and break on code containing a backtick. Apps are installed with wisp's
 * chunked, CRC-verified, commit-last protocol (`install-protocol.ts`) over `byteLink()`.
 *
 * Its quirks, measured by running it, all handled here and nowhere else:
 *   - browser only: it needs `navigator.serial`, and over plain HTTP only when the
 *     host name is literally `localhost` (on 127.0.0.1 its promises never settle):
 *     `connect()` checks both first and says what to do;
 *   - it shows its own "Web Bluetooth / Web Serial" chooser: we pick Web Serial for
 *     the user (the port chooser is still the browser's);
 *   - when the user picks no port, or the port cannot be opened (another program has
 *     it), it never calls back: we watch `navigator.serial.requestPort()` and the
 *     port's `open()` ourselves to report "no board selected" / "port busy";
 *   - `eval(x)` sends `\x10eval(process.env.CONSOLE).println(JSON.stringify(x))` and
 *     resolves `{data, log}` (log "success" or "failed"), never rejects, and takes the
 *     first line that comes back, which may be a line the app printed: we retry reads
 *     and time out ourselves;
 *   - `connect()` also evaluates `E.dumpStr()` and pulses `LED2` (a ReferenceError on
 *     ESP32, which has only LED1: harmless, it is written, not evaluated); its callback
 *     never fires when `E.dumpStr()` fails: we time it out;
 *   - one UART connection per page, shared by every instance: this module is that one;
 *   - it writes each queued string as one chunk about 100 ms apart, keeps 8 bits per
 *     character (send only byte strings: the protocol sends escaped ASCII), and
 *     drops a write silently when the port fails: we time writes out and watch the
 *     port's `disconnect` event for an unplugged board.
 */
import { DeviceController } from "@espruino-tools/core";
import type { ByteLink } from "../../flasher/install-protocol.ts";

/** A connection problem the page shows as is; `code` names it. */
export class LinkError extends Error {
  constructor(
    message: string,
    readonly code: "NO_WEB_SERIAL" | "NOT_LOCALHOST" | "NO_BOARD_SELECTED" | "PORT_BUSY" | "NOT_ESPRUINO" | "NO_ANSWER" | "UNPLUGGED" | "NOT_CONNECTED",
  ) {
    super(message);
  }
}

export interface BoardInfo {
  VERSION: string;
  BOARD: string;
  CONSOLE: string;
  storageFree: number;
  memoryFree: number;
}

interface UartConnection {
  ondata?: (d: string) => void;
  onclose?: (d?: unknown) => void;
  isOpen?: boolean;
}
interface Uart {
  write(data: string, cb?: (d: unknown) => void): void;
  getConnection(): UartConnection | undefined;
  close(): void;
}

const EVAL_TIMEOUT_MS = 20_000;
const WRITE_TIMEOUT_MS = 10_000;
const CONNECT_CALLBACK_MS = 8_000;

function withTimeout<T>(p: Promise<T>, ms: number, err: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(err()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

export class EspruinoLink {
  private readonly device = new DeviceController();
  private readonly uart = this.device.UART as unknown as Uart;
  private dataFns = new Set<(d: string) => void>();
  private closeFns = new Set<() => void>();
  private port: EventTarget | null = null;
  private closed = false;
  connected = false;

  /** Ask the user for a port (must run inside a click), open it, and check it is Espruino. */
  async connect(): Promise<BoardInfo> {
    const nav = navigator as Navigator & { serial?: EventTarget & { requestPort(o?: unknown): Promise<EventTarget> } };
    if (!nav.serial) throw new LinkError("This browser has no Web Serial: open the page in Chrome, Edge or Chromium (version 89 or later).", "NO_WEB_SERIAL");
    if (location.protocol === "http:" && location.hostname !== "localhost")
      throw new LinkError(`Open this page as http://localhost:${location.port}/ : over plain HTTP, the serial library only works when the host name is "localhost" (not ${location.hostname}).`, "NOT_LOCALHOST");
    this.closed = false;
    const serial = nav.serial;
    const original = serial.requestPort.bind(serial);
    let picked: (v: EventTarget | Error) => void = () => {};
    const choice = new Promise<EventTarget | Error>((r) => (picked = r));
    let openFailed: (e: Error) => void = () => {};
    const openFailure = new Promise<never>((_, reject) => {
      openFailed = (e) =>
        reject(
          new LinkError(
            `The serial port could not be opened (${e.message}). Another program may have it open (a serial monitor, wisp monitor, the Arduino IDE): close it and connect again.`,
            "PORT_BUSY",
          ),
        );
    });
    openFailure.catch(() => undefined);
    serial.requestPort = (o?: unknown) =>
      original(o).then(
        (p) => {
          // the library swallows a failed open() and never calls back: report it ourselves
          const port = p as EventTarget & { open(o: unknown): Promise<void> };
          const open = port.open.bind(port);
          port.open = (oo: unknown) =>
            open(oo).catch((e: Error) => {
              openFailed(e);
              throw e;
            });
          picked(p);
          return p;
        },
        (e: Error) => {
          picked(e);
          throw e;
        },
      );
    let first: Promise<{ data: unknown; log: string }>;
    try {
      first = this.device.eval("{}") as Promise<{ data: unknown; log: string }>;
      this.chooseWebSerial();
      const port = await withTimeout(choice, 120_000, () => new LinkError("No board selected: the port chooser was left open.", "NO_BOARD_SELECTED"));
      if (port instanceof Error)
        throw new LinkError("No board selected: pick your board's serial port in the browser's list (is it plugged in? a charge-only USB cable shows no port).", "NO_BOARD_SELECTED");
      this.port = port;
    } finally {
      serial.requestPort = original;
    }
    this.port.addEventListener("disconnect", this.onUnplug);
    let r = await withTimeout(Promise.race([first, openFailure]), EVAL_TIMEOUT_MS, () => this.notEspruino("it sent nothing back"));
    this.hookConnection();
    // the first line back may be what the board printed before we opened the port
    // (a banner, the app's log): the library takes it as the answer; ask again
    for (let i = 0; r.log !== "success" && i < 2; i++)
      r = await withTimeout(this.device.eval("{}") as Promise<{ data: unknown; log: string }>, EVAL_TIMEOUT_MS, () => this.notEspruino("it sent nothing back"));
    if (r.log !== "success") throw this.notEspruino("its answer was not an Espruino REPL's");
    // The library's own connect(): it evaluates E.dumpStr() and writes a LED2 pulse.
    // On an ESP32 (no LED2) the pulse's error line can come back first and be taken as
    // E.dumpStr()'s answer; then its callback never fires. So its callback is waited
    // for a while, not required: our own probe below decides whether the board answers.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, CONNECT_CALLBACK_MS);
      void this.device.connect(() => {
        clearTimeout(t);
        resolve();
      });
    });
    this.connected = true;
    const info = (await this.eval(
      `{VERSION:process.env.VERSION,BOARD:process.env.BOARD,CONSOLE:process.env.CONSOLE,storageFree:require("Storage").getFree(),memoryFree:process.memory().free}`,
    ).catch((e: Error) => {
      throw this.notEspruino(e.message);
    })) as BoardInfo | null;
    if (!info || typeof info.VERSION !== "string") throw this.notEspruino("process.env has no VERSION");
    return info;
  }

  private notEspruino(why: string): LinkError {
    this.disconnect();
    return new LinkError(
      `This board does not answer as Espruino (${why}). Is the Espruino interpreter flashed on it (wisp flash-firmware)? Is another program using the port? Press its reset button and connect again.`,
      "NOT_ESPRUINO",
    );
  }

  /** The library opens a chooser of its own (Bluetooth or Serial): pick Serial. */
  private chooseWebSerial(): void {
    for (const el of Array.from(document.querySelectorAll(".esp-tools-name"))) {
      if (el.textContent === "Web Serial") {
        (el.parentElement as HTMLElement).click();
        return;
      }
    }
    throw new LinkError("the serial library showed no Web Serial choice", "NO_WEB_SERIAL");
  }

  /** Tap the library's single connection for everything received and for its end. */
  private hookConnection(): void {
    const conn = this.uart.getConnection();
    if (!conn) return;
    const onData = conn.ondata;
    conn.ondata = (d: string) => {
      onData?.(d);
      for (const fn of this.dataFns) fn(d);
    };
    const onClose = conn.onclose;
    conn.onclose = (d?: unknown) => {
      onClose?.(d);
      this.onUnplug();
    };
  }

  /** The port is gone (unplugged, closed by the library, or by us): release it and tell the page. */
  private onUnplug = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.port?.removeEventListener("disconnect", this.onUnplug);
    this.port = null;
    try {
      this.uart.close();
    } catch {
      /* already closed */
    }
    // a write the dead port swallowed leaves the library busy for good: free it for the next connect
    (this.uart as Uart & { isBusy: boolean }).isBusy = false;
    for (const fn of this.closeFns) fn();
  };

  /**
   * Evaluate `expr` on the board; resolves with its value (JSON). A non-JSON first
   * line back (something the board printed, or an error) is retried up to
   * `attempts` times in all: pass 1 for expressions with side effects.
   */
  async eval(expr: string, attempts = 3): Promise<unknown> {
    if (!this.connected) throw new LinkError("Connect a board first.", "NOT_CONNECTED");
    for (let attempt = 0; ; attempt++) {
      const r = (await withTimeout(this.device.eval(expr) as Promise<{ data: unknown; log: string }>, EVAL_TIMEOUT_MS, () =>
        this.closed ? new LinkError("The board was unplugged.", "UNPLUGGED") : new LinkError(`The board did not answer ${expr}.`, "NO_ANSWER"),
      )) as { data: unknown; log: string };
      if (r.log === "success") return r.data;
      if (this.closed) throw new LinkError("The board was unplugged.", "UNPLUGGED");
      // a line the app printed may have come first: ask again
      if (attempt + 1 >= attempts)
        throw new LinkError(`The board's answer to ${expr} was not a value: an error, or a line the app printed came first (see the console).`, "NO_ANSWER");
    }
  }

  /** Text typed into the console (a line ends with "\n"). */
  type(text: string): Promise<void> {
    return this.byteLink().write(text);
  }

  onData(fn: (d: string) => void): () => void {
    this.dataFns.add(fn);
    return () => this.dataFns.delete(fn);
  }

  onClose(fn: () => void): () => void {
    this.closeFns.add(fn);
    return () => this.closeFns.delete(fn);
  }

  /** The raw link the install protocol runs on: writes go through the library's queue. */
  byteLink(): ByteLink {
    return {
      write: (bytes: string) => {
        if (this.closed || !this.connected) return Promise.reject(new Error("the board is not connected"));
        return new Promise<void>((resolve, reject) => {
          let off = () => {};
          const t = setTimeout(() => {
            off();
            reject(new Error(`the board took no data for ${WRITE_TIMEOUT_MS / 1000} s`));
          }, WRITE_TIMEOUT_MS);
          off = this.onClose(() => {
            clearTimeout(t);
            reject(new Error("the board was unplugged"));
          });
          this.uart.write(bytes, () => {
            clearTimeout(t);
            off();
            resolve();
          });
        });
      },
      onData: (fn) => this.onData(fn),
      onClose: (fn) => void this.onClose(fn),
    };
  }

  disconnect(): void {
    this.onUnplug();
  }
}
