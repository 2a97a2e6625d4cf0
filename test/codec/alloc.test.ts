/**
 * Zero steady-state allocation: after setup, encoding and decoding 100,000 packets
 * with the Espruino bundle constructs no byte buffer (the sandbox counts every
 * Uint8Array/ArrayBuffer/DataView construction).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadEspruinoCodec, runLuaFile } from "../helpers/artifacts.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { frame, unhex } from "./harness.ts";

test("encoding and decoding 100,000 packets after setup allocates no buffer", () => {
  const { exports: w, sandbox } = loadEspruinoCodec();
  // --- setup (boot): buffers, reader, options, argument arrays, incoming wire data
  const tx = w.newBuffer(256);
  const r = w.newReader(64);
  const o = w.newConnectOptions();
  o.clientId = "wisp-1";
  o.username = "u";
  o.password = "p";
  o.willTopic = "dev/status";
  o.willMessage = "offline";
  const filters = ["sensors/+/t", "cmd/#"];
  const qos = [1, 2];
  const codes = [0, 1, 2, 0x80];
  const enc = (n: number) => w.bufStr(tx, 0, n);
  const wire = [
    enc(w.encodePublish(tx, "sensors/a/t", "21.5", 1, false, false, 7)),
    enc(w.encodeConnack(tx, true, 0)),
    enc(w.encodeSuback(tx, 3, codes)),
    enc(w.encodeAck(tx, w.PUBREL, 9)),
    enc(w.encodeEmpty(tx, w.PINGRESP)),
    enc(w.encodeSubscribe(tx, 4, filters, qos)),
    enc(w.encodeConnect(tx, o)),
    enc(w.encodePublish(tx, "big", "x".repeat(100), 0, false, false, 0)), // larger than RX: ERR_PACKET_TOO_LARGE
    unhex(frame(0x40, "0000")), // PUBACK with id 0: ERR_PACKET_ID
  ].join("");
  assert.ok(sandbox.bufferCount() >= 2, "the sandbox counts buffer constructions");
  sandbox.resetBufferCount();

  // --- steady state
  let written = 0;
  let ready = 0;
  let tooLarge = 0;
  let badId = 0;
  let pos = 0;
  for (let i = 0; i < 100000; i++) {
    const k = i % 8;
    const n =
      k === 0 ? w.encodePublish(tx, "sensors/a/t", "21.5", 1, false, i % 3 === 0, 1 + (i % 65535))
      : k === 1 ? w.encodeAck(tx, w.PUBACK, 1 + (i % 65535))
      : k === 2 ? w.encodeSubscribe(tx, 5, filters, qos)
      : k === 3 ? w.encodeEmpty(tx, w.PINGREQ)
      : k === 4 ? w.encodeConnect(tx, o)
      : k === 5 ? w.encodeUnsubscribe(tx, 6, filters)
      : k === 6 ? w.encodeSuback(tx, 8, codes)
      : w.encodeConnack(tx, false, 0);
    assert.ok(n > 0);
    written += n;
    // decode the next incoming packet (the wire data repeats)
    pos = r.feed(wire, pos === wire.length ? 0 : pos);
    if (r.status === w.PACKET_READY) {
      ready++;
      if (r.packet.type === w.SUBSCRIBE) assert.ok(r.filterAt(1) > 0);
      if (r.packet.type === w.SUBACK) assert.equal(r.codeAt(3), 0x80);
    } else if (r.status === w.ERR_PACKET_TOO_LARGE) tooLarge++;
    else if (r.status === w.ERR_PACKET_ID) badId++;
  }
  assert.equal(sandbox.bufferCount(), 0, "buffers constructed after setup");
  assert.ok(written > 100000);
  assert.ok(ready + tooLarge + badId === 100000 && tooLarge >= 11111 && badId >= 11111, `decoded ${ready} ok, ${tooLarge} too large, ${badId} bad id`);
});

test("Lua bundle: 100,000 encodes and decodes grow the heap by less than 16 KB (no table per packet)", { skip: skipUnless("lua5.3") }, () => {
  // One table per packet would be several MB; the GC is stopped during the loop.
  const [ready, kb] = runLuaFile("test/codec/alloc.lua").trim().split("\t").map(Number);
  assert.equal(ready, 100000);
  assert.ok(kb < 16, `heap grew by ${kb} KB`);
});
