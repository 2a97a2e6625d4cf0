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
/** The packets in what the client wrote (from index `from`). */
function written(t: { written: string[] }, from = 0): any[] {
  const out: any[] = [];
  const p = mqttPacket.parser({ protocolVersion: 4 });
  p.on("packet", (x: any) => out.push(x));
  for (const d of t.written.slice(from)) p.parse(Buffer.from(d, "latin1"));
  return out;
}
const ack = (type: number, id: number) => String.fromCharCode(type, 2, id >> 8, id & 255);

test("in-flight table: claims in sending order, finds by id, frees, re-sends oldest first, remembers incoming QoS 2 ids", () => {
  const { t, c } = client((cfg) => {
    cfg.inflight = 3;
    cfg.qos2Ids = 2;
    cfg.connect.cleanSession = false;
    cfg.takeoverCount = 99; // quick reconnects here are not a take-over
  });
  const published: number[] = [];
  const errors: number[] = [];
  c.onPublished = (id: number) => published.push(id);
  c.onError = (code: number) => errors.push(code);
  t.links = true;
  c.connect();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00");
  assert.equal(c.inflightFree(), 3);
  const a = c.publish("t/a", "1", 1, false);
  const b = c.publish("t/b", "2", 2, false);
  assert.ok(a > 0 && b > 0 && a !== b);
  assert.equal(c.inflightFree(), 1);
  assert.deepEqual([c.fState[0], c.fState[1], c.fState[2]], [1, 2, 0], "QoS 1 awaits PUBACK, QoS 2 PUBREC");
  t.handler.onData(ack(0x40, a)); // PUBACK a
  assert.deepEqual(published, [a]);
  assert.equal(c.fState[0], 0, "freed");
  t.handler.onData(ack(0x40, a)); // again: nothing held
  assert.deepEqual(errors, [-61], "ERR_UNKNOWN_ID");
  const d = c.publish("t/c", "3", 1, false);
  assert.equal(c.fId[0], d, "the first free slot");
  // Reconnect with the session present: re-sent in sending order (b, then d), DUP set.
  t.handler.onClose("gone");
  t.fire();
  t.handler.onOpen();
  const from = t.written.length;
  t.handler.onData("\x20\x02\x01\x00");
  const again = written(t, from);
  assert.deepEqual(again.map((x) => [x.topic, x.messageId, x.dup]), [["t/b", b, true], ["t/c", d, true]]);
  t.handler.onData(ack(0x50, b)); // PUBREC b
  assert.equal(c.fState[1], 3, "PUBREL sent, awaiting PUBCOMP");
  assert.deepEqual(written(t, t.written.length - 1).map((x) => [x.cmd, x.messageId]), [["pubrel", b]]);
  // The broker lost the session while b awaits PUBCOMP (behind it: d): b counts as
  // complete, d is re-sent.
  t.handler.onClose("gone");
  t.fire();
  t.handler.onOpen();
  const from2 = t.written.length;
  t.handler.onData("\x20\x02\x00\x00");
  assert.deepEqual(published, [a, b], "the flow past PUBREC is complete");
  assert.deepEqual(written(t, from2).map((x) => [x.cmd, x.messageId]), [["publish", d]], "and the one behind it re-sent");
  assert.equal(c.inflightFree(), 2);
  // Incoming QoS 2: two ids remembered until PUBREL; a third closes (neither delivered nor acknowledged).
  const got: string[] = [];
  c.onMessage = (topic: string, payload: string) => got.push(payload);
  const pub = (id: number, x: string) => "\x34\x06\x00\x01t" + String.fromCharCode(id >> 8, id & 255) + x;
  t.handler.onData(pub(100, "p"));
  t.handler.onData(pub(101, "q"));
  assert.deepEqual([...c.rIds], [100, 101]);
  t.handler.onData(pub(102, "r"));
  assert.deepEqual(got, ["p", "q"]);
  assert.equal(errors[errors.length - 1], -53, "ERR_QOS2_FULL");
  assert.ok(!c.connected());
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
  t.links = true;
  c.connect();
  t.handler.onOpen();
  t.handler.onData("\x20\x02\x00\x00");
  assert.ok(c.publish("t/f", "inflight", 2, false) > 0);
  c.lastId = 42;
  c.fId[0] = 42; // the id the image carries (the packet's own id is not read back)
  t.handler.onData("\x34\x06\x00\x01t\x00\x4dx"); // incoming QoS 2, id 77
  t.handler.onClose("gone");
  c.disconnect();
  assert.equal(c.publish("t", "queued", 1, false), w.QUEUED);
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
  for (const x of [other.c, cut.c]) assert.deepEqual([x.inflightFree(), x.queued(), x.lastId, x.rIds[0]], [2, 0, 0, 0], "untouched");
  assert.equal(client().c.restoreSession("none"), false, "no file");
  const { ok, c: c2 } = restoreInto(() => {}, img);
  assert.ok(ok);
  assert.equal(c2.lastId, 42);
  assert.deepEqual([c2.inflightFree(), c2.fId[0], c2.fState[0]], [1, 42, 2], "slot, id and flow state restored");
  assert.deepEqual(written({ written: [bytes(c2.fBuf[0], c2.fLen[0]).toString("latin1")] }).map((x) => [x.topic, x.payload.toString(), x.qos]), [["t/f", "inflight", 2]]);
  assert.deepEqual([...c2.rIds], [77, 0], "incoming QoS 2 id restored");
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
