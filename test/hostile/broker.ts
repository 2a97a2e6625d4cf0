/**
 * A scripted broker for the hostile-broker suite: a Node TCP server on 127.0.0.1
 * that parses what the board sends with mqtt-packet and answers either with a
 * scenario's misbehaviour (raw bytes where mqtt-packet cannot make them) or as a
 * correct MQTT 3.1.1 broker (`behave()`), which is what every connection after the
 * first one does.
 */
import net from "node:net";
import mqttPacket from "mqtt-packet";

export const HOST = "127.0.0.1";

/** Byte string of a generated packet. */
export const gen = (p: object): Buffer => mqttPacket.generate(p as never);

export class BrokerConn {
  packets: any[] = [];
  /** Who ended the connection: the board ("client") or the script ("server"). */
  closedBy: "client" | "server" | null = null;
  /** Payloads of PUBLISHes answered while behaving, and QoS 2 ones completed by PUBREL. */
  delivered: string[] = [];
  private behaving = false;
  private q2 = new Map<number, string>();
  private waiters: (() => void)[] = [];

  constructor(
    readonly socket: net.Socket,
    readonly index: number,
  ) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: any) => {
      this.packets.push(p);
      if (this.behaving) this.answer(p);
      for (const w of this.waiters.splice(0)) w();
    });
    parser.on("error", () => {});
    socket.on("data", (d) => parser.parse(d));
    socket.on("end", () => {
      if (this.closedBy === null) this.closedBy = "client";
    });
    socket.on("close", () => {
      if (this.closedBy === null) this.closedBy = "client";
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  get closed(): boolean {
    return this.socket.destroyed || this.closedBy !== null;
  }

  send(p: object): void {
    if (!this.socket.destroyed) this.socket.write(gen(p));
  }
  raw(b: Buffer | number[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.isBuffer(b) ? b : Buffer.from(b));
  }
  /** The script closes the connection. */
  kill(): void {
    if (this.closedBy === null) this.closedBy = "server";
    this.socket.destroy();
  }

  async next(cmd: string, n = 1, ms = 15000): Promise<any> {
    const end = Date.now() + ms;
    while (this.packets.filter((p) => p.cmd === cmd).length < n) {
      if (Date.now() > end) throw new Error(`broker conn #${this.index}: no ${cmd} #${n} within ${ms} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.packets.filter((p) => p.cmd === cmd)[n - 1];
  }

  /**
   * From now on answer as a correct broker; `connack` first unless the CONNECT was
   * already answered; `replay`: also answer what arrived before (unanswered so far).
   */
  behave(connack = true, replay = true): void {
    this.behaving = true;
    if (connack) this.send({ cmd: "connack", sessionPresent: true, returnCode: 0 });
    if (replay) for (const p of this.packets) if (p.cmd !== "connect") this.answer(p);
  }

  private answer(p: any): void {
    switch (p.cmd) {
      case "publish":
        if (p.qos === 1) {
          this.delivered.push(p.payload.toString("latin1"));
          this.send({ cmd: "puback", messageId: p.messageId });
        } else if (p.qos === 2) {
          this.q2.set(p.messageId, p.payload.toString("latin1"));
          this.send({ cmd: "pubrec", messageId: p.messageId });
        } else this.delivered.push(p.payload.toString("latin1"));
        break;
      case "pubrel": {
        const m = this.q2.get(p.messageId);
        if (m !== undefined) {
          this.delivered.push(m);
          this.q2.delete(p.messageId);
        }
        this.send({ cmd: "pubcomp", messageId: p.messageId });
        break;
      }
      case "subscribe":
        this.send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map((s: any) => s.qos) });
        break;
      case "unsubscribe":
        this.send({ cmd: "unsuback", messageId: p.messageId });
        break;
      case "pingreq":
        this.send({ cmd: "pingresp" });
        break;
      case "connect":
        this.send({ cmd: "connack", sessionPresent: true, returnCode: 0 });
        break;
      default:
    }
  }
}

/** The scripted broker: the first connection runs `hostile`, every later one behaves. */
export class HostileBroker {
  server!: net.Server;
  port = 0;
  conns: BrokerConn[] = [];
  constructor(private readonly hostile: (c: BrokerConn) => Promise<void> | void) {}

  async start(): Promise<this> {
    this.server = net.createServer((s) => {
      s.setNoDelay(true);
      const c = new BrokerConn(s, this.conns.length + 1);
      this.conns.push(c);
      if (c.index === 1) {
        Promise.resolve()
          .then(() => this.hostile(c))
          .catch(() => {});
      } else c.behave(false);
    });
    await new Promise<void>((r) => this.server.listen(0, HOST, () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Every payload delivered to the behaving broker, across connections. */
  delivered(): string[] {
    return this.conns.flatMap((c) => c.delivered);
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
