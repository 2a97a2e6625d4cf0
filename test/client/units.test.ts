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

/**
 * A scripted platform: the client's one timer is run by hand (fire()), open() fails
 * (an ordinary failure) unless `links` is set, Storage is a Map.
 */
function scripted() {
  const t = {
    delays: [] as number[],
    due: null as (() => void) | null,
    links: false,
    written: [] as string[],
    handler: null as any,
    now: 0,
    files: new Map<string, string>(),
    rnd: 0.9999999,
    fire(): void {
      const f = t.due;
      t.due = null;
      f!();
    },
    plat: {
      millis: () => t.now,
      after: (ms: number, fn: () => void) => {
        t.delays.push(ms);
        t.due = fn;
        return 1;
      },
      cancel: () => {
        t.due = null;
      },
      open: (_h: string, _p: number, _s: boolean, h: any) => {
        if (!t.links) return null;
        t.handler = h;
        return {
          write: (d: string) => (t.written.push(d), true),
          close: () => {},
        };
      },
      wifiUp: () => true,
      random: () => t.rnd,
      log: () => {},
      storageRead: (n: string) => t.files.get(n) ?? null,
      storageWrite: (n: string, d: string) => (t.files.set(n, d), true),
    },
  };
  return t;
}

/** A client on a scripted platform (its tables are the units under test). */
function client(edit: (cfg: any) => void = () => {}) {
  const t = scripted();
  const cfg = new w.ClientConfig();
  cfg.connect.clientId = "dev1";
  edit(cfg);
  return { t, cfg, c: new w.Client(t.plat, cfg) };
}
const { c: proto } = client();
const InflightTable = proto.flights.constructor;

test("in-flight table: claims in sending order, finds by id, frees, remembers incoming QoS 2 ids", () => {
  const f = new InflightTable(3, 64, 2);
  assert.equal(f.free(), 3);
  const a = f.state.indexOf(0);
  f.claim(a, 7, 10, 1);
  const b = f.state.indexOf(0);
  f.claim(b, 9, 12, 2);
  assert.notEqual(a, b);
  assert.equal(f.free(), 1);
  assert.deepEqual([f.state[a], f.state[b]], [1, 2], "QoS 1 awaits PUBACK, QoS 2 PUBREC");
  assert.equal(f.find(9), b);
  assert.equal(f.find(8), -1);
  assert.ok(f.find(7) >= 0 && f.find(0) < 0);
  f.state[a] = 0; // released
  assert.equal(f.find(7), -1, "a freed slot holds no id");
  const c = f.state.indexOf(0);
  f.claim(c, 11, 5, 1);
  assert.deepEqual([f.oldest(0), f.oldest(1), f.oldest(2)], [b, c, -1], "order of sending, not of slots");
  assert.deepEqual([f.rxAdd(100), f.rxAdd(101)], [0, 0]);
  assert.equal(f.rxAdd(102), -1, "full");
  assert.equal(f.rxAdd(101), 1, "already held");
  f.rIds[f.rIds.indexOf(100)] = 0; // PUBREL 100 (the client's own use is tested below)
  assert.deepEqual([f.rxAdd(102), f.rxAdd(100)], [0, -1], "100 was forgotten, 102 took its entry");
});

test("offline ring: encoded PUBLISHes, oldest first; when full the oldest is dropped; codec errors change nothing", () => {
  const { c: q } = client((cfg) => {
    cfg.queue = 2;
    cfg.slotSize = 64;
  });
  const errors: number[] = [];
  q.onError = (code: number) => errors.push(code);
  assert.equal(q.publish("t/a", "1", 1, false), w.QUEUED);
  assert.equal(q.publish("t/b", "2", 0, true), w.QUEUED);
  assert.deepEqual([q.dropped, errors], [0, []]);
  assert.equal(q.publish("t/c", "3", 2, false), w.QUEUED);
  assert.deepEqual([q.dropped, errors], [1, [-56]], "dropped the oldest, ERR_QUEUE_DROP");
  assert.equal(q.queued(), 2);
  const first = mqttPacket.parser({ protocolVersion: 4 });
  const seen: any[] = [];
  first.on("packet", (p: any) => seen.push(p));
  for (let k = 0; k < q.qCount; k++) {
    const i = (q.qHead + k) % q.qBuf.length;
    first.parse(bytes(q.qBuf[i], q.qLen[i]));
  }
  assert.deepEqual(seen.map((p) => [p.topic, p.payload.toString(), p.qos, p.retain]), [["t/b", "2", 0, true], ["t/c", "3", 2, false]]);
  assert.ok(q.publish("bad/+", "x", 1, false) < 0);
  assert.equal(q.queued(), 2);
  assert.equal(q.dropped, 1, "nothing dropped for a message refused");
});

