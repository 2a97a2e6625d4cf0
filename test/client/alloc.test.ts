/**
 * No steady-state allocation: once connected, 10,000 messages at each QoS in each
 * direction construct no buffer in the sandbox (every Uint8Array/ArrayBuffer/
 * DataView construction, subarray views included, is counted).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, makeClient, peer, startAedes, waitFor, type TestClient } from "./harness.ts";

const N = 10000;
after(cleanupAll);

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test("10,000 messages at each QoS, out and in, construct zero buffers once connected", { timeout: 120000 }, async () => {
  const b = await startAedes();
  const p = await peer(b.port);
  const got = [0, 0, 0];
  p.on("message", (_t, _m, pk) => got[pk.qos]++);
  await p.subscribeAsync("up/#", { qos: 2 });
  const t = makeClient(b.port, (cfg) => {
    cfg.inflight = 8;
    cfg.qos2Ids = 32;
  });
  let inbound = 0;
  t.client.connect();
  await waitFor(() => t.client.connected(), "connected");
  t.client.subscribe(["down/#"], [2], () => inbound++);
  await waitFor(() => t.ev.subscribed.length === 1, "SUBACK");
  const before = t.sandbox.bufferCount();
  assert.ok(before >= 1 + 1 + 8 + 8, `boot allocated RX, TX, 8 in-flight and 8 queue buffers (counted ${before})`);
  for (const qos of [0, 1, 2]) {
    let sent = 0;
    while (sent < N) {
      const r = t.client.publish("up/" + qos, "payload-" + sent, qos, false);
      if (r === t.wisp.ERR_INFLIGHT_FULL) {
        await tick();
        continue;
      }
      assert.ok(r >= 0, `publish returned ${r}`);
      sent++;
      if (sent % 200 === 0) await tick();
    }
    await waitFor(() => got[qos] === N, `${N} QoS ${qos} messages at the peer`, 60000);
    await waitFor(() => t.client.inflightFree() === 8, "in-flight drained");
  }
  assert.equal(t.ev.published.length, 2 * N);
  for (const qos of [0, 1, 2] as const) {
    const start = inbound;
    // MQTT 3.1.1 has no receive window: aedes forwards as fast as it can. Pace the
    // sender in windows the client's QoS 2 id table (32) can hold.
    for (let i = 0; i < N; i++) {
      p.publish("down/" + qos, "m" + i, { qos });
      if (i % 16 === 15) await waitFor(() => inbound === start + i + 1, "window", 10000);
    }
    await waitFor(() => inbound === start + N, `${N} QoS ${qos} messages at the client`, 60000);
  }
  assert.equal(t.sandbox.bufferCount() - before, 0, "buffer constructions after connect");
  assert.equal(t.client.connected(), true);
  assert.equal(t.ev.errors.length, 0);
  t.client.disconnect();
});
