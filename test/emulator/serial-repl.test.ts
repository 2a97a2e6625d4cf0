/**
 * The board's REPL over a real pseudo-terminal pair (socat): the host end is opened
 * like a serial port and spoken to with Espruino's conventions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { attachSerialRepl, openPtyPair, openSerialEnd } from "../../host-tools/emulator/pty.ts";
import { SerialRepl } from "../../host-tools/emulator/repl.ts";
import { skipUnless } from "../helpers/system-deps.ts";

/** A host-side serial port with "send, then read until a pattern" helpers. */
function hostPort(path: string) {
  const end = openSerialEnd(path);
  let buf = "";
  end.onData((d) => (buf += d));
  return {
    send: (s: string) => end.write(s),
    take: async (re: RegExp, timeoutMs = 3000): Promise<string> => {
      const stop = Date.now() + timeoutMs;
      while (!re.test(buf)) {
        if (Date.now() > stop) throw new Error(`no ${re} in serial output within ${timeoutMs} ms; got ${JSON.stringify(buf)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const m = re.exec(buf)!;
      const upTo = buf.slice(0, m.index + m[0].length);
      buf = buf.slice(m.index + m[0].length);
      return upTo;
    },
    drain: () => {
      const b = buf;
      buf = "";
      return b;
    },
    close: () => end.close(),
  };
}

/** Escape data as an Espruino tool would for a one-line JS string literal: no raw control bytes. */
function jsString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c < 32 || c > 126) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

test("serial REPL over a socat pty: DLE lines, echo, errors, Storage chunks + load() reboot", { timeout: 30_000, skip: skipUnless("socat") }, async () => {
  const board = startBoard({ storageFile: null, clock: "real" });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  const host = hostPort(pair.hostPath);
  try {
    await host.take(/>$/); // banner and prompt
    // a DLE line runs without echo: only what it prints comes back
    host.send("\x10print(1+1)\n");
    assert.equal(await host.take(/2\r\n/), "2\r\n");
    // a typed line is echoed, its value printed with '=', then the prompt
    host.send("1+2\r");
    assert.equal(await host.take(/>/), "1+2\r\n=3\r\n>");
    host.send("\x10print(process.env.BOARD, process.env.VERSION)\n");
    assert.equal(await host.take(/\r\n/), "ESP32 2v24\r\n");
    host.send("\x10print(E.CRC32('wisp'))\n");
    assert.equal(await host.take(/\r\n/), `${zlib.crc32("wisp")}\r\n`);
    // errors are reported, the REPL lives on
    host.send("\x10new Map()\n");
    assert.match(await host.take(/\r\n/), /^Uncaught ReferenceError: Map is not available on Espruino/);
    // an unfinished statement continues on the next line
    host.send("\x10function f(a) {\n\x10return a * 2 }\n\x10print(f(21))\n");
    assert.equal(await host.take(/42\r\n/), "42\r\n");
    // Ctrl-C drops the half-typed line
    host.send("this is not js");
    await host.take(/not js$/);
    host.send("\x03");
    await host.take(/>$/);
    host.send("\x10print('after ctrl-c')\n");
    assert.equal(await host.take(/\r\n/), "after ctrl-c\r\n");

    // upload an app the way a flasher does: .bootcde in chunks (first one gives the size), then load()
    const app = 'var booted = "from storage";\nprint("app says " + booted + " \\u00e9");\nsetTimeout(function () { print("tick"); }, 50);\n';
    const bytes = Buffer.from(app, "utf8").toString("latin1");
    const chunk = 20;
    for (let off = 0; off < bytes.length; off += chunk) {
      const part = jsString(bytes.slice(off, off + chunk));
      const sizeArg = off === 0 ? `, ${off}, ${bytes.length}` : `, ${off}`;
      host.send(`\x10require("Storage").write(".bootcde", ${part}${sizeArg})\n`);
    }
    host.send("\x10print(require('Storage').read('.bootcde').length)\n");
    assert.equal(await host.take(/\r\n/), `${bytes.length}\r\n`);
    host.send("\x10load()\n");
    assert.equal(await host.take(/app says.*\r\n/), "app says from storage \u00e9\r\n"); // one byte 0xE9 on the wire
    await host.take(/tick\r\n/);
    assert.equal(board.evaluate("booted"), "from storage");
    assert.equal(board.events.filter((e) => e.type === "boot").length, 2);

    // echo(0): no echo, no '=', no prompt
    host.send("echo(0)\r");
    await host.take(/echo\(0\)\r\n/); // echoed while echo was still on; nothing after
    host.drain();
    host.send("5*5\r\x10print('done')\n");
    assert.equal(await host.take(/done\r\n/), "done\r\n");
    // reset() clears RAM: the app's variable is gone, a banner and prompt follow
    host.send("\x10reset()\n");
    await host.take(/>/);
    assert.equal(board.evaluate("typeof booted"), "undefined");
  } finally {
    serial.close();
    host.close();
    await pair.close();
    board.stop();
  }
});

test("REPL flow control: XOFF holds output until XON", () => {
  const board = startBoard({ storageFile: null, clock: "virtual" });
  let out = "";
  const repl = new SerialRepl(board, (s) => (out += s), { banner: false });
  repl.input("\x13\x10print('held')\n");
  assert.equal(out, "");
  repl.input("\x11");
  assert.equal(out, "held\r\n");
  repl.close();
  board.stop();
});
