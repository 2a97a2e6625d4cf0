/**
 * MQTT over WebSocket (firmware/net/websocket.ts), on the compiled bundle
 * dist/espruino/wsclient.js (client + WsPlatform) in the Espruino sandbox, over real
 * loopback sockets (harness NodePlatform underneath):
 * - the client against aedes behind the `ws` package's WebSocketServer, and against
 *   mosquitto's own websockets listener, observed by MQTT.js over plain TCP;
 * - frame level against a `ws` server: fragmented messages, 16- and 64-bit lengths
 *   both ways, ping/pong, close codes, text frames refused;
 * - bad Upgrade answers from a raw TCP server give the named errors;
 * - the app on the emulated board with brokerScheme "ws";
 * - the subset SHA-1 (Sec-WebSocket-Accept) against node:crypto, Espruino and Lua.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream, type WebSocket } from "ws";
import { loadBoard } from "../../host-tools/device/board.ts";
import { parseBrokerUrl } from "../../host-tools/device/broker-url.ts";
import { deviceSettings } from "../../host-tools/device/settings.ts";
import { bootApp } from "../helpers/boot-app.ts";
import { loadEspruinoBundle, LUA, runLua } from "../helpers/artifacts.ts";
import { hasCommand, skipUnless } from "../helpers/system-deps.ts";
import { freePort, mosquittoSkip, startMosquitto } from "../helpers/mosquitto.ts";
import { bstr, buf, cleanupAll, HOST, makeClient, NodePlatform, onCleanup, peer, startAedes, waitFor } from "./harness.ts";

after(cleanupAll);

/** A `ws` server on 127.0.0.1 choosing the `mqtt` subprotocol; `onWs` gets each connection. */
async function wsServer(
  onWs: (ws: WebSocket, req: http.IncomingMessage) => void,
  path = "/mqtt",
  tlsOpts: { key: Buffer; cert: Buffer } | null = null,
): Promise<{ port: number; wss: WebSocketServer; protocols: string[] }> {
  const server = tlsOpts === null ? http.createServer() : https.createServer(tlsOpts);
  const protocols: string[] = [];
  const wss = new WebSocketServer({
    server,
    path,
    handleProtocols: (set) => {
      for (const p of set) protocols.push(p);
      return set.has("mqtt") ? "mqtt" : false;
    },
  });
  wss.on("connection", (ws, req) => onWs(ws, req));
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port, wss, protocols };
}

/** aedes with a plain TCP listener (for the MQTT.js observer) and a ws listener on /mqtt. */
async function aedesOverWs(tlsOpts: { key: Buffer; cert: Buffer } | null = null, path = "/mqtt"): Promise<{ tcpPort: number; wsPort: number; protocols: string[] }> {
  const b = await startAedes();
  const s = await wsServer(
    (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on("error", () => {});
      b.aedes.handle(stream as any);
    },
    path,
    tlsOpts,
  );
  return { tcpPort: b.port, wsPort: s.port, protocols: s.protocols };
}

/** The client from the wsclient bundle, on a WsPlatform over the harness NodePlatform. */
function makeWsClient(port: number, path = "/mqtt") {
  const t = makeClient(
    port,
    (cfg) => {
      cfg.connect.clientId = "wsdev";
      cfg.autoReconnect = false;
      cfg.rxSize = 1024;
      cfg.txSize = 1024;
      cfg.slotSize = 1024;
    },
    new NodePlatform(),
    { bundle: "wsclient", transport: (wisp, platform) => new wisp.WsPlatform(platform, path, 512, 512) },
  );
  onCleanup(() => {
    try {
      t.client.disconnect();
    } catch {
      // already gone
    }
  });
  return t;
}

