/**
 * Test harness for the MQTT client: the compiled Espruino bundle
 * (dist/espruino/client.js) runs in the Espruino-shaped sandbox, talking through a
 * Platform implemented here with real Node sockets on 127.0.0.1. Brokers: aedes
 * in-process, or a scripted raw TCP "broker" (mqtt-packet framing) for the cases a
 * correct broker never produces. MQTT.js is the independent peer.
 */
import net from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { loadEspruinoBundle } from "../helpers/artifacts.ts";
import type { EspruinoSandbox } from "../../host-tools/emulator/sandbox.ts";

export const HOST = "127.0.0.1";

/**
 * Everything a test opens (platforms, brokers, peers) is registered here and torn
 * down by `cleanupAll` (each test file runs it in `after`), so a failing test still
 * lets the process exit instead of hanging on an open socket or timer.
 */
const open: (() => Promise<unknown> | void)[] = [];
export function onCleanup(fn: () => Promise<unknown> | void): void {
  open.push(fn);
}
export async function cleanupAll(): Promise<void> {
  while (open.length > 0) {
    try {
      await open.pop()!();
    } catch {
      // already closed
    }
  }
}

/** Byte string <-> Buffer. */
export const bstr = (b: Buffer): string => b.toString("latin1");
export const buf = (s: string): Buffer => Buffer.from(s, "latin1");

/** A Platform over Node: real sockets, real timers, in-memory storage. */
export class NodePlatform {
  logs: string[] = [];
  wifi = true;
  files = new Map<string, string>();
  sockets = new Set<net.Socket>();
  private timers = new Map<number, NodeJS.Timeout>();
  private nextTimer = 1;
  private t0 = performance.now();
  echo = process.env.WISP_TEST_LOG === "1";

  millis(): number {
    return Math.floor(performance.now() - this.t0);
  }
  /** Set by shutdown(): no more timers or sockets (the board is "off"). */
  dead = false;
  after(ms: number, fn: () => void): number {
    const id = this.nextTimer++;
    if (this.dead) return id;
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, ms),
    );
    return id;
  }
  cancel(id: number): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }
  open(host: string, port: number, _secure: boolean, h: { onOpen(): void; onData(d: string): void; onClose(r: string): void }) {
    if (!this.wifi || this.dead) return null;
    const s = net.connect({ host, port });
    this.sockets.add(s);
    let closed = false;
    let reason = "closed by peer";
    s.setNoDelay(true);
    s.on("connect", () => h.onOpen());
    s.on("data", (d) => h.onData(bstr(d)));
    s.on("error", (e) => {
      reason = e.message;
    });
    s.on("close", () => {
      this.sockets.delete(s);
      if (!closed) {
        closed = true;
        h.onClose(reason);
      }
    });
    return {
      write: (d: string): boolean => {
        if (s.destroyed || !s.writable) return false;
        s.write(buf(d));
        return true;
      },
      close: (): void => {
        reason = "closed by client";
        s.end();
        setTimeout(() => s.destroy(), 50).unref();
      },
    };
  }
  wifiUp(): boolean {
    return this.wifi;
  }
  rssi(): number {
    return -60;
  }
  batteryVolts(): number {
    return 3.9;
  }
  freeMemory(): number {
    return 10000;
  }
  storageRead(name: string): string | null {
    return this.files.has(name) ? this.files.get(name)! : null;
  }
  storageWrite(name: string, data: string): boolean {
    this.files.set(name, data);
    return true;
  }
  settings(): null {
    return null;
  }
  deepSleep(_ms: number): void {}
  wakeCause(): string {
    return "power-on";
  }
  random(): number {
    return Math.random();
  }
  log(line: string): void {
    this.logs.push(line);
    if (this.echo) console.log("  [fw] " + line);
  }
  /** Stop every timer and socket (test teardown). */
  shutdown(): void {
    this.dead = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
  }
}

export interface Events {
  connects: boolean[];
  disconnects: { code: number; reason: string }[];
  messages: { topic: string; payload: string; qos: number; retain: boolean }[];
  published: number[];
  subscribed: { filter: string; code: number }[];
  errors: { code: number; detail: string; name: string }[];
}

export interface TestClient {
  wisp: any;
  client: any;
  platform: NodePlatform;
  sandbox: EspruinoSandbox;
  ev: Events;
}

