/**
 * Interop against a mosquitto the test starts (compiled client.js in the sandbox,
 * MQTT.js as the independent peer): will on abrupt close and not after DISCONNECT,
 * retained on subscribe and cleared by an empty retained publish, SUBACK 0x80 for a
 * filter denied by an ACL file (what mosquitto 2.0 really answers), overlapping subscriptions.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { cleanupAll, makeClient, onCleanup, peer, sleep, waitFor } from "./harness.ts";
import { mosquittoSkip, startMosquitto } from "../helpers/mosquitto.ts";

after(cleanupAll);
const skip = mosquittoSkip();

async function broker(opts: Parameters<typeof startMosquitto>[0] = {}) {
  const b = await startMosquitto(opts);
  onCleanup(() => b.stop());
  return b;
}

test("mosquitto: will on abrupt close, none after a clean DISCONNECT", { skip, timeout: 20000 }, async () => {
  const b = await broker();
  const p = await peer(b.port);
  const seen: string[] = [];
  p.on("message", (topic, payload, pk) => seen.push(`${topic}=${payload}${pk.retain ? " (retained)" : ""}`));
  await p.subscribeAsync("wisp/+/status", { qos: 1 });
  const withWill = (cfg: any) => {
    cfg.connect.willTopic = "wisp/dev1/status";
    cfg.connect.willMessage = "offline";
    cfg.connect.willQos = 1;
    cfg.connect.willRetain = false;
  };
  const t1 = makeClient(b.port, withWill);
  t1.client.connect();
  await waitFor(() => t1.client.connected(), "connected");
  t1.client.publish("wisp/dev1/status", "online", 1, false);
  await waitFor(() => seen.length === 1, "birth");
  t1.client.disconnect();
  await sleep(500);
  assert.deepEqual(seen, ["wisp/dev1/status=online"]);
  const t2 = makeClient(b.port, withWill);
  t2.client.connect();
  await waitFor(() => t2.client.connected(), "connected again");
  t2.platform.shutdown(); // socket destroyed, no DISCONNECT
  await waitFor(() => seen.length === 2, "will", 10000);
  assert.equal(seen[1], "wisp/dev1/status=offline");
});

test("mosquitto: retained message delivered on subscribe, cleared by an empty retained publish", { skip, timeout: 20000 }, async () => {
  const b = await broker();
  const pub = makeClient(b.port, (cfg) => (cfg.connect.clientId = "pub"));
  pub.client.connect();
  await waitFor(() => pub.client.connected(), "publisher connected");
  pub.client.publish("ret/a", "kept", 1, true);
  await waitFor(() => pub.ev.published.length === 1, "PUBACK");

  const sub = makeClient(b.port, (cfg) => (cfg.connect.clientId = "sub"));
  const got: string[] = [];
  sub.client.subscribe(["ret/#"], [1], (topic: string, payload: string, qos: number, retain: boolean) => got.push(`${topic}=${payload}:${qos}:${retain}`));
  sub.client.connect();
  await waitFor(() => got.length === 1, "retained on subscribe");
  assert.deepEqual(got, ["ret/a=kept:1:true"]);

  // Clear it from the device: empty payload, retain. Live subscribers see it
  // (retain flag 0 on a live delivery per 3.1.1 3.3.1.3), new ones see nothing.
  pub.client.publish("ret/a", "", 1, true);
  await waitFor(() => pub.ev.published.length === 2, "PUBACK of the clear");
  await waitFor(() => got.length === 2, "live delivery of the clear");
  assert.equal(got[1], "ret/a=:1:false");

  const p = await peer(b.port);
  const late: string[] = [];
  p.on("message", (topic, payload) => late.push(`${topic}=${payload}`));
  await p.subscribeAsync("ret/#", { qos: 1 });
  const late2 = makeClient(b.port, (cfg) => (cfg.connect.clientId = "late"));
  const got2: string[] = [];
  late2.client.subscribe(["ret/#"], [1], (topic: string) => got2.push(topic));
  late2.client.connect();
  await waitFor(() => late2.ev.subscribed.length === 1, "SUBACK");
  await sleep(500);
  assert.deepEqual(late, []);
  assert.deepEqual(got2, []);
});

test("mosquitto 2.0 + ACL file: a denied filter is granted in SUBACK but gets nothing; the client copes", { skip, timeout: 20000 }, async () => {
  // Asked for: SUBACK 0x80 for a filter an ACL file denies. mosquitto 2.0.11 (this
  // build) does not do that: its acl_file check passes every SUBSCRIBE and filters on
  // delivery instead (the SUBACK grants the requested QoS, also for MQTT 5 clients;
  // the dynamic-security plugin with a subscribePattern deny answered the same here).
  // So this asserts what the broker actually does; per-filter 0x80 handling is proven
  // against aedes with authorizeSubscribe (receive.test.ts).
  // Anonymous clients get the top-of-file rules: read/write under ok/, nothing else.
  const b = await broker({
    files: { acl: "topic readwrite ok/#\nuser admin\ntopic readwrite #\n" },
    extraConfig: (dir) => `acl_file ${dir}acl`,
  });
  const t = makeClient(b.port);
  const got: string[] = [];
  const id = t.client.subscribe(["ok/x", "secret/#"], [1, 1], (topic: string, payload: string) => got.push(`${topic}=${payload}`));
  assert.equal(id, t.wisp.DEFERRED);
  t.client.connect();
  await waitFor(() => t.ev.subscribed.length === 2, "SUBACK");
  const secretCode = t.ev.subscribed[1].code;
  console.log(`# mosquitto 2.0.11 acl_file: SUBACK for the denied filter = ${secretCode === 0x80 ? "0x80" : secretCode}`);
  assert.deepEqual(t.ev.subscribed[0], { filter: "ok/x", code: 1 });
  assert.ok(secretCode === 0x80 || secretCode === 1, `denied filter: ${secretCode}`);
  assert.equal(t.client.subscription("secret/#"), secretCode);
  // User "admin" (no password file: the name is taken as given) may read and write
  // everything; it publishes to both, and sees its own secret/ message arrive.
  const admin = await peer(b.port, { username: "admin" });
  const adminGot: string[] = [];
  admin.on("message", (topic, payload) => adminGot.push(`${topic}=${payload}`));
  await admin.subscribeAsync("secret/#", { qos: 1 });
  await admin.publishAsync("secret/a", "nope", { qos: 1 });
  await admin.publishAsync("ok/x", "hello", { qos: 1 });
  await waitFor(() => got.length === 1 && adminGot.length === 1, "message on the granted filter; admin's own copy");
  await sleep(300);
  assert.deepEqual(adminGot, ["secret/a=nope"]);
  assert.deepEqual(got, ["ok/x=hello"]);
  assert.ok(t.client.connected(), "a refused filter does not close the connection");
  assert.deepEqual(t.ev.errors, []);
});

test("mosquitto: overlapping subscriptions dispatch to every matching handler, no crash", { skip, timeout: 20000 }, async () => {
  const b = await broker();
  const t = makeClient(b.port);
  const a: string[] = [];
  const c: string[] = [];
  const exact: string[] = [];
  t.client.subscribe(["ov/#"], [1], (topic: string, payload: string, qos: number) => a.push(`${topic}=${payload}:${qos}`));
  t.client.subscribe(["ov/+/temp"], [2], (topic: string, payload: string, qos: number) => c.push(`${topic}=${payload}:${qos}`));
  t.client.subscribe(["ov/k/temp"], [0], (topic: string, payload: string, qos: number) => exact.push(`${topic}=${payload}:${qos}`));
  t.client.connect();
  await waitFor(() => t.ev.subscribed.length === 3, "SUBACKs");
  const p = await peer(b.port);
  await p.publishAsync("ov/k/temp", "21", { qos: 2 });
  await p.publishAsync("ov/k/hum", "40", { qos: 2 });
  await p.publishAsync("ov/z/temp", "5", { qos: 0 });
  await waitFor(() => a.length >= 3 && c.length >= 2 && exact.length >= 1, "dispatch");
  await sleep(500); // any extra copies the broker sends (one per matching subscription)
  // 3.1.1 (3.3.5) lets a broker send one copy per matching subscription or one in
  // all (mosquitto 2.0.11 sends one, at the highest granted QoS). Each copy is
  // dispatched to every handler whose filter matches, so with a broker that sends
  // copies a handler could see a message twice; assert what a user notices: every
  // handler got every matching message, payload intact, nothing for other topics.
  const uniq = (xs: string[]) => [...new Set(xs.map((x) => x.replace(/:\d$/, "")))].sort();
  assert.deepEqual(uniq(a), ["ov/k/hum=40", "ov/k/temp=21", "ov/z/temp=5"]);
  assert.deepEqual(uniq(c), ["ov/k/temp=21", "ov/z/temp=5"]);
  assert.deepEqual(uniq(exact), ["ov/k/temp=21"]);
  // Incoming QoS 2 copies carry distinct packet ids; none is an error.
  assert.ok(t.client.connected());
  assert.deepEqual(t.ev.errors, []);
  console.log(`# overlap: ov/# got ${a.length}, ov/+/temp got ${c.length}, ov/k/temp got ${exact.length} (onMessage ${t.ev.messages.length})`);
});