/** Connect, subscribe at QoS 1, publish at QoS 1 both ways; MQTT.js observes over TCP. */
async function roundTrip(wsPort: number, tcpPort: number): Promise<void> {
  const obs = await peer(tcpPort);
  const seen: { topic: string; payload: string; qos: number }[] = [];
  obs.on("message", (topic, payload, pk) => seen.push({ topic, payload: bstr(payload), qos: pk.qos }));
  await obs.subscribeAsync("ws/out", { qos: 1 });
  const { client, ev } = makeWsClient(wsPort);
  client.subscribe(["ws/in"], [1], () => {});
  client.connect();
  await waitFor(() => ev.connects.length === 1, "CONNACK over ws");
  await waitFor(() => ev.subscribed.length === 1, "SUBACK over ws");
  assert.deepEqual(ev.subscribed, [{ filter: "ws/in", code: 1 }]);
  // Large enough to need the 16-bit frame length, and binary-clean.
  let big = "";
  for (let i = 0; i < 300; i++) big += String.fromCharCode(i & 255);
  const id = client.publish("ws/out", big, 1, false);
  assert.ok(id > 0, `publish id ${id}`);
  await waitFor(() => ev.published.includes(id), "PUBACK over ws");
  await waitFor(() => seen.length === 1, "observer gets the publish");
  assert.deepEqual(seen[0], { topic: "ws/out", payload: big, qos: 1 });
  await obs.publishAsync("ws/in", buf("\u0000hello\u00ff"), { qos: 1 });
  await obs.publishAsync("ws/in", buf(big), { qos: 1 });
  await waitFor(() => ev.messages.length === 2, "messages over ws");
  assert.deepEqual(ev.messages[0], { topic: "ws/in", payload: "\u0000hello\u00ff", qos: 1, retain: false });
  assert.equal(ev.messages[1].payload, big);
  assert.deepEqual(ev.errors, []);
  client.disconnect();
  await waitFor(() => ev.disconnects.length === 1, "disconnect");
}

test("aedes over ws: connect, subscribe, QoS 1 both ways, seen by MQTT.js over TCP", { timeout: 15000 }, async () => {
  const b = await aedesOverWs();
  await roundTrip(b.wsPort, b.tcpPort);
  assert.deepEqual(b.protocols, ["mqtt"], "the client asks for the mqtt subprotocol only");
});

test("mosquitto websockets listener: the same exchange", { skip: mosquittoSkip(), timeout: 15000 }, async (t) => {
  const wsPort = await freePort();
  // libwebsockets takes the listener's address as an interface name: "lo" is the
  // loopback interface (a "127.0.0.1" there does not start on this build).
  let m;
  try {
    m = await startMosquitto({ extraConfig: `listener ${wsPort} lo\nprotocol websockets\n` });
  } catch (e) {
    const reason = `mosquitto has no websockets listener here: ${(e as Error).message.split("\n")[0]}`;
    if (process.env.WISP_REQUIRE_SYSTEM_DEPS === "1") throw new Error(reason);
    t.skip(reason);
    console.log(`# skip: ${reason}`);
    return;
  }
  onCleanup(() => m.stop());
  await waitForTcp(wsPort);
  await roundTrip(wsPort, m.port);
  assert.match(m.log(), /websockets/i);
});

/** The telemetry app on the emulated board against aedes over ws/wss; returns when it published `n` readings. */
async function appOverWs(scheme: "ws" | "wss", wsPath: string, tlsOpts: { key: Buffer; cert: Buffer } | null): Promise<void> {
  const b = await aedesOverWs(tlsOpts, wsPath);
  const app = await bootApp({
    broker: { port: b.tcpPort },
    seed: 5,
    settings: { brokerPort: b.wsPort, brokerScheme: scheme, brokerPath: wsPath, clientId: "w1", keepAliveSeconds: 30, intervalSeconds: 10, qos: 1, mode: "stay" },
  });
  const { board, seen } = app;
  const text = app.consoleText;
  const tele = () => seen.filter((m) => m.topic === "wisp/w1/telemetry");
  await board.runUntil(() => tele().length >= 2, 60000, `two readings over ${scheme}`);
  const afterBoot = board.bufferCount();
  await board.runUntil(() => tele().length >= 6, 120000, `six readings over ${scheme}`);
  assert.equal(board.bufferCount(), afterBoot, "no buffer constructed per frame");
  assert.deepEqual(seen[0], { topic: "wisp/w1/status", payload: "online", qos: 1, retain: false });
  // runUntil stops once six are in; a seventh may already be on its way.
  assert.deepEqual(tele().map((m) => JSON.parse(m.payload).seq).slice(0, 6), [1, 2, 3, 4, 5, 6]);
  assert.ok(tele().every((m) => m.qos === 1));
  assert.deepEqual(b.protocols, ["mqtt"]);
  assert.ok(board.events.some((e: any) => e.type === "socket" && e.event === "connect" && e.tls === (scheme === "wss")), "transport under the WebSocket");
  assert.ok(text().includes("mqtt connected"), text());
}

