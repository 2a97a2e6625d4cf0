import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import { startBoard, WAKE_UNDEFINED } from "../../host-tools/emulator/emulator.ts";
import { adcReading } from "../../host-tools/emulator/battery.ts";
import { loadBoard } from "../../host-tools/emulator/board.ts";

function board(code = "", opts: Parameters<typeof startBoard>[0] = {}) {
  const lines: string[] = [];
  const b = startBoard({ storageFile: null, clock: "virtual", appCode: code, console: (t) => lines.push(t), ...opts });
  return { b, out: () => lines.join("") };
}

test("the sandbox refuses what Espruino lacks, with a clear error", () => {
  const { b, out } = board("var m = new Map();");
  assert.match(out(), /Uncaught ReferenceError: Map is not available on Espruino \(wisp sandbox\)/);
  assert.throws(() => b.evaluate("new Set()"), /Set is not available on Espruino/);
  assert.throws(() => b.evaluate("Symbol('x')"), /Symbol is not available on Espruino/);
  assert.throws(() => b.evaluate("Array.from([1])"), /Array.from is not available on Espruino/);
  assert.throws(() => b.evaluate("new TextEncoder()"), /TextEncoder is not available/);
  assert.throws(() => b.evaluate("require('fs')"), /Module "fs" not found/);
  assert.equal(b.evaluate("typeof setImmediate"), "undefined");
  assert.equal(b.evaluate("typeof Buffer"), "undefined");
  b.stop();
});

test("E, process, getTime and Date follow Espruino and the board clock", async () => {
  const { b } = board("", { board: "esp32-lipo-sensor" });
  assert.equal(b.evaluate("E.toString([72, 105], 33, 'x')"), "Hi!x");
  assert.equal(b.evaluate("E.toString(new Uint8Array([255, 0, 128]))"), "\xff\x00\x80");
  const u = b.evaluate("E.toUint8Array('ab', [1, 2])") as Uint8Array;
  assert.deepEqual([...u], [97, 98, 1, 2]);
  assert.equal(b.evaluate("E.toUint8Array('a') instanceof Uint8Array"), true, "a Uint8Array of the sandbox realm");
  assert.equal(b.evaluate("E.CRC32('hello world')"), zlib.crc32("hello world"));
  assert.equal(b.evaluate("process.env.BOARD"), "ESP32");
  assert.equal(b.evaluate("process.env.VERSION"), "2v24");
  assert.match(b.evaluate("process.env.MODULES") as string, /Wifi/);
  const mem = b.evaluate("process.memory()") as any;
  assert.equal(mem.total, 16000);
  assert.equal(mem.free + mem.usage, mem.total);
  b.evaluate("var big = new Uint8Array(1400); var list = [1,2,3,4,5,6,7,8,9,10];");
  const mem2 = b.evaluate("process.memory()") as any;
  assert.ok(mem2.usage >= mem.usage + 100 + 10, `usage grows with a 1400-byte buffer and a 10-element array (${mem.usage} -> ${mem2.usage})`);
  const t0 = b.evaluate("getTime()") as number;
  assert.equal(b.evaluate("Date.now()"), t0 * 1000);
  await b.runFor(3_600_000);
  assert.equal(b.evaluate("getTime()"), t0 + 3600);
  assert.equal(b.evaluate("new Date().getTime()"), (t0 + 3600) * 1000);
  assert.equal(b.evaluate("ESP32.getWakeupCause()"), WAKE_UNDEFINED);
  b.stop();
});

test("process.memory() counts the program's globals, functions by their code size", () => {
  const body = "x".repeat(240);
  const { b } = board(`function keep() { return "${body}"; } var table = [1, 2, 3];`);
  const m = b.evaluate("process.memory()") as any; // first call after the program ran
  assert.ok(m.usage >= 20 + 4, `a 260-char function (~22 blocks) and a 3-element array (4): usage ${m.usage}`);
  assert.ok(m.usage < 60, `built-ins are not counted: usage ${m.usage}`);
  b.stop();
});

