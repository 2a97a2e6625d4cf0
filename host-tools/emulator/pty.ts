/**
 * Pseudo-terminal pairs from socat, and a board console attached to one end.
 *
 * `openPtyPair()` runs `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and returns the
 * two device paths socat reports; bytes written to one end come out of the other,
 * as through a USB-serial cable. `attachSerialRepl(board, path)` opens one end and
 * runs the board's REPL on it; the host (a test, the flasher, `screen`) opens the
 * other. Requires the Debian `socat` package.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import tty from "node:tty";
import type { EmulatedBoard } from "./emulator.ts";
import { SerialRepl, type ReplOptions } from "./repl.ts";

export interface PtyPair {
  /** The end the emulated board uses. */
  boardPath: string;
  /** The end a host program opens. */
  hostPath: string;
  socat: ChildProcess;
  close(): Promise<void>;
}

export function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  return new Promise((resolve, reject) => {
    const socat = spawn("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], { stdio: ["ignore", "ignore", "pipe"] });
    const paths: string[] = [];
    let err = "";
    const timer = setTimeout(() => {
      socat.kill();
      reject(new Error(`socat did not report two ptys within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    socat.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run socat (Debian package "socat"): ${e.message}`));
    });
    socat.stderr!.setEncoding("utf8");
    socat.stderr!.on("data", (d: string) => {
      err += d;
      for (const m of d.matchAll(/PTY is (\S+)/g)) paths.push(m[1]);
      if (paths.length >= 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        socat.stderr!.removeAllListeners("data");
        socat.stderr!.resume();
        resolve({
          boardPath: paths[0],
          hostPath: paths[1],
          socat,
          close: () =>
            new Promise<void>((res) => {
              if (socat.exitCode !== null || socat.signalCode !== null) return res();
              socat.once("exit", () => res());
              socat.kill();
            }),
        });
      }
    });
  });
}

/** A serial port on a tty device path: raw byte strings in and out. */
export interface SerialEnd {
  write(bytes: string): void;
  onData(fn: (bytes: string) => void): void;
  close(): void;
}

export function openSerialEnd(devicePath: string): SerialEnd {
  const fd = fs.openSync(devicePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const rs = new tty.ReadStream(fd);
  rs.setEncoding("latin1");
  let closed = false;
  // The tty stream makes the fd non-blocking, so a burst larger than the pty's buffer
  // (a REPL printing faster than the far end reads) gets EAGAIN: keep the rest in
  // order and retry shortly, never drop or throw it.
  let pending: Buffer[] = [];
  let retry: NodeJS.Timeout | null = null;
  const flush = (): void => {
    retry = null;
    while (!closed && pending.length > 0) {
      const head = pending[0];
      let n: number;
      try {
        n = fs.writeSync(fd, head);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        retry = setTimeout(flush, 5);
        return;
      }
      if (n < head.length) pending[0] = head.subarray(n);
      else pending.shift();
    }
  };
  return {
    write(bytes: string) {
      if (closed) return;
      pending.push(Buffer.from(bytes, "latin1"));
      if (retry === null) flush();
    },
    onData(fn) {
      rs.on("data", (d: string | Buffer) => fn(typeof d === "string" ? d : d.toString("latin1")));
    },
    close() {
      if (closed) return;
      closed = true;
      if (retry !== null) clearTimeout(retry);
      pending = [];
      rs.destroy(); // closes fd
    },
  };
}

/** Run `board`'s REPL on the tty at `devicePath`. */
export function attachSerialRepl(board: EmulatedBoard, devicePath: string, opts: ReplOptions = {}): { repl: SerialRepl; close(): void } {
  const end = openSerialEnd(devicePath);
  const repl = new SerialRepl(board, (s) => end.write(s), opts);
  end.onData((d) => repl.input(d));
  return {
    repl,
    close() {
      repl.close();
      end.close();
    },
  };
}
