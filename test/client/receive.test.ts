/**
 * Incoming publishes: QoS 0/1/2 with the right acks, exactly-once delivery for QoS 2,
 * SUBSCRIBE with several filters and per-filter SUBACK codes (0x80 included),
 * UNSUBSCRIBE, local dispatch by filter.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, acceptConnect, makeClient, peer, RawBroker, sleep, startAedes, waitFor, type TestClient } from "./harness.ts";

const track = (t: TestClient): TestClient => t;
after(cleanupAll);

test("receive QoS 0/1/2 from MQTT.js; per-filter SUBACK including 0x80; local dispatch; unsubscribe", { timeout: 10000 }, async () => {
  const b = await startAedes({
    authorizeSubscribe: (_c, sub, cb) => (sub.topic.startsWith("deny") ? cb(null, null) : cb(null, sub)),
  });
  const t = track(makeClient(b.port));
  const cmds: string[] = [];
  const all: string[] = [];
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected");
  const id = t.client.subscribe(["cmd/+/set", "deny/#", "data/#"], [1, 2, 2], (topic: string, payload: string) => cmds.push(`${topic}=${payload}`));
  assert.ok(id > 0);
  await waitFor(() => t.ev.subscribed.length === 3, "SUBACK");
  assert.deepEqual(
    t.ev.subscribed.map((s) => [s.filter, s.code]),
    [
      ["cmd/+/set", 1],
      ["deny/#", 0x80],
      ["data/#", 2],
    ],
  );
  assert.equal(t.client.subscription("deny/#"), 0x80);
  assert.equal(t.client.subscription("data/#"), 2);
  const other = t.client.subscribe(["x/#"], [0], (topic: string) => all.push(topic));
  assert.ok(other > 0);
  await waitFor(() => t.ev.subscribed.length === 4, "second SUBACK");
  const p = await peer(b.port);
  await p.publishAsync("cmd/led/set", "on", { qos: 0 });
  await p.publishAsync("cmd/fan/set", "off", { qos: 1 });
  await p.publishAsync("data/a/b", "\x00bin", { qos: 2 });
  await p.publishAsync("x/y", "other", { qos: 1 });
  await p.publishAsync("cmd/led/get", "no", { qos: 1 });
  await waitFor(() => t.ev.messages.length === 4, "four messages");
  assert.deepEqual(cmds.sort(), ["cmd/fan/set=off", "cmd/led/set=on", "data/a/b=\x00bin"]);
  assert.deepEqual(all, ["x/y"]);
  const byTopic = Object.fromEntries(t.ev.messages.map((m) => [m.topic, m.qos]));
  assert.deepEqual(byTopic, { "cmd/led/set": 0, "cmd/fan/set": 1, "data/a/b": 2, "x/y": 0 }); // x/# granted at QoS 0
  // Unsubscribe: nothing more on that filter.
  assert.ok(t.client.unsubscribe(["x/#"]) > 0);
  await waitFor(() => t.client.subscription("x/#") === -1, "UNSUBACK");
  await p.publishAsync("x/z", "gone", { qos: 1 });
  await p.publishAsync("cmd/a/set", "1", { qos: 1 });
  await waitFor(() => cmds.length === 4, "cmd after unsubscribe");
  await sleep(50);
  assert.deepEqual(all, ["x/y"]);
  assert.ok(!t.ev.messages.some((m) => m.topic === "x/z"));
  await p.endAsync();
  t.platform.shutdown();
  await b.close();
});

test("QoS 1 and 2 acks; QoS 2 delivered once when re-sent before PUBREL", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(makeClient(rb.port));
  t.client.connect();
  const c = await rb.conn(1);
  await acceptConnect(c);
  await waitFor(() => t.client.connected(), "connected");
  c.send({ cmd: "publish", topic: "a", payload: "one", qos: 1, messageId: 5 });
  const ack = await c.next("puback");
  assert.equal(ack.messageId, 5);
  c.send({ cmd: "publish", topic: "b", payload: "two", qos: 2, messageId: 7 });
  await c.next("pubrec");
  c.send({ cmd: "publish", topic: "b", payload: "two", qos: 2, messageId: 7, dup: true });
  await c.next("pubrec", 2);
  c.send({ cmd: "publish", topic: "b", payload: "two", qos: 2, messageId: 7, dup: true });
  await c.next("pubrec", 3);
  assert.equal(t.ev.messages.filter((m) => m.topic === "b").length, 1);
  c.send({ cmd: "pubrel", messageId: 7 });
  const comp = await c.next("pubcomp");
  assert.equal(comp.messageId, 7);
  // After PUBREL the id is free: a new message with id 7 is a new message.
  c.send({ cmd: "publish", topic: "b", payload: "three", qos: 2, messageId: 7 });
  await c.next("pubrec", 4);
  assert.deepEqual(
    t.ev.messages.map((m) => `${m.topic}:${m.payload}:${m.qos}`),
    ["a:one:1", "b:two:2", "b:three:2"],
  );
  // A PUBREL for an unknown id still gets its PUBCOMP.
  c.send({ cmd: "pubrel", messageId: 99 });
  assert.equal((await c.next("pubcomp", 2)).messageId, 99);
  t.platform.shutdown();
  await rb.close();
});

test("exactly once across a reconnect: ids awaiting PUBREL kept with a persistent session", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(makeClient(rb.port, (cfg) => (cfg.connect.cleanSession = false)));
  t.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1);
  await waitFor(() => t.client.connected(), "connected");
  c1.send({ cmd: "publish", topic: "b", payload: "x", qos: 2, messageId: 9 });
  await c1.next("pubrec");
  c1.socket.destroy();
  const c2 = await rb.conn(2);
  await acceptConnect(c2, true);
  c2.send({ cmd: "publish", topic: "b", payload: "x", qos: 2, messageId: 9, dup: true });
  await c2.next("pubrec");
  c2.send({ cmd: "pubrel", messageId: 9 });
  await c2.next("pubcomp");
  assert.equal(t.ev.messages.length, 1);
  t.platform.shutdown();
  await rb.close();
});

test("oversized incoming PUBLISH: reported with topic and size, skipped (connection kept) or closing", { timeout: 10000 }, async () => {
  for (const close of [false, true]) {
    const rb = await new RawBroker().start();
    const t = track(
      makeClient(rb.port, (cfg) => {
        cfg.rxSize = 64;
        cfg.closeOnOversize = close;
      }),
    );
    t.client.connect();
    const c = await rb.conn(1);
    await acceptConnect(c);
    await waitFor(() => t.client.connected(), "connected");
    c.send({ cmd: "publish", topic: "big/one", payload: "x".repeat(300), qos: 1, messageId: 3 });
    c.send({ cmd: "publish", topic: "small", payload: "ok", qos: 0 });
    await waitFor(() => t.ev.errors.length > 0, "oversize error");
    const e = t.ev.errors[0];
    assert.equal(e.name, "packet larger than the RX buffer");
    assert.match(e.detail, /topic big\/one size 314/);
    assert.equal(t.client.oversized, 1);
    if (!close) {
      await waitFor(() => t.ev.messages.length === 1, "next message");
      assert.equal(t.ev.messages[0].topic, "small");
      assert.equal((await c.next("puback")).messageId, 3);
      assert.equal(t.client.connected(), true);
    } else {
      await waitFor(() => c.closed, "connection closed");
      assert.equal(t.ev.messages.length, 0);
      assert.equal(c.of("puback").length, 0);
    }
    t.platform.shutdown();
    await rb.close();
  }
});

test("QoS 2 id table full: not delivered, not acknowledged, connection closed; re-sent message delivered once", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.connect.cleanSession = false;
      cfg.qos2Ids = 2;
    }),
  );
  t.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1);
  await waitFor(() => t.client.connected(), "connected");
  for (const id of [1, 2, 3]) c1.send({ cmd: "publish", topic: "q2", payload: "m" + id, qos: 2, messageId: id });
  await waitFor(() => t.ev.errors.length > 0, "table full");
  assert.equal(t.ev.errors[0].name, "too many incoming QoS 2 messages awaiting PUBREL");
  assert.match(t.ev.errors[0].detail, /id 3 topic q2/);
  await waitFor(() => c1.closed, "closed");
  assert.deepEqual(c1.of("pubrec").map((p: any) => p.messageId), [1, 2]);
  assert.deepEqual(t.ev.messages.map((m) => m.payload), ["m1", "m2"]);
  // The broker resumes the session: PUBRELs first, then the unacknowledged PUBLISH again.
  const c2 = await rb.conn(2);
  await acceptConnect(c2, true);
  c2.send({ cmd: "pubrel", messageId: 1 });
  c2.send({ cmd: "pubrel", messageId: 2 });
  c2.send({ cmd: "publish", topic: "q2", payload: "m3", qos: 2, messageId: 3, dup: true });
  await c2.next("pubrec");
  assert.equal((await c2.next("pubcomp", 2)).messageId, 2);
  assert.deepEqual(t.ev.messages.map((m) => m.payload), ["m1", "m2", "m3"]);
  t.platform.shutdown();
  await rb.close();
});
