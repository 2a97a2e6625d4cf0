/**
 * The engine's bulk Storage path (Interpreter.writeFileFromHost): a host file read
 * by the interpreter's own `fs`, written to Storage, checked with E.CRC32; and the
 * board's Storage image holds the shim and the app byte for byte.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { test } from "node:test";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { startEspruinoBoard } from "../../host-tools/espruino/board.ts";
import { SHIM_SOURCE } from "../../host-tools/espruino/shims.ts";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

const skip = skipUnlessEspruino();

test("writeFileFromHost: every byte value, 40 KB arrive intact; an empty file is the interpreter's error", { skip }, async () => {
  const it = await Interpreter.start();
  try {
    const bytes = new Uint8Array(40_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 8)) & 0xff;
    await it.writeFileFromHost("big", bytes);
    assert.equal(await it.eval<number>('require("Storage").read("big").length'), bytes.length);
    const head = await it.eval<number[]>('[].slice.call(E.toUint8Array(require("Storage").read("big",0,512)))');
    assert.deepEqual(head, Array.from(bytes.subarray(0, 512)));
    // Espruino 2v29 refuses a zero-length file; the host passes its error on
    await assert.rejects(it.writeFileFromHost("empty", ""), /Can't create zero length file/);
    assert.deepEqual(it.uncaught(), []);
  } finally {
    await it.stop();
  }
});

test("a board's Storage: .boot0 is the shim, .bootcde the app, wisp.json the merged settings", { skip }, async () => {
  const app = path.join(REPO_ROOT, "dist", "espruino", "app.js");
  const code = fs.readFileSync(app, "utf8");
  const b = await startEspruinoBoard({ board: "esp32-lipo-sensor", app, settings: { clientId: "storage-1", brokerPort: 1 }, wifi: { ap: false, connectMs: 50 } });
  try {
    const crc = (name: string) => b.it!.eval<number>(`E.CRC32(require("Storage").read(${JSON.stringify(name)}))`).then((n) => n >>> 0);
    assert.equal(await crc(".boot0"), zlib.crc32(Buffer.from(SHIM_SOURCE, "latin1")) >>> 0);
    assert.equal(await crc(".bootcde"), zlib.crc32(Buffer.from(code, "utf8")) >>> 0);
    const s = await b.it!.eval<Record<string, any>>('require("Storage").readJSON("wisp.json")');
    assert.equal(s.clientId, "storage-1");
    assert.equal(s.brokerPort, 1);
    assert.equal(s.board.id, "esp32-lipo-sensor", "defaults for the board come from the V8 engine's mapping");
    assert.equal(s.board.buffers.rx, 512);
    assert.deepEqual(b.uncaught(), []);
  } finally {
    await b.stop();
  }
});
