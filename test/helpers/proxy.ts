/**
 * A TCP proxy on 127.0.0.1 that the test controls, for fault injection between the
 * client and a broker:
 *
 *   - `cutAfter(dir, n)`: the next n bytes in direction `dir` ("up" = client to
 *     broker, "down" = broker to client, counted from this call) are forwarded, then
 *     the connection is cut (both sockets closed; the receiver gets the n bytes and
 *     then the close). n = 0 cuts at the first byte. Fires once, then disarms.
 *   - `freeze()`: the connections open now stop forwarding in both directions without
 *     closing (half-open link: bytes are read and dropped, no FIN, no RST).
 *   - `cutAll()`: close every connection now.
 *
 * New connections are forwarded normally (an armed cut applies to whichever
 * connection carries the bytes).
 */
import net from "node:net";

export type Dir = "up" | "down";

interface Pair {
  client: net.Socket;
  server: net.Socket;
  closed: boolean;
  frozen: boolean;
}

export class Proxy {
  server!: net.Server;
  port = 0;
  pairs = new Set<Pair>();
  /** Connections accepted so far. */
  accepted = 0;
  /** Cuts done so far. */
  cuts = 0;
  /** Bytes forwarded per direction (all connections). */
  bytes = { up: 0, down: 0 };
  private cut: { dir: Dir; left: number } | null = null;

  constructor(
    readonly targetPort: number,
    readonly targetHost = "127.0.0.1",
  ) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const server = net.connect({ host: this.targetHost, port: this.targetPort });
    const pair: Pair = { client, server, closed: false, frozen: false };
    this.pairs.add(pair);
    client.setNoDelay(true);
    server.setNoDelay(true);
    // Client bytes that arrive before the upstream connection is up are queued by
    // net.Socket.write, so ordering is kept.
    client.on("data", (d) => this.forward(pair, "up", d));
    server.on("data", (d) => this.forward(pair, "down", d));
    const close = () => this.close(pair, false);
    client.on("close", close);
    server.on("close", close);
    client.on("error", () => {});
    server.on("error", () => {});
  }

  private forward(pair: Pair, dir: Dir, d: Buffer): void {
    if (pair.closed || pair.frozen) return;
    const to = dir === "up" ? pair.server : pair.client;
    const cut = this.cut;
    if (cut && cut.dir === dir) {
      const take = Math.min(d.length, cut.left);
      cut.left -= take;
      this.bytes[dir] += take;
      if (cut.left === 0) {
        this.cut = null;
        this.cuts++;
        // The n bytes reach the receiver, then the close (FIN after the data); the
        // sender's side is destroyed at once so nothing more gets through.
        if (take > 0) to.write(d.subarray(0, take));
        this.close(pair, true, to);
        return;
      }
      to.write(d);
      return;
    }
    this.bytes[dir] += d.length;
    to.write(d);
  }

  private close(pair: Pair, abrupt: boolean, flushTo?: net.Socket): void {
    if (pair.closed) return;
    pair.closed = true;
    this.pairs.delete(pair);
    for (const s of [pair.client, pair.server]) {
      if (abrupt && s === flushTo) {
        s.end();
        setTimeout(() => s.destroy(), 200).unref();
      } else if (abrupt) {
        s.destroy();
      } else {
        s.end();
        setTimeout(() => s.destroy(), 200).unref();
      }
    }
  }

  /** Forward the next `n` bytes in `dir`, then cut the connection. */
  cutAfter(dir: Dir, n: number): void {
    this.cut = { dir, left: n }; // n = 0: cut at the first byte (see forward())
  }

  /** Disarm a pending cut; returns whether one was pending. */
  disarm(): boolean {
    const was = this.cut !== null;
    this.cut = null;
    return was;
  }

  /** Half-open: the connections open now stop forwarding (no close); new ones work. */
  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  cutAll(): void {
    for (const p of [...this.pairs]) this.close(p, true);
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