test("the app on the emulated board: brokerScheme ws, brokerPath /mqtt (virtual clock, aedes over ws)", { timeout: 20000 }, async () => {
  await appOverWs("ws", "/mqtt", null);
});

const noOpenssl = hasCommand("openssl") ? false : skipUnless("openssl");

test("the app on the emulated board: brokerScheme wss (TLS under the WebSocket), another path", { timeout: 20000, skip: noOpenssl }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-wss-"));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  await appOverWs("wss", "/broker/ws", { key: fs.readFileSync(key), cert: fs.readFileSync(cert) });
});

async function waitForTcp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host: HOST, port });
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A WsLink straight on the NodePlatform, with a recording handler (no MQTT). */
function rawWs(port: number, frameSize = 512, path = "/mqtt") {
  const { exports: wisp } = loadEspruinoBundle("wsclient");
  const platform = new NodePlatform();
  onCleanup(() => platform.shutdown());
  const p = new wisp.WsPlatform(platform, path, frameSize, 512);
  const rec = { opened: 0, data: "", closed: [] as string[] };
  const link = p.open(HOST, port, false, {
    onOpen: () => rec.opened++,
    onData: (d: string) => (rec.data += d),
    onClose: (r: string) => rec.closed.push(r),
  });
  assert.ok(link !== null);
  return { link, rec, wisp };
}

const bytes = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 255;
  return b;
};

test("frames: fragments, 16/64-bit lengths both ways, ping/pong, server close", { timeout: 15000 }, async () => {
  let server: WebSocket | null = null;
  const got: Buffer[] = [];
  const pongs: string[] = [];
  let closeCode = -1;
  let upgradeHeaders: http.IncomingHttpHeaders = {};
  const s = await wsServer((ws, req) => {
    server = ws;
    upgradeHeaders = req.headers;
    ws.on("message", (d) => got.push(Buffer.from(d as Buffer)));
    ws.on("pong", (d) => pongs.push(bstr(d)));
    ws.on("close", (code) => (closeCode = code));
  });
  const { link, rec } = rawWs(s.port, 70000);
  await waitFor(() => rec.opened === 1 && server !== null, "upgrade");
  assert.equal(upgradeHeaders["sec-websocket-version"], "13");
  assert.equal(upgradeHeaders["host"], `${HOST}:${s.port}`);
  assert.match(String(upgradeHeaders["sec-websocket-key"]), /^[A-Za-z0-9+/]{22}==$/);
  const ws = server!;
  // Server -> client: a binary message in three fragments, with a ping in between.
  const a = bytes(5, 1), b2 = bytes(200, 2), c = bytes(70000, 3);
  ws.send(a, { binary: true, fin: false });
  ws.send(b2, { binary: true, fin: false });
  ws.ping(Buffer.from("are you there"));
  ws.send(c, { binary: true, fin: true });
  ws.send(Buffer.alloc(0), { binary: true });
  const want = bstr(Buffer.concat([a, b2, c]));
  await waitFor(() => rec.data.length === want.length, "fragmented message", 5000);
  assert.ok(rec.data === want, "payload bytes in order");
  await waitFor(() => pongs.length === 1, "pong");
  assert.deepEqual(pongs, ["are you there"]);
  // Client -> server: 7-bit, 16-bit and 64-bit lengths (masked: ws refuses unmasked).
  const small = bytes(100, 4), mid = bytes(1000, 5), large = bytes(66000, 6);
  for (const x of [small, mid, large]) assert.equal(link.write(bstr(x)), true);
  await waitFor(() => got.length === 3, "three messages at the server");
  assert.deepEqual(got.map((g) => g.length), [100, 1000, 66000]);
  assert.ok(got[0].equals(small) && got[1].equals(mid) && got[2].equals(large));
  // Server closes with 1001: the close is answered (same code) and reported.
  ws.close(1001, "going away");
  await waitFor(() => rec.closed.length === 1, "closed");
  assert.equal(rec.closed[0], "ws: closed by server 1001");
  await waitFor(() => closeCode !== -1, "server sees the close");
  assert.equal(closeCode, 1001);
  assert.equal(link.write("x"), false, "no write after close");
});