test("through a client: the queue drains oldest first on CONNACK; a QoS 2 id is held until PUBREL", () => {
  const { t, c } = client((cfg) => (cfg.queue = 2));
  const got: string[] = [];
  c.onMessage = (topic: string, payload: string, qos: number) => got.push(topic + " " + payload + " " + qos);
  assert.deepEqual([c.publish("t/a", "1", 0, false), c.publish("t/b", "2", 1, false)], [w.QUEUED, w.QUEUED]);
  t.links = true;
  c.connect();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00");
  assert.equal(c.queued(), 0);
  const sent: any[] = [];
  const p = mqttPacket.parser({ protocolVersion: 4 });
  p.on("packet", (x: any) => sent.push(x));
  for (const d of t.written) p.parse(Buffer.from(d, "latin1"));
  assert.deepEqual(sent.map((x) => [x.cmd, x.cmd === "publish" ? x.topic : "", x.qos ?? 0]), [["connect", "", 0], ["publish", "t/a", 0], ["publish", "t/b", 1]]);
  assert.equal(c.inflightFree(), c.cfg.inflight - 1);
  const pub = "\x34\x06\x00\x01t\x00\x05x"; // QoS 2, id 5
  t.handler.onData(pub);
  t.handler.onData(pub); // re-sent before PUBREL: not delivered again
  assert.deepEqual(got, ["t x 2"]);
  t.handler.onData("\x62\x02\x00\x05"); // PUBREL 5
  t.handler.onData(pub); // a new message that reuses id 5
  assert.deepEqual(got, ["t x 2", "t x 2"]);
  const acks = t.written.slice(-4).map((d) => [d.charCodeAt(0), d.charCodeAt(3)]);
  assert.deepEqual(acks, [[0x50, 5], [0x50, 5], [0x70, 5], [0x50, 5]], "PUBREC, PUBREC, PUBCOMP, PUBREC");
});

test("subscription table: requests checked before anything is recorded; sent, lost, resubscribed, removed", () => {
  const { t, c } = client((cfg) => (cfg.maxSubs = 2));
  assert.equal(c.subscribe(["a/#", "b/+"], [1, 2], null), w.DEFERRED);
  assert.ok(c.subscribe(["c"], [0], null) < 0, "table full");
  assert.ok(c.subscribe(["bad/#/x"], [0], null) < 0);
  assert.ok(c.subscribe(["a/#", "x/+"], [0, 5], null) < 0, "bad QoS");
  assert.ok(c.subscribe(["a/#"], [0, 1], null) < 0, "one QoS per filter");
  assert.equal(c.sFilter.length, 2);
  assert.deepEqual([...c.sQos], [1, 2], "nothing recorded from a refused request");
  t.links = true;
  c.connect();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00");
  assert.deepEqual([...c.sState], [1, 1], "sent: SUB_SENT");
  const id = c.sPid[0];
  assert.ok(id > 0 && c.sPid[1] === id, "one SUBSCRIBE for both");
  assert.equal(c.subscription("a/#"), -1, "pending");
  t.handler.onClose("gone");
  assert.deepEqual([...c.sState], [0, 0], "connection lost: to send again");
  assert.ok(c.sPid.indexOf(id) < 0);
  c.cfg.connect.cleanSession = false;
  assert.equal(c.unsubscribe(["a/#"]), w.DEFERRED);
  assert.deepEqual([c.sState[0], c.sQos[0]], [4, 1], "UNSUB_NEW, QoS kept until UNSUBACK");
  assert.ok(c.unsubscribe(["z/1"]) < 0, "an unknown filter needs room too");
  t.fire();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00"); // the broker lost the session
  assert.equal(c.sFilter.length, 1, "a pending unsubscribe is moot when the broker lost the session");
  assert.equal(c.sFilter.indexOf("b/+"), 0);
  assert.deepEqual([...c.sState], [1], "subscribed again");
  const id2 = c.sPid[0];
  const got: any[] = [];
  c.onSubscribed = (f: string, code: number) => got.push([f, code]);
  t.handler.onData(String.fromCharCode(0x90, 3, id2 >> 8, id2 & 255, 0x80));
  assert.deepEqual(got, [["b/+", 0x80]]);
  assert.equal(c.subscription("b/+"), 0x80, "refused");
  assert.ok(c.sPid.indexOf(id2) < 0);
});

