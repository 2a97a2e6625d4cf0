/**
 * Keep-alive (PINGREQ when idle, dead link after 1.5x keep-alive without an answer,
 * 0 disables), reconnect back-off with jitter, waiting for Wi-Fi, take-over detection.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, acceptConnect, makeClient, RawBroker, sleep, waitFor, type TestClient } from "./harness.ts";

const track = (t: TestClient): TestClient => t;
after(cleanupAll);

test("PINGREQ after keep-alive idle; link stays up while PINGRESP comes", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => {
    acceptConnect(c).catch(() => {});
    c.socket.on("data", () => {
      for (const p of c.of("pingreq").slice(c.of("pingresp-sent").length)) {
        c.packets.push({ cmd: "pingresp-sent" });
        c.send({ cmd: "pingresp" });
        void p;
      }
    });
  };
  const t = track(makeClient(rb.port, (cfg) => (cfg.connect.keepAlive = 1)));
  t.client.connect();
  const c = await rb.conn(1);
  await waitFor(() => t.client.connected(), "connected");
  const t0 = Date.now();
  await c.next("pingreq", 1, 3000);
  const first = Date.now() - t0;
  assert.ok(first >= 900 && first < 3000, `first PINGREQ after ${first} ms`);
  await c.next("pingreq", 3, 4000);
  assert.equal(t.client.connected(), true);
  assert.equal(rb.conns.length, 1);
  t.platform.shutdown();
  await rb.close();
});

test("dead link: no PINGRESP within 1.5x keep-alive closes and reconnects", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  const t = track(makeClient(rb.port, (cfg) => (cfg.connect.keepAlive = 1)));
  t.client.connect();
  const c = await rb.conn(1);
  await waitFor(() => t.client.connected(), "connected");
  const t0 = Date.now();
  await waitFor(() => t.ev.errors.length > 0, "dead link", 4000);
  const took = Date.now() - t0;
  assert.equal(t.ev.errors[0].name, "no answer to PINGREQ: link dead");
  assert.ok(took >= 1400 && took < 3500, `declared dead after ${took} ms`);
  await waitFor(() => c.closed, "old socket closed");
  await rb.conn(2, 3000);
  t.platform.shutdown();
  await rb.close();
});

test("keep-alive 0 sends no PINGREQ and never declares the link dead", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  const t = track(makeClient(rb.port, (cfg) => (cfg.connect.keepAlive = 0)));
  t.client.connect();
  const c = await rb.conn(1);
  await waitFor(() => t.client.connected(), "connected");
  await sleep(1500);
  assert.equal(c.of("pingreq").length, 0);
  assert.equal(t.client.connected(), true);
  t.platform.shutdown();
  await rb.close();
});

test("reconnect back-off: doubling, bounded, jittered; waits while Wi-Fi is down", { timeout: 15000 }, async () => {
  const rb = await new RawBroker().start();
  const times: number[] = [];
  rb.onConn = (c) => {
    times.push(Date.now());
    c.socket.destroy();
  };
  const t = track(
    makeClient(rb.port, (cfg) => {
      cfg.backoffMinMs = 100;
      cfg.backoffMaxMs = 400;
      cfg.wifiPollMs = 50;
    }),
  );
  t.client.connect();
  await waitFor(() => times.length >= 7, "7 attempts", 8000);
  const gaps = times.slice(1).map((x, i) => x - times[i]);
  // Delay n is 50..100 % of min(100 * 2^n, 400), plus connect time.
  const bounds = [100, 200, 400, 400, 400, 400];
  gaps.slice(0, 6).forEach((g, i) => {
    assert.ok(g >= bounds[i] / 2 - 5 && g <= bounds[i] + 400, `gap ${i} = ${g} ms, expected ${bounds[i] / 2}..${bounds[i]}`);
  });
  assert.ok(t.platform.logs.some((l) => /reconnect in \d+ ms/.test(l)));
  // Wi-Fi down: no attempts at all until it is back.
  t.platform.wifi = false;
  await sleep(600);
  const n = times.length;
  await sleep(600);
  assert.equal(times.length, n, "no connection attempt while Wi-Fi is down");
  assert.ok(t.platform.logs.includes("mqtt: waiting for wifi"));
  rb.onConn = (c) => void acceptConnect(c).catch(() => {});
  t.platform.wifi = true;
  await waitFor(() => t.client.connected(), "connected after Wi-Fi returns", 3000);
  t.platform.shutdown();
  await rb.close();
});

test("take-over: closed right after each successful connect is reported and fought less (longer back-off), never given up", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  rb.onConn = (c) => {
    acceptConnect(c)
      .then(() => setTimeout(() => c.socket.destroy(), 20))
      .catch(() => {});
  };
  const t = track(makeClient(rb.port, (cfg) => (cfg.takeoverCount = 3)));
  t.client.connect();
  await waitFor(() => t.ev.errors.some((e) => e.code === t.wisp.ERR_TAKEOVER), "take-over reported", 5000);
  const n = rb.conns.length;
  assert.equal(n, 3);
  assert.equal(t.client.state, t.wisp.S_BACKOFF, "still trying, less often");
  await rb.conn(4, 5000);
  t.platform.shutdown();
  await rb.close();
});

test("no CONNACK in time: closed and retried", { timeout: 10000 }, async () => {
  const rb = await new RawBroker().start();
  const t = track(makeClient(rb.port, (cfg) => (cfg.connectTimeoutMs = 300)));
  t.client.connect();
  await waitFor(() => t.ev.errors.some((e) => e.name === "no CONNACK in time"), "timeout", 3000);
  await rb.conn(2, 3000);
  t.platform.shutdown();
  await rb.close();
});
