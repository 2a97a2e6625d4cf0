/**
 * The client's units on their own, from the compiled bundle (dist/espruino/client.js):
 * the in-flight table, the offline ring, the subscription table, the session image,
 * and the back-off through a Client on a scripted platform.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import mqttPacket from "mqtt-packet";
import { loadEspruinoBundle } from "../helpers/artifacts.ts";

const { exports: w } = loadEspruinoBundle<any>("client");
const bytes = (b: any, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => b[i]));

test("in-flight table: claims in sending order, finds by id, frees, remembers incoming QoS 2 ids", () => {
  const f = new w.InflightTable(3, 64, 2);
  assert.equal(f.free(), 3);
  const a = f.freeSlot();
  f.claim(a, 7, 10, 1);
  const b = f.freeSlot();
  f.claim(b, 9, 12, 2);
  assert.notEqual(a, b);
  assert.equal(f.free(), 1);
  assert.deepEqual([f.state[a], f.state[b]], [1, 2], "QoS 1 awaits PUBACK, QoS 2 PUBREC");
  assert.equal(f.find(9), b);
  assert.equal(f.find(8), -1);
  assert.ok(f.find(7) >= 0 && f.find(0) < 0);
  f.state[a] = 0; // released
  assert.equal(f.find(7), -1, "a freed slot holds no id");
  const c = f.freeSlot();
  f.claim(c, 11, 5, 1);
  assert.deepEqual([f.oldest(0), f.oldest(1), f.oldest(2)], [b, c, -1], "order of sending, not of slots");
  assert.deepEqual([f.rxAdd(100), f.rxAdd(101)], [0, 0]);
  assert.equal(f.rxAdd(102), -1, "full");
  assert.equal(f.rxAdd(101), 1, "already held");
  f.rxRemove(100);
  assert.deepEqual([f.rxAdd(102), f.rxAdd(100)], [0, -1], "100 was forgotten, 102 took its entry");
  f.rxRemove(-1);
  assert.deepEqual([f.rxAdd(101), f.rxAdd(102)], [0, 0], "all forgotten");
});

test("offline ring: encoded PUBLISHes, oldest first; when full the oldest is dropped; codec errors change nothing", () => {
  const q = new w.OfflineRing(2, 64);
  assert.equal(q.put("t/a", "1", 1, false), 0);
  assert.equal(q.put("t/b", "2", 0, true), 0);
  assert.equal(q.put("t/c", "3", 2, false), 1, "dropped the oldest");
  assert.equal(q.count, 2);
  const first = mqttPacket.parser({ protocolVersion: 4 });
  const seen: any[] = [];
  first.on("packet", (p: any) => seen.push(p));
  for (let k = 0; k < q.count; k++) {
    const i = (q.head + k) % q.buf.length;
    first.parse(bytes(q.buf[i], q.len[i]));
  }
  assert.deepEqual(seen.map((p) => [p.topic, p.payload.toString(), p.qos, p.retain]), [["t/b", "2", 0, true], ["t/c", "3", 2, false]]);
  assert.ok(q.put("bad/+", "x", 1, false) < 0);
  assert.equal(q.count, 2);
  q.shift();
  assert.equal(q.count, 1);
});

test("subscription table: requests checked before anything is recorded; sent, lost, resubscribed, removed", () => {
  const s = new w.SubscriptionTable(2);
  assert.equal(s.add(["a/#", "b/+"], [1, 2], null), 0);
  assert.ok(s.add(["c"], [0], null) < 0, "table full");
  assert.ok(s.add(["bad/#/x"], [0], null) < 0);
  assert.ok(s.add(["a/#", "x/+"], [0, 5], null) < 0, "bad QoS");
  assert.ok(s.add(["a/#"], [0, 1], null) < 0, "one QoS per filter");
  assert.equal(s.filter.length, 2);
  assert.deepEqual([...s.qos], [1, 2], "nothing recorded from a refused request");
  s.move(0, -1, 1, 5); // sent: SUB_NEW -> SUB_SENT with id 5
  assert.ok(s.usesId(5));
  assert.deepEqual([...s.state], [1, 1]);
  s.move(1, -1, 0, 0); // connection lost: SUB_SENT -> SUB_NEW
  assert.ok(!s.usesId(5));
  assert.equal(s.add(["a/#"], null, null), 0, "unsubscribe");
  assert.deepEqual([s.state[0], s.qos[0]], [4, 1], "UNSUB_NEW, QoS kept until UNSUBACK");
  assert.ok(s.add(["z/1"], null, null) < 0, "an unknown filter needs room too");
  s.remove(4, 0);
  s.move(-1, -1, 0, 0);
  assert.equal(s.filter.length, 1, "a pending unsubscribe is moot when the broker lost the session");
  assert.equal(s.find("b/+"), 0);
  assert.deepEqual([...s.state], [0]);
});

test("session image: round trip through the tables; a damaged image or another client id changes nothing", () => {
  const f = new w.InflightTable(2, 64, 2);
  const q = new w.OfflineRing(2, 64);
  const k = f.freeSlot();
  for (let i = 0; i < 9; i++) f.buf[k][i] = i + 1;
  f.claim(k, 42, 9, 2);
  assert.equal(f.rxAdd(77), 0);
  q.put("t", "queued", 1, false);
  const img = w.encodeSession("dev1", 42, f, q);
  const f2 = new w.InflightTable(2, 64, 2);
  const q2 = new w.OfflineRing(2, 64);
  assert.equal(w.decodeSession(img, "other", f2, q2), -1);
  assert.equal(w.decodeSession(img.slice(0, -3), "dev1", f2, q2), -1);
  assert.equal(f2.free() - 2 + q2.count, 0, "untouched");
  assert.equal(w.decodeSession(img, "dev1", f2, q2), 42);
  assert.equal(f2.find(42), 0);
  assert.deepEqual([...bytes(f2.buf[0], 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(f2.state[0], 2, "flow state restored");
  assert.equal(f2.rxAdd(77), 1, "incoming QoS 2 id restored");
  assert.equal(q2.count, 1);
});

test("back-off: ordinary failures double to the max; strikes double from the max to the ceiling; a healthy connection starts over", () => {
  // A Client on a scripted platform: its timer is run by hand, open() fails (an
  // ordinary failure) or returns a link the test answers with CONNACK 5 (a refusal: a strike).
  const delays: number[] = [];
  let due: (() => void) | null = null;
  let refuse = false;
  let handler: any = null;
  let now = 0;
  const plat = {
    millis: () => now,
    after: (ms: number, fn: () => void) => {
      delays.push(ms);
      due = fn;
      return 1;
    },
    cancel: () => {
      due = null;
    },
    open: (_h: string, _p: number, _s: boolean, h: any) => {
      if (!refuse) return null;
      handler = h;
      return { write: () => true, close: () => {} };
    },
    wifiUp: () => true,
    random: () => 0.9999999,
    log: () => {},
    storageRead: () => null,
    storageWrite: () => true,
  };
  const cfg = new w.ClientConfig();
  cfg.backoffMinMs = 100;
  cfg.backoffMaxMs = 800;
  cfg.backoffCeilingMs = 6400;
  cfg.connectTimeoutMs = 5;
  const c = new w.Client(plat, cfg);
  const fire = () => {
    const f = due;
    due = null;
    f!();
  };
  c.connect();
  for (let i = 0; i < 4; i++) fire();
  assert.deepEqual(delays, [99, 199, 399, 799, 799]);
  assert.equal(c.state, w.S_BACKOFF);
  refuse = true;
  const strike = () => {
    fire(); // reconnect: open, CONNECT timer armed
    handler.onOpen();
    handler.onData("\x20\x02\x00\x05"); // CONNACK 5: not authorized
    return delays[delays.length - 1];
  };
  assert.deepEqual([strike(), strike(), strike(), strike(), strike()], [799, 1599, 3199, 6399, 6399]);
  assert.equal(c.trouble, -45);
  refuse = false;
  fire();
  assert.equal(delays[delays.length - 1], 6399, "after a strike, ordinary failures stay on the longer back-off until a healthy connection");
  refuse = true;
  fire();
  handler.onOpen();
  handler.onData("\x20\x02\x00\x00");
  assert.ok(c.connected());
  now += cfg.takeoverMs;
  handler.onClose("gone");
  assert.equal(delays[delays.length - 1], 99, "a connection that lasted: from the bottom again");
  c.disconnect();
  assert.equal(c.state, w.S_STOPPED);
  const jitter = new w.ClientConfig();
  jitter.backoffMinMs = 1000;
  plat.random = () => 0;
  refuse = false;
  new w.Client(plat, jitter).connect();
  assert.equal(delays[delays.length - 1], 500, "jitter: 50 % at the bottom");
});

test("result names: every client code named, gaps fall back to the number", () => {
  assert.equal(w.clientErrorName(-30), "in-flight full");
  assert.equal(w.clientErrorName(-44), "bad user name or password");
  assert.equal(w.clientErrorName(-60), "broker keeps breaking the protocol");
  assert.equal(w.clientErrorName(-61), "acknowledgement for an unknown packet id");
  assert.equal(w.clientErrorName(-35), "error -35");
  assert.equal(w.clientErrorName(-17), "invalid CONNACK", "codec codes too");
});