test("frames: a small frame buffer splits a long write; client close sends 1000; text frames refused", { timeout: 15000 }, async () => {
  const servers: WebSocket[] = [];
  const got: Buffer[][] = [[], []];
  const codes: number[] = [];
  const s = await wsServer((ws) => {
    const k = servers.length;
    servers.push(ws);
    ws.on("message", (d) => got[k].push(Buffer.from(d as Buffer)));
    ws.on("close", (code) => codes.push(code));
  });
  const one = rawWs(s.port, 200);
  await waitFor(() => one.rec.opened === 1 && servers.length === 1, "upgrade");
  const x = bytes(450, 7);
  assert.equal(one.link.write(bstr(x)), true);
  await waitFor(() => got[0].length === 3, "three frames");
  assert.deepEqual(got[0].map((g) => g.length), [200, 200, 50]);
  assert.ok(Buffer.concat(got[0]).equals(x));
  one.link.close();
  await waitFor(() => codes.length === 1 && one.rec.closed.length === 1, "client close");
  assert.equal(codes[0], 1000);
  assert.equal(one.rec.closed[0], "closed by client");

  const two = rawWs(s.port);
  await waitFor(() => two.rec.opened === 1 && servers.length === 2, "upgrade 2");
  servers[1].send("text is not MQTT");
  await waitFor(() => two.rec.closed.length === 1, "refused");
  assert.equal(two.rec.closed[0], "ws: text frame");
  await waitFor(() => codes.length === 2, "server sees the close");
  assert.equal(codes[1], 1002);
});

/**
 * A raw TCP server that answers the Upgrade with `answer` (then optionally raw
 * bytes); "{ACCEPT}" in it becomes the right Sec-WebSocket-Accept for the request.
 */
