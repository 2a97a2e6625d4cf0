/**
 * Field robustness of the client (issue 10): a board nobody can reset never gives up
 * for good. Refusals, suspected take-overs and repeated protocol errors back off
 * further (up to `backoffCeilingMs`) and name what happened; reconnects do not pile
 * births into the in-flight table; synchronous throws from the platform become named
 * errors and a retry. All on the compiled bundle (dist/espruino/client.js).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { acceptConnect, cleanupAll, makeClient, RawBroker, sleep, waitFor, type TestClient } from "./harness.ts";

after(cleanupAll);

const track = (t: TestClient) => t;

/** Small back-off figures so a test sees several rounds in a few seconds. */
const quick = (cfg: any) => {
  cfg.backoffMinMs = 50;
  cfg.backoffMaxMs = 100;
  cfg.backoffCeilingMs = 400;
};

for (const rc of [1, 2, 4, 5]) {
  test(`CONNACK ${rc}: named, retried with a longer back-off, connects once the broker accepts (no reboot)`, { timeout: 20000 }, async () => {
    const rb = await new RawBroker().start();
    let refuse = true;
    rb.onConn = (c) => void acceptConnect(c, false, refuse ? rc : 0).catch(() => {});
    const t = track(makeClient(rb.port, quick));
    t.client.connect();
    await rb.conn(3, 8000); // refused, and tried again, twice
    assert.ok(t.ev.errors.some((e) => e.code === -40 - rc), "the refusal is named");
    assert.notEqual(t.client.state, t.wisp.S_STOPPED, "never stopped by the client itself");
    assert.equal(t.client.trouble, -40 - rc, "the refusal is kept for the app to publish");
    refuse = false; // credentials fixed on the broker
    await waitFor(() => t.client.connected(), "connected after the broker accepts", 8000);
    t.platform.shutdown();
    await rb.close();
  });
}

test("refusals back off further each time, up to the ceiling, with jitter", { timeout: 20000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c, false, 5).catch(() => {});
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.backoffMinMs = 20;
      cfg.backoffMaxMs = 40;
      cfg.backoffCeilingMs = 300;
    }),
  );
  t.platform.random = () => 0.999; // top of the jitter range: delays are the bounds themselves
  t.client.connect();
  await rb.conn(6, 15000);
  const delays = t.platform.logs.filter((l) => l.startsWith("mqtt: reconnect in ")).map((l) => Number(l.split(" ")[3]));
  assert.ok(delays.length >= 5, delays.join(","));
  assert.ok(delays[0] >= 38, `after a refusal the first delay starts at the ordinary ceiling: ${delays}`);
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1], `growing: ${delays}`);
  assert.ok(delays.every((d) => d <= 300), `never above the ceiling: ${delays}`);
  assert.ok(delays.slice(-2).every((d) => d >= 280), `reaches the ceiling: ${delays}`);
  t.platform.shutdown();
  await rb.close();
});

test("suspected take-over: named, then retried later (not stopped); a stable connection afterwards resets it", { timeout: 20000 }, async () => {
  const rb = await new RawBroker().start();
  let kick = true;
  rb.onConn = (c) => {
    acceptConnect(c)
      .then(() => {
        if (kick) setTimeout(() => c.socket.destroy(), 10);
      })
      .catch(() => {});
  };
  const t = track(
    makeClient(rb.port, (cfg) => {
      quick(cfg);
      cfg.takeoverCount = 3;
      cfg.takeoverMs = 1000;
    }),
  );
  t.client.connect();
  await waitFor(() => t.ev.errors.some((e) => e.code === t.wisp.ERR_TAKEOVER), "take-over reported", 8000);
  assert.equal(t.client.trouble, t.wisp.ERR_TAKEOVER);
  const n = rb.conns.length;
  kick = false; // the other device went away
  await rb.conn(n + 1, 5000);
  await waitFor(() => t.client.connected(), "connected again", 5000);
  assert.notEqual(t.client.state, t.wisp.S_STOPPED);
  t.platform.shutdown();
  await rb.close();
});