test("buffer constructions in the board's sandbox are counted (for no-allocation checks)", async () => {
  const { b } = board(`var buf = new Uint8Array(64); var n = 0; setInterval(function () { buf[n++ & 63] = 1; }, 1000);`);
  const atBoot = b.bufferCount();
  assert.ok(atBoot >= 1);
  await b.runFor(60_000);
  assert.equal(b.bufferCount(), atBoot, "the interval allocates no buffer");
  b.evaluate("E.toUint8Array('abc')");
  assert.equal(b.bufferCount(), atBoot + 1, "E.toUint8Array allocates one");
  b.stop();
});

test("timers run on the board clock: order, intervals, clear, args", async () => {
  const { b, out } = board(`
    var log = [];
    setTimeout(function (a) { log.push("t2:" + a); }, 2000, "x");
    setTimeout(function () { log.push("t1"); }, 1000);
    var n = 0;
    var iv = setInterval(function () { n++; log.push("i" + n); if (n === 3) clearInterval(iv); }, 700);
    var gone = setTimeout(function () { log.push("never"); }, 1500);
    clearTimeout(gone);
    setTimeout(function () { throw new Error("boom"); }, 100);
  `);
  await b.runFor(10_000);
  // 700 i1, 1000 t1, 1400 i2, 2000 t2, 2100 i3
  assert.equal(JSON.stringify(b.evaluate("log")), JSON.stringify(["i1", "t1", "i2", "t2:x", "i3"]));
  assert.match(out(), /Uncaught Error: boom/);
  b.stop();
});

test("analogRead returns the battery voltage through the divider, 0..1 of the 3.3 V ADC range", () => {
  const cfg = loadBoard("esp32-lipo-sensor");
  const { b } = board("", { board: cfg, battery: { volts: 3.9 } });
  const r = b.evaluate("analogRead(D34)") as number;
  // 3.9 V * 100k/(100k+100k) = 1.95 V at the pin; 1.95 / 3.3 = 0.5909, 12-bit quantised
  assert.ok(Math.abs(r - 1.95 / 3.3) < 1 / 4095, `reading ${r}`);
  assert.equal(r, adcReading(cfg.adc!, 3.9));
  assert.equal(b.evaluate("analogRead(D35)"), 0);
  b.battery!.setVoltage(null);
  b.battery!.setPercent(50);
  const v = (b.evaluate("analogRead(D34)") as number) * 3.3 * 2;
  assert.ok(Math.abs(v - 3.84) < 0.01, `50% of the LiPo curve is 3.84 V, read ${v}`);
  b.stop();
});

test("Storage: write/read/readJSON/list/erase/getFree and the chunked write", () => {
  const { b } = board();
  b.evaluate(`var S = require("Storage"); S.write("a.txt", "hello"); S.writeJSON("c.json", {x: [1, 2]});`);
  assert.equal(b.evaluate(`S.read("a.txt")`), "hello");
  assert.equal(b.evaluate(`S.read("a.txt", 1, 3)`), "ell");
  assert.equal(JSON.stringify(b.evaluate(`S.readJSON("c.json")`)), '{"x":[1,2]}');
  assert.equal(b.evaluate(`S.readJSON("c.json").x instanceof Array`), true);
  assert.equal(b.evaluate(`S.read("nope")`), undefined);
  const free0 = b.evaluate(`S.getFree()`) as number;
  b.evaluate(`S.write("big", "AB", 0, 6); S.write("big", "CD", 2); S.write("big", "EF", 4);`);
  assert.equal(b.evaluate(`S.read("big")`), "ABCDEF");
  assert.ok((b.evaluate(`S.getFree()`) as number) < free0);
  // the interpreter's own words (jsflash.c jsfWriteFile); a long name is cut to 28 characters
  assert.throws(() => b.evaluate(`S.write("big", "GHI", 5)`), /Too much data for file size/);
  assert.throws(() => b.evaluate(`S.write("", "")`), /Can't create zero length file/);
  b.evaluate(`S.write("x".repeat(29), "a")`);
  assert.equal(b.evaluate(`S.read("x".repeat(28))`), "a");
  assert.equal(JSON.stringify(b.evaluate(`S.list(/\\.json$/)`)), '["c.json"]');
  b.evaluate(`S.erase("a.txt")`);
  assert.equal(b.evaluate(`S.read("a.txt")`), undefined);
  assert.equal(b.evaluate(`S.readJSON("big", true)`), undefined);
  assert.throws(() => b.evaluate(`S.readJSON("big")`), /SyntaxError: Expecting valid value, got ID/);
  b.stop();
});
