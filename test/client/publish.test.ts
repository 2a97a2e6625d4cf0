/**
 * Outgoing publishes: QoS 0/1/2 seen by MQTT.js through aedes, the fixed in-flight
 * table (ids unique while in flight, "in-flight full"), DUP re-send and PUBREL
 * re-send on reconnect with a persistent session.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, acceptConnect, makeClient, peer, RawBroker, startAedes, waitFor, type TestClient } from "./harness.ts";

const track = (t: TestClient): TestClient => t;
after(cleanupAll);

test("QoS 0, 1 and 2 publishes reach an MQTT.js subscriber; QoS 1/2 report completion", { timeout: 10000 }, async () => {
  const b = await startAedes();
  const p = await peer(b.port);
  await p.subscribeAsync("wisp/#", { qos: 2 });
  const got: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
  p.on("message", (topic, payload, pk) => got.push({ topic, payload: payload.toString("latin1"), qos: pk.qos, retain: pk.retain }));
  const t = track(makeClient(b.port));
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected");
  assert.equal(t.client.publish("wisp/q0", "zero", 0, false), 0);
  const id1 = t.client.publish("wisp/q1", "one", 1, false);
  const id2 = t.client.publish("wisp/q2", "two\x00\xff", 2, false);
  assert.ok(id1 > 0 && id2 > 0 && id1 !== id2);
  await waitFor(() => got.length === 3, "three messages");
  await waitFor(() => t.ev.published.length === 2, "PUBACK and PUBCOMP");
  assert.deepEqual(t.ev.published.sort(), [id1, id2].sort());
  assert.deepEqual(
    got.sort((a, c) => a.topic.localeCompare(c.topic)),
    [
      { topic: "wisp/q0", payload: "zero", qos: 0, retain: false },
      { topic: "wisp/q1", payload: "one", qos: 1, retain: false },
      { topic: "wisp/q2", payload: "two\x00\xff", qos: 2, retain: false },
    ],
  );
  assert.equal(t.client.inflightFree(), 4);
  // Retained publish, then clearing it with an empty retained payload.
  t.client.publish("wisp/r", "kept", 1, true);
  await waitFor(() => t.ev.published.length === 3, "retained acked");
  const p2 = await peer(b.port);
  const retained: string[] = [];
  p2.on("message", (_t, payload, pk) => pk.retain && retained.push(payload.toString()));
  await p2.subscribeAsync("wisp/r", { qos: 1 });
  await waitFor(() => retained.length === 1, "retained message");
  assert.equal(retained[0], "kept");
  t.client.publish("wisp/r", "", 1, true);
  await waitFor(() => t.ev.published.length === 4, "clear acked");
  const p3 = await peer(b.port);
  const after3: string[] = [];
  p3.on("message", (_t, payload) => after3.push(payload.toString()));
  await p3.subscribeAsync("wisp/r", { qos: 1 });
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(after3, []);
  t.client.disconnect();
  await Promise.all([p.endAsync(), p2.endAsync(), p3.endAsync()]);
  t.platform.shutdown();
  await b.close();
});

test("in-flight table: fixed size, unique ids while in flight, clear 'in-flight full'", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.inflight = 3;
    }),
  );
  t.client.connect();
  const c = await rb.conn(1);
  await acceptConnect(c);
  await waitFor(() => t.client.connected(), "connected");
  const ids = [t.client.publish("t", "a", 1, false), t.client.publish("t", "b", 2, false), t.client.publish("t", "c", 1, false)];
  assert.equal(new Set(ids).size, 3);
  const full = t.client.publish("t", "d", 1, false);
  assert.equal(full, t.wisp.ERR_INFLIGHT_FULL);
  assert.equal(t.wisp.clientErrorName(full), "in-flight full");
  assert.equal(t.client.publish("t", "qos0 still goes", 0, false), 0);
  // Free the middle slot (QoS 2: PUBREC -> PUBREL -> PUBCOMP); the new id differs from those still in flight.
  await c.next("publish", 3);
  c.send({ cmd: "pubrec", messageId: ids[1] });
  const rel = await c.next("pubrel");
  assert.equal(rel.messageId, ids[1]);
  assert.equal(t.client.publish("t", "e", 1, false), t.wisp.ERR_INFLIGHT_FULL, "PUBREL sent but not complete: slot still held");
  c.send({ cmd: "pubcomp", messageId: ids[1] });
  await waitFor(() => t.ev.published.includes(ids[1]), "PUBCOMP");
  // Drive the id counter round: many publish/ack cycles never reuse ids[0] or ids[2].
  for (let i = 0; i < 200; i++) {
    const id = t.client.publish("t", "x", 1, false);
    assert.ok(id > 0, `publish ${i}: ${id}`);
    assert.notEqual(id, ids[0]);
    assert.notEqual(id, ids[2]);
    c.send({ cmd: "puback", messageId: id });
    await waitFor(() => t.ev.published.includes(id), "PUBACK " + id);
  }
  assert.equal(t.client.inflightFree(), 1);
  t.platform.shutdown();
  await rb.close();
});

test("persistent session: unacked PUBLISH re-sent with DUP in order, PUBREL re-sent for QoS 2 past PUBREC", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.connect.cleanSession = false;
    }),
  );
  t.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1);
  await waitFor(() => t.client.connected(), "connected");
  const a = t.client.publish("t/a", "A", 1, false);
  const b = t.client.publish("t/b", "B", 2, false);
  const c = t.client.publish("t/c", "C", 2, false);
  await c1.next("publish", 3);
  assert.equal(c1.of("publish").some((p: any) => p.dup), false);
  c1.send({ cmd: "pubrec", messageId: b });
  await c1.next("pubrel");
  c1.socket.destroy();
  const c2 = await rb.conn(2);
  await acceptConnect(c2, true);
  await c2.next("publish", 2);
  await c2.next("pubrel");
  const seq = c2.packets.map((p: any) => `${p.cmd}:${p.messageId ?? ""}:${p.dup ? "dup" : ""}`);
  assert.deepEqual(seq, ["connect::", `publish:${a}:dup`, `pubrel:${b}:`, `publish:${c}:dup`]);
  const pa = c2.of("publish")[0];
  assert.equal(pa.topic, "t/a");
  assert.equal(pa.payload.toString(), "A");
  assert.equal(pa.qos, 1);
  c2.send({ cmd: "puback", messageId: a });
  c2.send({ cmd: "pubcomp", messageId: b });
  c2.send({ cmd: "pubrec", messageId: c });
  await c2.next("pubrel", 2);
  c2.send({ cmd: "pubcomp", messageId: c });
  await waitFor(() => t.ev.published.length === 3, "all complete");
  assert.equal(t.client.inflightFree(), 4);
  t.platform.shutdown();
  await rb.close();
});

test("session lost on reconnect: unacked publishes are sent again; a flow past PUBREC is complete", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(makeClient(rb.port, (cfg) => (cfg.connect.cleanSession = false)));
  t.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1);
  await waitFor(() => t.client.connected(), "connected");
  const a = t.client.publish("t/a", "A", 1, false);
  const b = t.client.publish("t/b", "B", 2, false);
  await c1.next("publish", 2);
  c1.send({ cmd: "pubrec", messageId: b });
  await c1.next("pubrel");
  c1.socket.destroy();
  const c2 = await rb.conn(2);
  await acceptConnect(c2, false);
  await c2.next("publish", 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    c2.packets.map((p: any) => p.cmd),
    ["connect", "publish"],
  );
  assert.equal(c2.of("publish")[0].messageId, a);
  assert.ok(t.ev.published.includes(b));
  t.platform.shutdown();
  await rb.close();
});
