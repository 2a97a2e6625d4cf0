/** PacketReader and encoder API behaviour a client relies on, on the Espruino bundle. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { loadEspruinoCodec } from "../helpers/artifacts.ts";
import { decodeAll, describe as line, frame, mqttParse, unhex } from "./harness.ts";
import * as errors from "../../firmware/mqtt/errors.ts";

let w: any;
before(() => {
  w = loadEspruinoCodec().exports;
});

const enc = (f: (b: any) => number, size = 256) => {
  const b = w.newBuffer(size);
  const n = f(b);
  assert.ok(n > 0, `encode failed: ${n}`);
  return w.bufStr(b, 0, n);
};

test("feed() stops after each packet and returns where the next one starts", () => {
  const a = enc((b) => w.encodeAck(b, w.PUBACK, 1));
  const p = enc((b) => w.encodePublish(b, "t", "xy", 0, false, false, 0));
  const s = a + p + "\xc0"; // and the first byte of a PINGREQ
  const r = w.newReader(32);
  assert.equal(r.feed(s, 0), a.length);
  assert.equal(r.status, w.PACKET_READY);
  assert.equal(r.packet.type, w.PUBACK);
  assert.equal(r.feed(s, a.length), a.length + p.length);
  assert.equal(r.str(r.packet.payloadOff, r.packet.payloadLen), "xy");
  assert.equal(r.feed(s, a.length + p.length), s.length);
  assert.equal(r.status, w.NEED_MORE);
  assert.equal(r.feed("\x00", 0), 1);
  assert.equal(r.packet.type, w.PINGREQ);
});

test("a malformed remaining length is fatal until reset()", () => {
  const r = w.newReader(32);
  assert.equal(r.feed("\x30\xff\xff\xff\xff", 0), 5);
  assert.equal(r.status, w.ERR_REMAINING_LENGTH);
  // later data is consumed and refused: the caller must close the connection
  assert.equal(r.feed("\xc0\x00", 0), 2);
  assert.equal(r.status, w.ERR_REMAINING_LENGTH);
  r.reset();
  assert.equal(r.feed("\xc0\x00", 0), 2);
  assert.equal(r.status, w.PACKET_READY);
  assert.equal(r.packet.type, w.PINGREQ);
});

test("reset() drops a half-received packet (new connection)", () => {
  const r = w.newReader(32);
  r.feed("\x30\x05\x00", 0);
  r.reset();
  assert.equal(decodeAll(r, "\xd0\x00", 0), "PINGRESP");
});

test("an oversized PUBLISH reports its topic, QoS and size, and is not delivered", () => {
  const big = enc((b) => w.encodePublish(b, "alarm/door", "z".repeat(200), 1, false, false, 42), 512);
  const r = w.newReader(20);
  r.feed(big, 0);
  assert.equal(r.status, w.ERR_PACKET_TOO_LARGE);
  assert.equal(r.packet.length, big.length);
  assert.equal(r.packet.qos, 1);
  assert.equal(r.str(r.packet.topicOff, r.packet.topicLen), "alarm/door");
  assert.equal(r.filterAt(0), -1);
});

test("filterAt and codeAt give -1 outside the decoded list or for another packet type", () => {
  const r = w.newReader(64);
  r.feed(enc((b) => w.encodeSubscribe(b, 2, ["a/+", "#"], [2, 0])), 0);
  assert.equal(r.packet.count, 2);
  assert.equal(r.str(r.filterAt(1), r.packet.itemLen), "#");
  assert.equal(r.packet.itemQos, 0);
  assert.equal(r.str(r.filterAt(0), r.packet.itemLen), "a/+");
  assert.equal(r.packet.itemQos, 2);
  assert.equal(r.filterAt(2), -1);
  assert.equal(r.filterAt(-1), -1);
  assert.equal(r.codeAt(0), -1);
  r.feed(enc((b) => w.encodeSuback(b, 2, [1, 0x80])), 0);
  assert.equal(r.codeAt(1), 0x80);
  assert.equal(r.codeAt(2), -1);
  assert.equal(r.filterAt(0), -1);
});

test("a failing encoder writes nothing", () => {
  const b = w.newBuffer(16);
  b.fill(0xaa); // the Espruino Bytes is a Uint8Array
  assert.equal(w.encodePublish(b, "a/+", "x", 0, false, false, 0), w.ERR_TOPIC_WILDCARD);
  assert.equal(w.encodePublish(b, "a", "x".repeat(20), 0, false, false, 0), w.ERR_BUFFER_TOO_SMALL);
  assert.equal(w.encodeSubscribe(b, 1, ["a", "b"], [0]), w.ERR_VALUE);
  assert.ok(b.every((x: number) => x === 0xaa));
});

test("setDup marks a stored QoS 1 PUBLISH as a re-send", () => {
  const b = w.newBuffer(32);
  const n = w.encodePublish(b, "q", "m", 1, true, false, 5);
  w.setDup(b);
  const s = w.bufStr(b, 0, n);
  assert.equal(decodeAll(w.newReader(32), s, 0), "PUBLISH q=1 r=1 d=1 id=5 topic=71 payload=6d");
  assert.equal(mqttParse(s)[0].dup, true);
});

test("every error code is exported and has a name; unknown codes say so", () => {
  for (const [k, v] of Object.entries(errors)) {
    if (!k.startsWith("ERR_")) continue;
    assert.equal(w[k], v, k);
    const name = w.errorName(v);
    assert.ok(!name.startsWith("error ") && name.length > 5, `${k}: ${name}`);
  }
  assert.equal(w.errorName(w.ERR_PACKET_TOO_LARGE), "packet larger than the RX buffer");
  assert.equal(w.errorName(-99), "error -99");
});

test("CONNECT decodes all its fields", () => {
  const o = w.newConnectOptions();
  o.clientId = "c1";
  o.cleanSession = false;
  o.keepAlive = 300;
  o.username = "";
  o.password = "\x00\xff";
  o.willTopic = "w/t";
  o.willMessage = "";
  o.willQos = 2;
  o.willRetain = true;
  const r = w.newReader(64);
  r.feed(enc((b) => w.encodeConnect(b, o)), 0);
  assert.equal(line(r), "CONNECT clean=0 ka=300 cid=6331 will=772f74 wmsg= wq=2 wr=1 user= pass=00ff");
  assert.equal(decodeAll(w.newReader(64), unhex(frame(0x20, "0100")), 0), "CONNACK sp=1 rc=0");
});
