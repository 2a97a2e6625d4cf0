/**
 * Test harness for the MQTT client: the compiled Espruino bundle
 * (dist/espruino/client.js) runs in the Espruino-shaped sandbox, talking through a
 * Platform implemented with real Node sockets on 127.0.0.1. Brokers: aedes
 * in-process, or a scripted raw TCP "broker" (mqtt-packet framing) for the cases a
 * correct broker never produces. MQTT.js is the independent peer.
 *
 * The shared pieces live in test/helpers/ and are re-exported here: cleanup,
 * NodePlatform, makeClient, startAedes, peer.
 */
import net from "node:net";
import type mqtt from "mqtt";
import mqttPacket from "mqtt-packet";

export { cleanupAll, onCleanup } from "../helpers/cleanup.ts";
export { bstr, buf, NodePlatform } from "../helpers/node-platform.ts";
export { makeClient, recordEvents, type Events, type TestClient } from "../helpers/client.ts";
export { startAedes, type TestBroker } from "../helpers/aedes.ts";
export { peer } from "../helpers/mqtt-peer.ts";
import { onCleanup } from "../helpers/cleanup.ts";

export const HOST = "127.0.0.1";

/** Poll until `cond()` holds; rejects with `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
