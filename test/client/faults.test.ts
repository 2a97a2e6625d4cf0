/**
 * Fault injection through a TCP proxy the test controls (test/helpers/proxy.ts),
 * compiled client.js in the sandbox, persistent session (cleanSession false):
 *
 *   - the link is cut at every byte offset of a QoS 1 and a QoS 2 exchange, device
 *     publishing and device receiving, in both directions (mosquitto);
 *   - mosquitto is stopped and restarted with persistence on in the middle of a flow;
 *   - half-open link (the proxy stops forwarding, no close): detected and reconnected
 *     within 1.5x the keep-alive plus a margin, on the board's clock (aedes).
 *
 * Guarantees checked: the far end (MQTT.js, persistent session) gets every QoS 1
 * message at least once and every QoS 2 message exactly once; the device application
 * never gets a QoS 2 message twice (and gets every one).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import mqtt from "mqtt";
import { cleanupAll, HOST, makeClient, onCleanup, sleep, startAedes, waitFor, type TestClient } from "./harness.ts";
import { mosquittoSkip, startMosquitto, type Mosquitto } from "../helpers/mosquitto.ts";
import { Proxy, type Dir } from "../helpers/proxy.ts";

after(cleanupAll);
const skip = mosquittoSkip();

async function proxyTo(port: number): Promise<Proxy> {
  const p = await new Proxy(port).start();
  onCleanup(() => p.stop());
  return p;
}

/** The far end: MQTT.js with a persistent session, reconnecting by itself. */
async function farEnd(port: number, clientId: string) {
  const c = mqtt.connect({ host: HOST, port, protocolVersion: 4, clientId, clean: false, reconnectPeriod: 100, connectTimeout: 5000 });
  onCleanup(() => c.endAsync(true));
  await new Promise<void>((res, rej) => {
    c.once("connect", () => res());
    c.once("error", rej);
  });
  const got = new Map<string, number>();
  c.on("message", (_topic, payload) => {
    const k = payload.toString();
    got.set(k, (got.get(k) ?? 0) + 1);
  });
  await c.subscribeAsync("up/#", { qos: 2 });
  return { c, got };
}

/** The device: persistent session, quick back-off, no take-over give-up (we cut on purpose). */
function device(port: number, clientId: string): { t: TestClient; got: Map<string, number> } {
  const t = makeClient(port, (cfg) => {
    cfg.connect.clientId = clientId;
    cfg.connect.cleanSession = false;
    cfg.connect.keepAlive = 30;
    cfg.backoffMinMs = 20;
    cfg.backoffMaxMs = 60;
    cfg.takeoverCount = 1000000;
    cfg.connectTimeoutMs = 3000;
    cfg.queue = 64;
  });
  const got = new Map<string, number>();
  t.client.subscribe(["down/#"], [2], (_topic: string, payload: string) => got.set(payload, (got.get(payload) ?? 0) + 1));
  return { t, got };
}

