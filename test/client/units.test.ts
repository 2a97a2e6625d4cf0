/**
 * The client's units on their own, from the compiled bundle (dist/espruino/client.js):
 * the in-flight table, the offline ring, the subscription table, the session image
 * and the back-off.
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
  assert.equal(f.used(), 2);
  assert.equal(f.find(9), b);
  assert.equal(f.find(8), -1);
  assert.ok(f.holds(7) && !f.holds(0));
  f.release(a);
  const c = f.freeSlot();
  f.claim(c, 11, 5, 1);
  assert.deepEqual([f.oldest(0), f.oldest(1), f.oldest(2)], [b, c, -1], "order of sending, not of slots");
  assert.ok(f.rxAdd(100) && f.rxAdd(101));
  assert.equal(f.rxAdd(102), false, "full");
  assert.ok(f.rxHas(101));
  f.rxRemove(100);
  assert.ok(!f.rxHas(100) && f.rxAdd(102));
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
    const i = q.at(k);
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
  assert.equal(s.subscribe(["a/#", "b/+"], [1, 2], null), 0);
  assert.ok(s.subscribe(["c"], [0], null) < 0, "table full");
  assert.ok(s.subscribe(["bad/#/x"], [0], null) < 0);
  assert.equal(s.size(), 2);
  s.markSent(0, -1, 5);
  assert.ok(s.usesId(5));
  assert.equal(s.result("a/#"), -1, "pending");
  s.unsent();
  assert.ok(!s.usesId(5));
  assert.equal(s.unsubscribe(["a/#"]), 0);
  s.resubscribeAll();
  assert.equal(s.size(), 1, "a pending unsubscribe is moot when the broker lost the session");
  assert.equal(s.find("b/+"), 0);
});

test("session image: round trip through the tables; a damaged image or another client id changes nothing", () => {
  const f = new w.InflightTable(2, 64, 2);
  const q = new w.OfflineRing(2, 64);
  const k = f.freeSlot();
  for (let i = 0; i < 9; i++) f.buf[k][i] = i + 1;
  f.claim(k, 42, 9, 2);
  f.rxAdd(77);
  q.put("t", "queued", 1, false);
  const img = w.encodeSession("dev1", 42, f, q);
  const f2 = new w.InflightTable(2, 64, 2);
  const q2 = new w.OfflineRing(2, 64);
  assert.equal(w.decodeSession(img, "other", f2, q2), -1);
  assert.equal(w.decodeSession(img.slice(0, -3), "dev1", f2, q2), -1);
  assert.equal(f2.used() + q2.count, 0, "untouched");
  assert.equal(w.decodeSession(img, "dev1", f2, q2), 42);
  assert.equal(f2.find(42), 0);
  assert.deepEqual([...bytes(f2.buf[0], 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(f2.rxHas(77));
  assert.equal(q2.count, 1);
});

test("back-off: ordinary failures double to the max; strikes double from the max to the ceiling; reset starts over", () => {
  const b = new w.Backoff();
  const top = (severe: boolean) => b.next(severe, 100, 800, 6400, 0.9999999);
  assert.deepEqual([top(false), top(false), top(false), top(false), top(false)], [99, 199, 399, 799, 799]);
  assert.deepEqual([top(true), top(true), top(true), top(true), top(true)], [799, 1599, 3199, 6399, 6399]);
  assert.equal(top(false), 6399, "after a strike, ordinary failures stay on the longer back-off until a healthy connection");
  b.reset();
  assert.equal(top(false), 99);
  assert.equal(b.next(false, 1000, 1000, 1000, 0), 500, "jitter: 50 % at the bottom");
});

test("result names: every client code named, gaps fall back to the number", () => {
  assert.equal(w.clientErrorName(-30), "in-flight full");
  assert.equal(w.clientErrorName(-44), "bad user name or password");
  assert.equal(w.clientErrorName(-60), "broker keeps breaking the protocol");
  assert.equal(w.clientErrorName(-61), "acknowledgement for an unknown packet id");
  assert.equal(w.clientErrorName(-35), "error -35");
  assert.equal(w.clientErrorName(-17), "invalid CONNACK", "codec codes too");
});