test("repeated protocol errors (a malformed CONNACK every time): named, retried with back-off, recovers", { timeout: 20000 }, async () => {
  const rb = await new RawBroker().start();
  let bad = true;
  rb.onConn = (c) => {
    c.next("connect")
      .then(() => {
        if (bad) c.sendRaw(Buffer.from([0x20, 0x02, 0x02, 0x00])); // reserved acknowledge flag bit set
        else c.send({ cmd: "connack", sessionPresent: false, returnCode: 0 });
      })
      .catch(() => {});
  };
  const t = track(makeClient(rb.port, quick));
  t.client.connect();
  await rb.conn(4, 8000);
  assert.ok(t.ev.errors.some((e) => e.code === -17), t.ev.errors.map((e) => e.name).join(","));
  assert.ok(t.ev.errors.some((e) => e.code === t.wisp.ERR_BROKER_FAULTS), "repeated faults named");
  assert.equal(t.client.trouble, t.wisp.ERR_BROKER_FAULTS);
  bad = false;
  await waitFor(() => t.client.connected(), "connected once the broker behaves", 8000);
  t.platform.shutdown();
  await rb.close();
});

test("no birth pile-up: an unacknowledged birth is re-sent (DUP), never queued again, across many reconnects", { timeout: 20000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => {
    acceptConnect(c)
      .then(() => setTimeout(() => c.socket.destroy(), 150)) // no PUBACK, then the link drops
      .catch(() => {});
  };
  const t = track(
    makeClient(rb.port, (cfg) => {
      quick(cfg);
      cfg.inflight = 3;
      cfg.takeoverMs = 50;
      cfg.birthTopic = "wisp/dev1/status";
      cfg.birthMessage = "online";
    }),
  );
  t.client.connect();
  await rb.conn(6, 10000);
  await waitFor(() => rb.conns[5].of("publish").length >= 1, "birth on the sixth connection");
  assert.equal(t.client.inflightFree(), 2, "one birth in flight, not one per reconnect");
  assert.ok(!t.ev.errors.some((e) => e.code === t.wisp.ERR_INFLIGHT_FULL), t.ev.errors.map((e) => e.name + " " + e.detail).join("; "));
  const births = rb.conns[5].of("publish");
  assert.equal(births.length, 1);
  assert.equal(births[0].dup, true, "the same birth, re-sent");
  t.platform.shutdown();
  await rb.close();
});

test("net.connect throwing (unknown host) is a named error and a retry, not a stuck state", { timeout: 15000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  const t = track(makeClient(rb.port, quick));
  const realOpen = t.platform.open.bind(t.platform);
  let throws = 2;
  t.platform.open = ((...a: Parameters<typeof realOpen>) => {
    if (throws > 0) {
      throws--;
      throw new Error("Not found");
    }
    return realOpen(...a);
  }) as typeof t.platform.open;
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected after two throws", 8000);
  const e = t.ev.errors.filter((x) => x.code === t.wisp.ERR_NO_LINK);
  assert.equal(e.length, 2);
  assert.match(e[0].detail, /Not found/);
  t.platform.shutdown();
  await rb.close();
});

test("a socket write that throws drops the link with a named error and reconnects; the reading is kept", { timeout: 15000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  const t = track(makeClient(rb.port, quick));
  const realOpen = t.platform.open.bind(t.platform);
  let sabotage = true;
  t.platform.open = ((...a: Parameters<typeof realOpen>) => {
    const l = realOpen(...a);
    if (l === null) return l;
    const w = l.write;
    l.write = (d: string) => {
      // CONNECT goes out; the first PUBLISH finds the socket gone.
      if (sabotage && d.charCodeAt(0) >> 4 === 3) {
        sabotage = false;
        throw new Error("Socket closed");
      }
      return w(d);
    };
    return l;
  }) as typeof t.platform.open;
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected");
  const id = t.client.publish("wisp/dev1/telemetry", "r1", 1, false);
  assert.ok(id > 0);
  await waitFor(() => t.ev.errors.some((e) => e.code === t.wisp.ERR_WRITE), "write failure named");
  const c2 = await rb.conn(2, 5000);
  const p = await c2.next("publish");
  assert.equal(p.payload.toString(), "r1", "the reading is re-sent on the next connection");
  t.platform.shutdown();
  await rb.close();
});

test("only the application stops the client: disconnect() stops, connect() starts again", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  const t = track(makeClient(rb.port, quick));
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected");
  t.client.disconnect();
  assert.equal(t.client.state, t.wisp.S_STOPPED);
  await sleep(300);
  assert.equal(rb.conns.length, 1);
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected again");
  t.platform.shutdown();
  await rb.close();
});