/**
 * A client from the compiled bundle. `setup` edits the ClientConfig (a sandbox
 * object) before the client is built; defaults: 127.0.0.1:port, client id "dev1",
 * clean session, keep-alive 60 s.
 */
export function makeClient(port: number, setup: (cfg: any, wisp: any) => void = () => {}, platform = new NodePlatform()): TestClient {
  const { exports: wisp, sandbox } = loadEspruinoBundle("client");
  const cfg = new wisp.ClientConfig();
  cfg.host = HOST;
  cfg.port = port;
  cfg.connect.clientId = "dev1";
  cfg.backoffMinMs = 100;
  cfg.backoffMaxMs = 400;
  setup(cfg, wisp);
  const client = new wisp.Client(platform, cfg);
  onCleanup(() => platform.shutdown());
  const ev = recordEvents(wisp, client);
  return { wisp, client, platform, sandbox, ev };
}

/** Hook every client callback into one Events record. */
export function recordEvents(wisp: any, client: any): Events {
  const ev: Events = { connects: [], disconnects: [], messages: [], published: [], subscribed: [], errors: [] };
  client.onConnect = (sp: boolean) => ev.connects.push(sp);
  client.onDisconnect = (code: number, reason: string) => ev.disconnects.push({ code, reason });
  client.onMessage = (topic: string, payload: string, qos: number, retain: boolean) => ev.messages.push({ topic, payload, qos, retain });
  client.onPublished = (id: number) => ev.published.push(id);
  client.onSubscribed = (filter: string, code: number) => ev.subscribed.push({ filter, code });
  client.onError = (code: number, detail: string) => ev.errors.push({ code, detail, name: wisp.clientErrorName(code) });
  return ev;
}

/** Poll until `cond()` holds; rejects with `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface BrokerHandle {
  broker: Aedes;
  port: number;
  close(): Promise<void>;
}

/** aedes in-process on a free loopback port. */
export async function startAedes(opts: AedesOptions = {}): Promise<BrokerHandle> {
  const broker = await Aedes.createBroker(opts);
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  };
  onCleanup(close);
  return { broker, port, close };
}

/** An MQTT.js peer connected to the broker. */
export async function peer(port: number, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = mqtt.connect({ host: HOST, port, protocolVersion: 4, reconnectPeriod: 0, ...opts });
  onCleanup(() => c.endAsync(true));
  await new Promise<void>((res, rej) => {
    c.once("connect", () => res());
    c.once("error", rej);
  });
  return c;
}

export async function peerSubscribe(c: mqtt.MqttClient, filter: string, qos: 0 | 1 | 2): Promise<void> {
  await c.subscribeAsync(filter, { qos });
}

/** One connection to the raw broker: decoded packets in, raw packets out. */
export class RawConn {
  packets: any[] = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: any) => this.packets.push(p));
    socket.on("data", (d) => parser.parse(d));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => {});
  }
  send(p: any): void {
    if (!this.socket.destroyed) this.socket.write(mqttPacket.generate(p));
  }
  sendRaw(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }
  of(cmd: string): any[] {
    return this.packets.filter((p) => p.cmd === cmd);
  }
  async next(cmd: string, n = 1, ms = 5000): Promise<any> {
    await waitFor(() => this.of(cmd).length >= n, `${cmd} #${n}`, ms);
    return this.of(cmd)[n - 1];
  }
}

/** A scripted broker: the test answers every packet itself. */
export class RawBroker {
  server!: net.Server;
  port = 0;
  conns: RawConn[] = [];
  /** Called for each new connection; by default nothing is answered. */
  onConn: (c: RawConn) => void = () => {};
  async start(): Promise<this> {
    this.server = net.createServer((s) => {
      s.setNoDelay(true);
      const c = new RawConn(s);
      this.conns.push(c);
      this.onConn(c);
    });
    await new Promise<void>((r) => this.server.listen(0, HOST, () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    onCleanup(() => this.close());
    return this;
  }
  async conn(n: number, ms = 5000): Promise<RawConn> {
    await waitFor(() => this.conns.length >= n, `connection #${n}`, ms);
    return this.conns[n - 1];
  }
  private closed = false;
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Answer CONNECT with CONNACK (session present sp, code rc). */
export async function acceptConnect(c: RawConn, sp = false, rc = 0): Promise<any> {
  const p = await c.next("connect");
  c.send({ cmd: "connack", sessionPresent: sp, returnCode: rc });
  return p;
}
