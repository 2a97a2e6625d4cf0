/**
 * Will on abrupt close (not on DISCONNECT), the offline queue, and the persistent
 * session saved to Storage and restored by a fresh client (as after deep sleep).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, acceptConnect, makeClient, NodePlatform, peer, RawBroker, sleep, startAedes, waitFor, type TestClient } from "./harness.ts";

const track = (t: TestClient): TestClient => t;
after(cleanupAll);

const withWill = (cfg: any) => {
  cfg.connect.willTopic = "wisp/dev1/status";
  cfg.connect.willMessage = "offline";
  cfg.connect.willQos = 1;
  cfg.connect.willRetain = true;
};

test("will is published on abrupt close, not after a clean DISCONNECT", { timeout: 10000 }, async () => {
  const b = await startAedes();
  const p = await peer(b.port);
  const seen: string[] = [];
  p.on("message", (topic, payload, pk) => seen.push(`${topic}=${payload}${pk.retain ? " (retained)" : ""}`));
  await p.subscribeAsync("wisp/+/status", { qos: 1 });
  // Clean: DISCONNECT first, no will.
  const t1 = track(makeClient(b.port, withWill));
  t1.client.connect();
  await waitFor(() => t1.client.connected(), "connected");
  t1.client.publish("wisp/dev1/status", "online", 1, true);
  await waitFor(() => seen.length === 1, "birth");
  t1.client.disconnect();
  await sleep(300);
  assert.deepEqual(seen, ["wisp/dev1/status=online"]);
  // Abrupt: the socket dies without DISCONNECT (power loss, out of range).
  const t2 = track(makeClient(b.port, withWill));
  t2.client.connect();
  await waitFor(() => t2.client.connected(), "connected again");
  t2.platform.shutdown();
  await waitFor(() => seen.length === 2, "will");
  assert.equal(seen[1], "wisp/dev1/status=offline");
  await p.endAsync();
  await b.close();
});

test("offline queue: publishes while disconnected are sent in order on reconnect; bounded with a drop counter", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => {
    acceptConnect(c).catch(() => {});
    c.socket.on("data", () => {
      for (const p of c.of("publish")) {
        if (p.qos === 1 && !p.acked) {
          p.acked = true;
          c.send({ cmd: "puback", messageId: p.messageId });
        }
      }
    });
  };
  const platform = new NodePlatform();
  platform.wifi = false;
  const t = track(
    makeClient(
      rb.port,
      (cfg) => {
        cfg.queue = 4;
        cfg.inflight = 2;
        cfg.wifiPollMs = 50;
      },
      platform,
    ),
  );
  t.client.connect();
  for (let i = 1; i <= 6; i++) assert.equal(t.client.publish("q/" + i, "m" + i, i % 2, false), t.wisp.QUEUED);
  assert.equal(t.client.queued(), 4);
  assert.equal(t.client.dropped, 2);
  assert.equal(t.ev.errors.filter((e) => e.name === "offline queue full: oldest message dropped").length, 2);
  platform.wifi = true;
  const c = await rb.conn(1, 3000);
  await waitFor(() => c.of("publish").length === 4, "queue drained");
  assert.deepEqual(
    c.of("publish").map((p: any) => `${p.topic}:${p.payload}:${p.qos}`),
    ["q/3:m3:1", "q/4:m4:0", "q/5:m5:1", "q/6:m6:0"],
  );
  assert.equal(t.client.queued(), 0);
  const ids = c.of("publish").filter((p: any) => p.qos === 1).map((p: any) => p.messageId);
  assert.equal(new Set(ids).size, 2);
  // Connected with an empty queue: straight out.
  assert.notEqual(t.client.publish("q/7", "m7", 1, false), t.wisp.QUEUED);
  t.platform.shutdown();
  await rb.close();
});

test("session saved to Storage and restored by a new client: in-flight re-sent, QoS 2 ids kept, queue kept", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const storage = new NodePlatform();
  const setup = (cfg: any) => {
    cfg.connect.cleanSession = false;
    cfg.connect.clientId = "sleepy";
  };
  const t1 = track(makeClient(rb.port, setup, storage));
  t1.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1);
  await waitFor(() => t1.client.connected(), "connected");
  const a = t1.client.publish("s/a", "A", 1, false);
  const b = t1.client.publish("s/b", "B", 2, false);
  await c1.next("publish", 2);
  c1.send({ cmd: "pubrec", messageId: b });
  c1.send({ cmd: "publish", topic: "in", payload: "once", qos: 2, messageId: 42 });
  await c1.next("pubrel");
  await c1.next("pubrec");
  t1.client.disconnect();
  // Offline now: one more into the queue, then save (before deep sleep).
  assert.equal(t1.client.publish("s/c", "C", 1, false), t1.wisp.QUEUED);
  assert.equal(t1.client.saveSession("wisp.session"), true);
  t1.platform.shutdown();
  // "After deep sleep": a new sandbox, same Storage.
  const platform2 = new NodePlatform();
  platform2.files = storage.files;
  const t2 = track(makeClient(rb.port, setup, platform2));
  assert.equal(t2.client.restoreSession("wisp.session"), true);
  assert.equal(t2.client.inflightFree(), 2);
  assert.equal(t2.client.queued(), 1);
  t2.client.connect();
  const c2 = await rb.conn(2);
  await acceptConnect(c2, true);
  await c2.next("publish", 2);
  const seq = c2.packets.map((p: any) => `${p.cmd}:${p.messageId ?? ""}:${p.topic ?? ""}:${p.dup ? "dup" : ""}`);
  assert.equal(seq[1], `publish:${a}:s/a:dup`);
  assert.equal(seq[2], `pubrel:${b}::`);
  assert.match(seq[3], /^publish:\d+:s\/c:$/);
  assert.notEqual(c2.of("publish")[1].messageId, a);
  // The QoS 2 id 42 awaiting PUBREL survived: a re-send is not delivered again.
  c2.send({ cmd: "publish", topic: "in", payload: "once", qos: 2, messageId: 42, dup: true });
  await c2.next("pubrec");
  c2.send({ cmd: "pubrel", messageId: 42 });
  await c2.next("pubcomp");
  assert.equal(t2.ev.messages.length, 0);
  // A session saved for another client id, or garbage, is refused with a clear error.
  const other = track(makeClient(rb.port, (cfg) => (cfg.connect.clientId = "someone-else"), platform2));
  assert.equal(other.client.restoreSession("wisp.session"), false);
  assert.equal(other.ev.errors[0].name, "saved session unreadable");
  platform2.files.set("junk", "WS1\x00\x06sleepy\x00\x01\x00\x09");
  assert.equal(t2.client.restoreSession("junk"), false);
  assert.equal(t2.client.restoreSession("absent"), false);
  t2.platform.shutdown();
  await rb.close();
});
