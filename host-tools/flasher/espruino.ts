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
import { ReplSession, type ByteLink } from "./install-protocol.ts";
/** A board exception (`@@E` reply); STORAGE_FULL when it says Storage is full. */
export { BoardReplyError as BoardError } from "./install-protocol.ts";

/** A Buffer link seen as the install protocol's byte link (one latin1 char per byte). */
function byteLink(link: Link): ByteLink {
  return {
    write: (bytes) => link.write(Buffer.from(bytes, "latin1")),
    onData: (fn) => {
      const on = (b: Buffer) => fn(b.toString("latin1"));
      link.onData(on);
      return () => link.offData(on);
    },
    onClose: (fn) => link.onClose?.(fn),
  };
}

/**
 * The CLI's REPL over a serialport `Link`: the install protocol's `ReplSession` (one
 * framing, one flow control and one set of errors for `wisp flash` and the web page).
 */
export class EspruinoRepl extends ReplSession {
  constructor(link: Link, opts: { replyTimeoutMs?: number } = {}) {
    super(byteLink(link), opts);
  }
}