async function rawServer(answer: string): Promise<number> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on("close", () => socks.delete(sock));
    sock.on("error", () => {});
    let req = "";
    sock.on("data", (d) => {
      req += bstr(d);
      if (!req.includes("\r\n\r\n")) return;
      const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(req)![1];
      sock.write(buf(answer.replace("{ACCEPT}", acceptFor(key))));
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const x of socks) x.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

const acceptFor = (key: string): string => createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
const UPGRADE = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n";

test("bad upgrade answers and bad server frames give named errors", { timeout: 15000 }, async () => {
  const cases: [string, string][] = [
    ["HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "ws: bad status (HTTP/1.1 404 Not Found)"],
    ["HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n", "ws: no websocket upgrade"],
    [UPGRADE + "\r\n", "ws: bad protocol (none)"],
    [UPGRADE + "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n", "ws: bad protocol mqttv3.1"],
    [UPGRADE.replace("{ACCEPT}", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") + "Sec-WebSocket-Protocol: mqtt\r\n\r\n", "ws: bad accept"],
    ["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n", "ws: bad accept"],
    [UPGRADE + "sec-websocket-protocol:  MQTT \r\n\r\n" + "\u0082\u0085abcd12345", "ws: masked server frame"],
    [UPGRADE + "Sec-WebSocket-Protocol: mqtt\r\n\r\n" + "\u00c2\u0000", "ws: reserved bits set"],
    [UPGRADE + "Sec-WebSocket-Protocol: mqtt\r\n\r\n" + "\u0082\u007f\u0000\u0000\u0000\u0001\u0000\u0000\u0000\u0000", "ws: frame too large"],
    [UPGRADE + "Sec-WebSocket-Protocol: mqtt\r\n\r\n" + "\u0089\u007e\u0000\u00c8", "ws: bad control frame"],
    [UPGRADE + "Sec-WebSocket-Protocol: mqtt\r\n\r\n" + "\u0080\u0000", "ws: bad opcode 0 (no message to continue)"],
    ["HTTP/1.1 200 OK\r\n" + "X: " + "y".repeat(600), "ws: upgrade answer too large"],
  ];
  for (const [answer, reason] of cases) {
    const port = await rawServer(answer);
    const { rec } = rawWs(port);
    await waitFor(() => rec.closed.length === 1, `close for ${reason}`);
    assert.equal(rec.closed[0], reason);
    // A good upgrade opens even when the first frame is wrong; a bad one never does.
    assert.equal(rec.opened, answer.startsWith(UPGRADE) && !reason.includes("protocol") && !reason.includes("accept") ? 1 : 0, reason);
  }
  // Through the client: the reason reaches onDisconnect / onError.
  const port = await rawServer("HTTP/1.1 403 Forbidden\r\n\r\n");
  const { client, ev, platform } = makeWsClient(port);
  client.connect();
  await waitFor(() => ev.disconnects.length > 0, "client disconnect");
  assert.equal(ev.disconnects[0].reason, "ws: bad status (HTTP/1.1 403 Forbidden)");
  assert.ok(platform.logs.includes("mqtt: closed (ws: bad status (HTTP/1.1 403 Forbidden))"), platform.logs.join("\n"));
  assert.deepEqual(ev.connects, []);
});

/** Byte strings of every length that matters for SHA-1 padding (one block or two). */
const SHA_INPUTS = [0, 1, 3, 55, 56, 60, 63, 64, 100, 119].map((n) => {
  let x = "";
  for (let i = 0; i < n; i++) x += String.fromCharCode((i * 37 + n) & 255);
  return x;
});
const sha1Node = (x: string): string => createHash("sha1").update(buf(x)).digest("hex");

test("SHA-1 in the subset (for Sec-WebSocket-Accept) matches node:crypto, Espruino bundle", () => {
  const { exports: wisp } = loadEspruinoBundle("wsclient");
  for (const x of SHA_INPUTS) assert.equal(wisp.sha1Hex(x), sha1Node(x), `length ${x.length}`);
  // RFC 6455's own example key.
  assert.equal(Buffer.from(wisp.sha1Hex("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), "hex").toString("base64"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

test("SHA-1 in the subset matches node:crypto, Lua 5.3 bundle", { skip: hasCommand(LUA) ? false : skipUnless(LUA) }, () => {
  const lit = (x: string) => '"' + [...buf(x)].map((b) => "\\" + b).join("") + '"';
  const script = 'local w = dofile("dist/lua/wsclient.lua")\n' + SHA_INPUTS.map((x) => `print(w.sha1Hex(${lit(x)}))`).join("\n");
  const lines = runLua(script).trim().split("\n");
  assert.deepEqual(lines, SHA_INPUTS.map(sha1Node));
});

test("broker URLs: ws/wss carry the path into wisp.json brokerPath (default /mqtt)", () => {
  assert.deepEqual(parseBrokerUrl("ws://127.0.0.1:9001"), { scheme: "ws", host: "127.0.0.1", port: 9001, path: "/mqtt" });
  assert.deepEqual(parseBrokerUrl("wss://broker.example/a/b"), { scheme: "wss", host: "broker.example", port: 443, path: "/a/b" });
  assert.deepEqual(parseBrokerUrl("mqtt://h"), { scheme: "mqtt", host: "h", port: 1883 });
  const s = deviceSettings({ board: loadBoard("esp32-devkitc"), env: {}, brokerUrl: "ws://h:8080/ws" });
  assert.equal(s.brokerScheme, "ws");
  assert.equal(s.brokerPath, "/ws");
  assert.throws(() => parseBrokerUrl("ws://h:1/has space"), /bad broker URL/);
});

/** Unmask and split the client's frames (test side; checks FIN, MASK and lengths). */
function clientFrames(wire: Buffer): { op: number; payload: Buffer }[] {
  const out: { op: number; payload: Buffer }[] = [];
  let o = 0;
  while (o < wire.length) {
    assert.equal(wire[o] & 0xf0, 0x80, "FIN set, no reserved bits");
    assert.equal(wire[o + 1] & 0x80, 0x80, "client frames are masked");
    const op = wire[o] & 15;
    let len = wire[o + 1] & 127;
    o += 2;
    if (len === 126) (len = wire.readUInt16BE(o)), (o += 2);
    else if (len === 127) (len = Number(wire.readBigUInt64BE(o))), (o += 8);
    const mask = wire.subarray(o, o + 4);
    o += 4;
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i++) payload[i] = wire[o + i] ^ mask[i & 3];
    o += len;
    out.push({ op, payload });
  }
  return out;
}

test("frames split at every byte: the same result as in one piece (scripted transport, no sockets)", () => {
  const { exports: wisp } = loadEspruinoBundle("wsclient");
  const frame = (b0: number, payload: Buffer): Buffer => {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([b0, n]) : n < 65536 ? Buffer.from([b0, 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([b0, 127]), Buffer.from(BigInt(n).toString(16).padStart(16, "0"), "hex")]);
    return Buffer.concat([head, payload]);
  };
  const p1 = bytes(3, 1), p2 = bytes(300, 2), p3 = bytes(65536, 3);
  const serverBytes = (key: string): Buffer =>
    Buffer.concat([
      buf(`HTTP/1.1 101 Switching Protocols\r\nUPGRADE: WebSocket\r\nConnection: upgrade\r\nSec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`),
      frame(0x02, p1), // binary, not final
      frame(0x89, buf("hi")), // ping in the middle of the message
      frame(0x00, p2), // continuation, not final
      frame(0x80, p3), // continuation, final
      frame(0x82, Buffer.alloc(0)), // empty binary message
      frame(0x8a, buf("unasked")), // pong: ignored
      frame(0x88, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])), // close 1000 "ok"
    ]);
  for (const chunk of [1, 7, 1 << 20]) {
    const writes: string[] = [];
    let transport: any = null;
    let closes = 0;
    const inner = new NodePlatform();
    (inner as any).open = (_h: string, _p: number, _s: boolean, handler: any) => {
      transport = handler;
      return { write: (d: string) => (writes.push(d), true), close: () => closes++ };
    };
    const wsp = new wisp.WsPlatform(inner, "/p", 512, 512);
    const rec = { opened: 0, data: "", closed: [] as string[] };
    const link = wsp.open("dev.example", 8080, false, { onOpen: () => rec.opened++, onData: (d: string) => (rec.data += d), onClose: (r: string) => rec.closed.push(r) });
    transport.onOpen();
    const req = writes.shift()!;
    assert.match(req, /^GET \/p HTTP\/1\.1\r\nHost: dev\.example:8080\r\n/);
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(req)![1];
    const all = serverBytes(key);
    for (let o = 0; o < all.length; o += chunk) transport.onData(bstr(all.subarray(o, o + chunk)));
    assert.equal(rec.opened, 1, `chunk ${chunk}`);
    assert.ok(rec.data === bstr(Buffer.concat([p1, p2, p3])), `payload, chunk ${chunk}`);
    const sent = clientFrames(buf(writes.join("")));
    assert.deepEqual(sent.map((f) => f.op), [0x0a, 0x08], "pong, then the close answer");
    assert.equal(bstr(sent[0].payload), "hi");
    assert.equal(sent[1].payload.readUInt16BE(0), 1000);
    assert.equal(closes, 1);
    assert.equal(link.write("late"), false);
    transport.onClose("socket closed");
    assert.deepEqual(rec.closed, ["ws: closed by server 1000"]);
    inner.shutdown();
  }
});

test("WebSocket on Lua 5.3: upgrade with accept, frames split at every byte, ping, masked writes, close", { skip: hasCommand(LUA) ? false : skipUnless(LUA) }, () => {
  // random() is 0.5 in the script: every key and mask byte is 0x80.
  const key = Buffer.alloc(16, 0x80).toString("base64");
  const frame = (b0: number, payload: Buffer): Buffer =>
    Buffer.concat([payload.length < 126 ? Buffer.from([b0, payload.length]) : Buffer.from([b0, 126, payload.length >> 8, payload.length & 255]), payload]);
  const p1 = bytes(10, 1), p2 = bytes(400, 2);
  const partA = Buffer.concat([
    buf(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`),
    frame(0x02, p1),
    frame(0x89, buf("lua")),
    frame(0x80, p2),
  ]);
  const partB = frame(0x88, Buffer.from([0x03, 0xe9]));
  const lit = (b: Buffer) => '"' + [...b].map((x) => "\\" + x).join("") + '"';
  const toWrite = bytes(300, 9);
  for (const chunk of [1, 5000]) {
    const script = `
local w = dofile("dist/lua/wsclient.lua")
local function hex(s) return (s:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end
local out, handler, closes = {}, nil, 0
local link = { write = function(self, d) out[#out + 1] = d; return true end, close = function(self) closes = closes + 1 end }
local P = { open = function(self, host, port, secure, h) handler = h; return link end, random = function(self) return 0.5 end }
local got, opened, closed = {}, 0, {}
local H = { onOpen = function(self) opened = opened + 1 end, onData = function(self, d) got[#got + 1] = d end, onClose = function(self, r) closed[#closed + 1] = r end }
local wsp = w.newWsPlatform(P, "/lua", 512, 512)
local l = wsp:open("h", 1883, false, H)
local function feed(s) for i = 1, #s, ${chunk} do handler:onData(s:sub(i, i + ${chunk} - 1)) end end
handler:onOpen()
print("req " .. hex(table.remove(out, 1)))
feed(${lit(partA)})
print("opened " .. opened)
print("got " .. hex(table.concat(got)))
print("write " .. tostring(l:write(${lit(toWrite)})))
feed(${lit(partB)})
print("sent " .. hex(table.concat(out)))
print("closes " .. closes)
handler:onClose("socket closed")
print("closed " .. closed[1])
`;
    const lines = runLua(script).trim().split("\n");
    const get = (k: string) => lines.find((l) => l.startsWith(k + " "))!.slice(k.length + 1);
    const req = Buffer.from(get("req"), "hex").toString("latin1");
    assert.match(req, /^GET \/lua HTTP\/1\.1\r\nHost: h:1883\r\n/);
    assert.ok(req.includes(`Sec-WebSocket-Key: ${key}\r\n`), req);
    assert.equal(get("opened"), "1");
    assert.equal(get("got"), Buffer.concat([p1, p2]).toString("hex"), `chunk ${chunk}`);
    assert.equal(get("write"), "true");
    const sent = clientFrames(Buffer.from(get("sent"), "hex"));
    assert.deepEqual(sent.map((f) => f.op), [0x0a, 0x02, 0x08]);
    assert.equal(bstr(sent[0].payload), "lua");
    assert.ok(sent[1].payload.equals(toWrite));
    assert.equal(sent[2].payload.readUInt16BE(0), 1001);
    assert.equal(get("closes"), "1");
    assert.equal(get("closed"), "ws: closed by server 1001");
  }
});
