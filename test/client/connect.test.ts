/**
 * CONNECT fields, CONNACK return codes as named errors, session present honoured.
 * Runs the compiled client bundle (dist/espruino/client.js) in the sandbox.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, acceptConnect, makeClient, RawBroker, startAedes, waitFor, type TestClient } from "./harness.ts";

const track = (t: TestClient): TestClient => t;
after(cleanupAll);

test("CONNECT carries every field", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.connect.clientId = "sensor-42";
      cfg.connect.cleanSession = false;
      cfg.connect.keepAlive = 17;
      cfg.connect.username = "user";
      cfg.connect.password = "p\x00\xffss";
      cfg.connect.willTopic = "wisp/sensor-42/status";
      cfg.connect.willMessage = "offline";
      cfg.connect.willQos = 1;
      cfg.connect.willRetain = true;
    }),
  );
  t.client.connect();
  const c = await rb.conn(1);
  const p = await acceptConnect(c);
  assert.equal(p.protocolId, "MQTT");
  assert.equal(p.protocolVersion, 4);
  assert.equal(p.clientId, "sensor-42");
  assert.equal(p.clean, false);
  assert.equal(p.keepalive, 17);
  assert.equal(p.username, "user");
  assert.deepEqual([...p.password], [0x70, 0, 0xff, 0x73, 0x73]);
  assert.equal(p.will.topic, "wisp/sensor-42/status");
  assert.equal(p.will.payload.toString(), "offline");
  assert.equal(p.will.qos, 1);
  assert.equal(p.will.retain, true);
  await waitFor(() => t.ev.connects.length === 1, "onConnect");
  assert.equal(t.client.connected(), true);
  assert.ok(t.platform.logs.includes("mqtt connected session=0"));
  t.client.disconnect();
  await c.next("disconnect");
  t.platform.shutdown();
  await rb.close();
});

const NAMES: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

test("CONNACK return codes 1-5 are named errors; refusals other than 'server unavailable' back off further, never stop", { timeout: 15000 }, async () => {
  for (let rc = 1; rc <= 5; rc++) {
    const rb = await new RawBroker().start();
    rb.onConn = (c) => void acceptConnect(c, false, rc).catch(() => {});
    const t = track(makeClient(rb.port));
    t.client.connect();
    await waitFor(() => t.ev.errors.length > 0, `error for rc ${rc}`);
    assert.equal(t.ev.errors[0].code, -40 - rc);
    assert.equal(t.ev.errors[0].name, NAMES[rc]);
    assert.equal(t.client.connected(), false);
    if (rc === 3) {
      await rb.conn(2, 3000); // retried after back-off
    } else {
      await new Promise((r) => setTimeout(r, 120)); // the first longer delay is 200..400 ms here
      assert.equal(rb.conns.length, 1, `rc ${rc} must not be retried in a tight loop (the longer back-off starts at backoffMaxMs)`);
      assert.equal(t.client.state, t.wisp.S_BACKOFF, "waiting to try again, not stopped");
      assert.equal(t.client.trouble, -40 - rc);
    }
    t.platform.shutdown();
    await rb.close();
  }
});

test("aedes authenticate hook: bad user name or password, not authorized", { timeout: 10000 }, async () => {
  for (const rc of [4, 5]) {
    const b = await startAedes({
      authenticate: (_c, _u, _p, done) => {
        const e = Object.assign(new Error("no"), { returnCode: rc });
        done(e as any, null);
      },
    });
    const t = track(
      makeClient(b.port, (cfg) => {
        cfg.connect.username = "u";
        cfg.connect.password = "wrong";
      }),
    );
    t.client.connect();
    await waitFor(() => t.ev.errors.length > 0, "CONNACK error");
    assert.equal(t.ev.errors[0].name, NAMES[rc]);
    t.platform.shutdown();
    await b.close();
  }
});

test("session present: re-subscribe only when the broker lost the session", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.connect.cleanSession = false;
    }),
  );
  assert.equal(t.client.subscribe(["a/+", "b/#"], [1, 2], null), t.wisp.DEFERRED);
  t.client.connect();
  const c1 = await rb.conn(1);
  await acceptConnect(c1, false);
  const s1 = await c1.next("subscribe");
  assert.deepEqual(
    s1.subscriptions.map((s: any) => [s.topic, s.qos]),
    [
      ["a/+", 1],
      ["b/#", 2],
    ],
  );
  c1.send({ cmd: "suback", messageId: s1.messageId, granted: [1, 2] });
  await waitFor(() => t.ev.subscribed.length === 2, "SUBACK handled");
  c1.socket.destroy();
  // Second connection: session present, no SUBSCRIBE.
  const c2 = await rb.conn(2);
  await acceptConnect(c2, true);
  await waitFor(() => t.ev.connects.length === 2, "reconnected");
  assert.deepEqual(t.ev.connects, [false, true]);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(c2.of("subscribe").length, 0);
  c2.socket.destroy();
  // Third: the broker lost the session: subscribe again.
  const c3 = await rb.conn(3);
  await acceptConnect(c3, false);
  const s3 = await c3.next("subscribe");
  assert.deepEqual(
    s3.subscriptions.map((s: any) => s.topic),
    ["a/+", "b/#"],
  );
  t.platform.shutdown();
  await rb.close();
});