test("session image: round trip through the tables; a damaged image or another client id changes nothing", () => {
  const small = (cfg: any) => {
    cfg.inflight = 2;
    cfg.slotSize = 64;
    cfg.qos2Ids = 2;
    cfg.queue = 2;
  };
  const { t, c } = client(small);
  const f = c.flights;
  const k = f.state.indexOf(0);
  for (let i = 0; i < 9; i++) f.buf[k][i] = i + 1;
  f.claim(k, 42, 9, 2);
  assert.equal(f.rxAdd(77), 0);
  assert.equal(c.publish("t", "queued", 1, false), w.QUEUED);
  c.lastId = 42;
  assert.ok(c.saveSession("s"));
  const img = t.files.get("s")!;
  const errors: number[] = [];
  const restoreInto = (edit: (cfg: any) => void, data: string) => {
    const b = client((cfg) => (small(cfg), edit(cfg)));
    b.t.files.set("s", data);
    b.c.onError = (code: number) => errors.push(code);
    return { ok: b.c.restoreSession("s"), c: b.c };
  };
  const other = restoreInto((cfg) => (cfg.connect.clientId = "other"), img);
  const cut = restoreInto(() => {}, img.slice(0, -3));
  assert.deepEqual([other.ok, cut.ok], [false, false]);
  assert.deepEqual(errors, [-54, -54], "ERR_SESSION_DATA");
  for (const x of [other.c, cut.c]) assert.deepEqual([x.flights.free(), x.queued(), x.lastId], [2, 0, 0], "untouched");
  assert.equal(client().c.restoreSession("none"), false, "no file");
  const { ok, c: c2 } = restoreInto(() => {}, img);
  assert.ok(ok);
  const f2 = c2.flights;
  assert.equal(c2.lastId, 42);
  assert.equal(f2.find(42), 0);
  assert.deepEqual([...bytes(f2.buf[0], 9)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(f2.state[0], 2, "flow state restored");
  assert.equal(f2.rxAdd(77), 1, "incoming QoS 2 id restored");
  assert.equal(c2.queued(), 1);
  const p = mqttPacket.parser({ protocolVersion: 4 });
  const seen: any[] = [];
  p.on("packet", (x: any) => seen.push(x));
  p.parse(bytes(c2.qBuf[c2.qHead], c2.qLen[c2.qHead]));
  assert.deepEqual(seen.map((x) => [x.topic, x.payload.toString(), x.qos]), [["t", "queued", 1]]);
});

test("back-off: ordinary failures double to the max; strikes double from the max to the ceiling; a healthy connection starts over", () => {
  // open() fails (an ordinary failure), or gives a link the test answers with CONNACK 5 (a refusal: a strike).
  const { t, cfg, c } = client((cfg) => {
    cfg.backoffMinMs = 100;
    cfg.backoffMaxMs = 800;
    cfg.backoffCeilingMs = 6400;
  });
  c.connect();
  for (let i = 0; i < 4; i++) t.fire();
  assert.deepEqual(t.delays, [99, 199, 399, 799, 799]);
  assert.equal(c.state, w.S_BACKOFF);
  t.links = true;
  const last = () => t.delays[t.delays.length - 1];
  const strike = () => {
    t.fire(); // reconnect: open, CONNACK timer armed
    t.handler.onOpen();
    t.handler.onData("\x20\x02\x00\x05"); // CONNACK 5: not authorized
    return last();
  };
  assert.deepEqual([strike(), strike(), strike(), strike(), strike()], [799, 1599, 3199, 6399, 6399]);
  assert.equal(c.trouble, -45);
  t.links = false;
  t.fire();
  assert.equal(last(), 6399, "after a strike, ordinary failures stay on the longer back-off until a healthy connection");
  t.links = true;
  t.fire();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00");
  assert.ok(c.connected());
  t.now += cfg.takeoverMs;
  t.handler.onClose("gone");
  assert.equal(last(), 99, "a connection that lasted: from the bottom again");
  c.disconnect();
  assert.equal(c.state, w.S_STOPPED);
  const j = client((cfg) => (cfg.backoffMinMs = 1000));
  j.t.rnd = 0;
  j.c.connect();
  assert.deepEqual(j.t.delays, [500], "jitter: 50 % at the bottom");
});

test("result names: every client code named, gaps fall back to the number", () => {
  assert.equal(w.clientErrorName(-30), "in-flight full");
  assert.equal(w.clientErrorName(-44), "bad user name or password");
  assert.equal(w.clientErrorName(-60), "broker keeps breaking the protocol");
  assert.equal(w.clientErrorName(-61), "acknowledgement for an unknown packet id");
  assert.equal(w.clientErrorName(-35), "error -35");
  assert.equal(w.clientErrorName(-17), "invalid CONNACK", "codec codes too");
});
