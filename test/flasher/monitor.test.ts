/**
 * `wisp monitor` against the emulated board's REPL over a pty, and the flash
 * progress bar as a TTY would show it.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { PassThrough } from "node:stream";
import fs from "node:fs";
import os from "node:os";
import { test } from "node:test";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { attachSerialRepl, openPtyPair } from "../../host-tools/emulator/pty.ts";
import { runFlash, runMonitor } from "../../host-tools/flasher/cli-flash.ts";
import { skipUnless } from "../helpers/system-deps.ts";

async function until(cond: () => boolean, ms: number, what: string) {
  const stop = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("wisp monitor: typed input reaches the board, its output comes back, Ctrl-] quits", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const board = startBoard({ storageFile: null, clock: "real" });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  const stdin = new PassThrough();
  let shown = "";
  const stdout = { write: (b: Buffer | string) => (shown += b.toString()) };
  try {
    const done = runMonitor(["--port", pair.hostPath], { stdin, stdout, out: () => {} });
    await new Promise((r) => setTimeout(r, 100));
    stdin.write("6*7\r");
    await until(() => shown.includes("=42"), 5000, "=42 from the board");
    stdin.write(Buffer.from([0x1d]));
    assert.equal(await done, 0);
  } finally {
    serial.close();
    await pair.close();
    board.stop();
  }
});

test("wisp flash on a TTY draws a progress bar with bytes/s", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-tty-"));
  const cfg = path.join(dir, "c.json");
  fs.writeFileSync(cfg, JSON.stringify({ board: "esp32-lipo-sensor", device: { clientId: "tty-1", wifi: { ssid: "ap" }, broker: { url: "mqtt://127.0.0.1:1" } } }));
  const app = path.join(dir, "app.js");
  fs.writeFileSync(app, "var x = 1;\n".repeat(300));
  const board = startBoard({ storageFile: null, clock: "real", board: "esp32-lipo-sensor" });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  let bar = "";
  const lines: string[] = [];
  try {
    const code = await runFlash(["--port", pair.hostPath, "--config", cfg, "--app", app, "--no-reset"], { out: (l) => lines.push(l), tty: { write: (s) => (bar += s) }, env: {} });
    assert.equal(code, 0, lines.join("\n"));
    assert.match(bar, /\r\[#{30}\] 100% 3300\/3300 B [\d.]+ k?B\/s\n$/);
    assert.match(lines.join("\n"), /board: Espruino 2v24 \(ESP32\)[\s\S]*verified: CRC-32 0x[0-9a-f]{8}[\s\S]*settings written to Storage wisp\.json \(\d+ B, not shown\)[\s\S]*done: \d+ B/);
    assert.equal(board.storage.get(".bootcde"), "var x = 1;\n".repeat(300));
  } finally {
    serial.close();
    await pair.close();
    board.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
