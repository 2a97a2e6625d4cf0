/**
 * Clear errors from `wisp flash`: missing port, busy port, permission denied,
 * no REPL prompt, board mismatch, old interpreter, full Storage. Each one that a
 * pty or a nonexistent path can reproduce is reproduced; the rest go through the
 * same mapping function with the OS's message.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadBoard } from "../../host-tools/device/board.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { attachSerialRepl, openPtyPair } from "../../host-tools/emulator/pty.ts";
import { runFlash, runPorts } from "../../host-tools/flasher/cli-flash.ts";
import { closePort, explainOpenError, openPort } from "../../host-tools/flasher/serial.ts";
import { skipUnless } from "../helpers/system-deps.ts";

const OLD_APP = 'var oldApp = 1;\n';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-flash-err-"));
const cfgFile = path.join(dir, "flash.config.json");
fs.writeFileSync(
  cfgFile,
  JSON.stringify({ board: "esp32-lipo-sensor", device: { clientId: "err-1", wifi: { ssid: "ap" }, broker: { url: "mqtt://127.0.0.1:1883" } } }),
);
const appFile = path.join(dir, "app.js");
fs.writeFileSync(appFile, 'print("new app");\n'.repeat(200)); // 3600 B
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

async function flash(args: string[]): Promise<{ code: number; err: { code: string; message: string } }> {
  const lines: string[] = [];
  const code = await runFlash(["--config", cfgFile, "--app", appFile, "--json", ...args], { out: (l) => lines.push(l), env: {} });
  return { code, err: JSON.parse(lines.at(-1)!) };
}

/** Flash into an emulated board built from esp32-lipo-sensor with `patch` applied. */
async function flashInto(patch: (b: ReturnType<typeof loadBoard>) => void, prepare?: (board: ReturnType<typeof startBoard>) => void) {
  const cfg = loadBoard("esp32-lipo-sensor");
  patch(cfg);
  const board = startBoard({ board: cfg, storageFile: null, clock: "real", appCode: OLD_APP });
  prepare?.(board);
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  try {
    const r = await flash(["--port", pair.hostPath]);
    return { ...r, boot: board.storage.get(".bootcde") };
  } finally {
    serial.close();
    await pair.close();
    board.stop();
  }
}

test("missing port: a path that does not exist", async () => {
  const r = await flash(["--port", "/dev/ttyUSB-wisp-missing"]);
  assert.equal(r.code, 1);
  assert.equal(r.err.code, "PORT_MISSING");
  assert.match(r.err.message, /\/dev\/ttyUSB-wisp-missing does not exist.*plugged in.*wisp ports/);
});

test("no port given at all", async () => {
  const r = await flash([]);
  assert.equal(r.err.code, "NO_PORT");
  assert.match(r.err.message, /--port/);
});

test("busy port: another program holds the pty", { skip: skipUnless("socat") }, async () => {
  const pair = await openPtyPair();
  const holder = await openPort(pair.hostPath);
  try {
    const r = await flash(["--port", pair.hostPath]);
    assert.equal(r.err.code, "PORT_BUSY");
    assert.match(r.err.message, /is busy: another program/);
  } finally {
    await closePort(holder);
    await pair.close();
  }
});

test("permission denied names the fix (dialout group)", async () => {
  const e = explainOpenError("/dev/ttyUSB0", "Error: EACCES: permission denied, open '/dev/ttyUSB0'", "ana");
  assert.equal(e.code, "PORT_PERMISSION");
  assert.match(e.message, /permission denied opening \/dev\/ttyUSB0.*dialout.*sudo usermod -aG dialout ana/);
});

test("permission denied on a real file without access", { skip: process.getuid?.() === 0 ? "running as root: every file is accessible" : false }, async () => {
  const f = path.join(dir, "ttyNOPERM");
  fs.writeFileSync(f, "");
  fs.chmodSync(f, 0);
  const r = await flash(["--port", f]);
  assert.equal(r.err.code, "PORT_PERMISSION");
});

test("no REPL prompt: nothing answers on the port", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const pair = await openPtyPair(); // nobody on the board end
  try {
    const r = await flash(["--port", pair.hostPath]);
    assert.equal(r.err.code, "NO_PROMPT");
    assert.match(r.err.message, /no Espruino REPL prompt.*baud rate.*reset/);
  } finally {
    await pair.close();
  }
});

test("board mismatch: the port has a different Espruino board", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const r = await flashInto((b) => (b.espruino = { ...b.espruino, board: "ESP8266_4MB" }));
  assert.equal(r.err.code, "BOARD_MISMATCH");
  assert.match(r.err.message, /config is for an Espruino ESP32 board.*BOARD=ESP8266_4MB/);
  assert.equal(r.boot, OLD_APP);
});

test("interpreter too old", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const r = await flashInto((b) => (b.espruino = { ...b.espruino, version: "1v99" }));
  assert.equal(r.err.code, "VERSION");
  assert.match(r.err.message, /Espruino 1v99 .* too old/);
});

test("full Storage: refused before writing, the old app stays", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  const r = await flashInto((b) => (b.storage = { bytes: 4096 }));
  assert.equal(r.err.code, "STORAGE_FULL");
  assert.match(r.err.message, /not enough free Storage.*\(3600 B\) needs about \d+ B.*\d+ B are free/);
  assert.equal(r.boot, OLD_APP);
});

test("Storage full of old copies: the flasher compacts, then installs (getFree does not count trash)", { timeout: 20_000, skip: skipUnless("socat") }, async () => {
  let before = { free: 0, trash: 0 };
  const r = await flashInto(
    (b) => (b.storage = { bytes: 12288 }),
    (board) => {
      // an erased 7000-byte file stays as trash until a compact (jsflash.c)
      board.evaluate('require("Storage").write("junk","x",0,7000);require("Storage").erase("junk")');
      before = board.evaluate('({free:require("Storage").getFree(),trash:require("Storage").getStats().trashBytes})') as typeof before;
    },
  );
  assert.ok(before.trash >= 7000 && before.free < 8000, `set-up: ${JSON.stringify(before)}`);
  assert.equal(r.code, 0, r.err?.message);
  assert.equal(r.boot?.length, fs.readFileSync(appFile, "latin1").length);
});

test("wisp ports does not crash without udev (lists /dev instead)", async () => {
  const lines: string[] = [];
  assert.equal(await runPorts(["--json"], { out: (l) => lines.push(l) }), 0);
  const j = JSON.parse(lines[0]);
  assert.ok(Array.isArray(j.ports));
  for (const p of j.ports) assert.equal(typeof p.path, "string");
  lines.length = 0;
  assert.equal(await runPorts([], { out: (l) => lines.push(l) }), 0);
  assert.ok(lines.length >= 1);
});