/** Wait until the proxy carried no byte for `ms`. */
async function quiet(p: Proxy, ms = 120): Promise<void> {
  let last = p.bytes.up + p.bytes.down;
  let since = Date.now();
  const end = Date.now() + 10000;
  while (Date.now() - since < ms) {
    if (Date.now() > end) throw new Error("proxy never went quiet");
    await sleep(10);
    const now = p.bytes.up + p.bytes.down;
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

type Kind = "pub1" | "pub2" | "recv1" | "recv2";

test("cut at every byte offset of QoS 1 and QoS 2 exchanges, both directions, device publishing and receiving (mosquitto)", { skip, timeout: 60000 }, async () => {
  const broker = await startMosquitto();
  onCleanup(() => broker.stop());
  const proxy = await proxyTo(broker.port);
  const far = await farEnd(broker.port, "far-cut");
  const { t, got: devGot } = device(proxy.port, "dev-cut");
  t.client.connect();
  await waitFor(() => t.client.connected() && t.ev.subscribed.length === 1, "device connected and subscribed");
  await quiet(proxy);
  const inflight = t.client.inflightFree();

  const expected = new Map<string, Kind>();
  let seq = 0;
  const trigger = async (kind: Kind): Promise<string> => {
    const payload = `${kind}-${String(seq++).padStart(4, "0")}`;
    expected.set(payload, kind);
    if (kind === "pub1" || kind === "pub2") {
      const r = t.client.publish("up/x", payload, kind === "pub1" ? 1 : 2, false);
      assert.ok(r > 0, `publish returned ${r}`);
    } else {
      far.c.publish("down/x", payload, { qos: kind === "recv1" ? 1 : 2 });
    }
    return payload;
  };
  const delivered = (kind: Kind, payload: string): boolean =>
    kind === "pub1" || kind === "pub2" ? (far.got.get(payload) ?? 0) > 0 && t.client.inflightFree() === inflight : (devGot.get(payload) ?? 0) > 0;

  // Lengths of each exchange per direction, measured on one uncut run.
  const len = new Map<Kind, { up: number; down: number }>();
  for (const kind of ["pub1", "pub2", "recv1", "recv2"] as Kind[]) {
    const b0 = { ...proxy.bytes };
    const payload = await trigger(kind);
    await waitFor(() => delivered(kind, payload), `uncut ${kind}`);
    await quiet(proxy);
    len.set(kind, { up: proxy.bytes.up - b0.up, down: proxy.bytes.down - b0.down });
  }
  // QoS 1: PUBLISH + PUBACK(4); QoS 2: PUBLISH + PUBREL(4) one way, PUBREC + PUBCOMP (8) the other.
  assert.equal(len.get("pub1")!.down, 4);
  assert.equal(len.get("pub2")!.down, 8);
  assert.equal(len.get("recv1")!.up, 4);
  assert.equal(len.get("recv2")!.up, 8);

  let cuts = 0;
  const offsets: string[] = [];
  for (const kind of ["pub1", "pub2", "recv1", "recv2"] as Kind[]) {
    for (const dir of ["up", "down"] as Dir[]) {
      const total = len.get(kind)![dir];
      for (let n = 0; n <= total; n++) {
        const connects = t.ev.connects.length;
        const cutsBefore = proxy.cuts;
        proxy.cutAfter(dir, n);
        const payload = await trigger(kind);
        const what = `${kind} ${dir} cut after ${n}/${total} bytes`;
        await waitFor(() => proxy.cuts > cutsBefore, `${what}: the cut`, 10000);
        await waitFor(() => t.ev.connects.length > connects && t.client.connected(), `${what}: reconnect`, 10000);
        await waitFor(() => delivered(kind, payload), `${what}: delivery`, 10000);
        await quiet(proxy);
        // Every reconnect resumes the session the broker kept.
        assert.equal(t.ev.connects[t.ev.connects.length - 1], true, `${what}: session present`);
        cuts++;
      }
      offsets.push(`${kind}/${dir}: 0..${total}`);
    }
  }
  // Let any late re-send land before counting.
  await sleep(300);
  for (const [payload, kind] of expected) {
    if (kind === "pub1") assert.ok((far.got.get(payload) ?? 0) >= 1, `${payload}: at least once at the far end`);
    if (kind === "pub2") assert.equal(far.got.get(payload), 1, `${payload}: exactly once at the far end`);
    if (kind === "recv1") assert.ok((devGot.get(payload) ?? 0) >= 1, `${payload}: at least once on the device`);
    if (kind === "recv2") assert.equal(devGot.get(payload), 1, `${payload}: exactly once on the device`);
  }
  const dup1 = [...expected].filter(([p, k]) => k === "pub1" && far.got.get(p)! > 1).length;
  const dupR1 = [...expected].filter(([p, k]) => k === "recv1" && devGot.get(p)! > 1).length;
  console.log(`# ${cuts} cuts (${offsets.join(", ")}); QoS 1 duplicates: far end ${dup1}, device ${dupR1}; QoS 2 duplicates: 0`);
  assert.equal(t.client.inflightFree(), inflight);
});

test("mosquitto stopped and restarted (persistence on) in the middle of a flow: same guarantees", { skip, timeout: 40000 }, async () => {
  const broker: Mosquitto = await startMosquitto({
    extraConfig: (dir) => `persistence true\npersistence_location ${dir}\nautosave_interval 1\n`,
  });
  onCleanup(() => broker.stop());
  const proxy = await proxyTo(broker.port);
  const far = await farEnd(broker.port, "far-restart");
  const { t, got: devGot } = device(proxy.port, "dev-restart");
  t.client.connect();
  await waitFor(() => t.client.connected() && t.ev.subscribed.length === 1, "device connected and subscribed");
  const N = 30;
  const sent: { payload: string; qos: number; dir: "up" | "down" }[] = [];
  let restarted = false;
  const flow = (async () => {
    for (let i = 0; i < N; i++) {
      for (const qos of [1, 2]) {
        const up = `up${qos}-${i}`;
        sent.push({ payload: up, qos, dir: "up" });
        let r = t.client.publish("up/x", up, qos, false);
        // In-flight full is the client's documented answer while acks lag (a loaded
        // machine, a broker restarting): the caller waits for a free slot and retries.
        while (r === t.wisp.ERR_INFLIGHT_FULL) {
          await waitFor(() => t.client.inflightFree() > 0, "a free in-flight slot", 20000);
          r = t.client.publish("up/x", up, qos, false);
        }
        assert.ok(r > 0 || r === t.wisp.QUEUED, `publish ${up}: ${t.wisp.clientErrorName(r)} (${r})`);
        if (far.c.connected) {
          const down = `down${qos}-${i}`;
          sent.push({ payload: down, qos, dir: "down" });
          far.c.publish("down/x", down, { qos: qos as 1 | 2 });
        }
      }
      if (i === N / 2) {
        // Mid-flow: stop (SIGTERM: mosquitto writes its persistence file) and start again.
        await broker.restart();
        restarted = true;
      }
      await sleep(15);
    }
  })();
  await flow;
  assert.ok(restarted);
  const done = () =>
    sent.every((s) => ((s.dir === "up" ? far.got : devGot).get(s.payload) ?? 0) >= 1) && t.client.inflightFree() === 4 && t.client.queued() === 0;
  await waitFor(done, "every message through after the restart", 20000);
  await sleep(500);
  for (const s of sent) {
    const n = (s.dir === "up" ? far.got : devGot).get(s.payload) ?? 0;
    if (s.qos === 1) assert.ok(n >= 1, `${s.dir} ${s.payload}: at least once`);
    else assert.equal(n, 1, `${s.dir} ${s.payload}: exactly once`);
  }
  assert.ok(t.ev.connects.length >= 2, "the device reconnected");
  assert.equal(t.ev.connects[t.ev.connects.length - 1], true, "the broker restored the device's session from its persistence file");
  // stop() removes the dir (config, persistence file); restart() still works: a
  // broker that lost the session, so the device subscribes again by itself.
  const connects = t.ev.connects.length;
  await broker.stop();
  await broker.restart();
  await waitFor(() => t.ev.connects.length > connects && t.client.connected(), "reconnect to the fresh broker", 15000);
  assert.equal(t.ev.connects[t.ev.connects.length - 1], false, "fresh broker: no session");
  await waitFor(() => t.client.subscription("down/#") === 2, "re-subscribed", 5000);
  await waitFor(() => far.c.connected, "far end back", 15000);
  await far.c.publishAsync("down/x", "fresh", { qos: 2 });
  await waitFor(() => devGot.get("fresh") === 1, "message through the fresh broker");
  console.log(`# restart: ${sent.length} messages (${sent.filter((s) => s.dir === "up").length} from the device), device connects ${t.ev.connects.length}`);
});

test("half-open link: detected and reconnected within 1.5x keep-alive plus a margin (board clock)", { timeout: 30000 }, async () => {
  const b = await startAedes();
  const proxy = await proxyTo(b.port);
  const KA = 1;
  const t = makeClient(proxy.port, (cfg) => {
    cfg.connect.clientId = "dev-half";
    cfg.connect.cleanSession = false;
    cfg.connect.keepAlive = KA;
    cfg.backoffMinMs = 20;
    cfg.backoffMaxMs = 60;
  });
  const got: string[] = [];
  t.client.subscribe(["h/#"], [1], (_topic: string, payload: string) => got.push(payload));
  t.client.connect();
  await waitFor(() => t.client.connected() && t.ev.subscribed.length === 1, "connected");
  await sleep(1500); // a keep-alive cycle or so on a live link: pings answered, no false alarm
  assert.equal(t.ev.errors.length, 0);
  let deadAt = -1;
  let upAt = -1;
  const onError = t.client.onError;
  t.client.onError = (code: number, detail: string) => {
    if (deadAt < 0 && t.wisp.clientErrorName(code) === t.wisp.clientErrorName(t.wisp.ERR_DEAD_LINK)) deadAt = t.platform.millis();
    onError(code, detail);
  };
  const onConnect = t.client.onConnect;
  t.client.onConnect = (sp: boolean) => {
    if (upAt < 0 && deadAt >= 0) upAt = t.platform.millis();
    onConnect(sp);
  };
  const frozenAt = t.platform.millis();
  proxy.freeze();
  try {
    await waitFor(() => upAt >= 0, "reconnected", 15000);
  } catch (e) {
    // Say what the client saw instead, so a failure on a loaded machine can be read.
    const seen = t.ev.errors.map((x: { name: string; detail: string }) => `${x.name}: ${x.detail}`).join("; ");
    throw new Error(`${(e as Error).message} (deadAt ${deadAt}, frozen at ${frozenAt}; client errors: ${seen || "none"})`);
  }
  const bound = 1.5 * KA * 1000;
  const margin = 1000; // timers on a loaded 2-core machine, back-off (<= 60 ms), CONNECT/CONNACK
  console.log(`# half-open: dead link declared ${deadAt - frozenAt} ms after the freeze, reconnected at ${upAt - frozenAt} ms (bound ${bound} + ${margin} ms)`);
  assert.ok(deadAt - frozenAt <= bound + margin, `dead link declared at ${deadAt - frozenAt} ms`);
  assert.ok(upAt - frozenAt <= bound + margin, `reconnected at ${upAt - frozenAt} ms`);
  // The new link works.
  const p = mqtt.connect({ host: HOST, port: b.port, protocolVersion: 4, reconnectPeriod: 0 });
  onCleanup(() => p.endAsync(true));
  await new Promise<void>((r) => p.once("connect", () => r()));
  await p.publishAsync("h/1", "after", { qos: 1 });
  await waitFor(() => got.includes("after"), "message on the new link");
});
