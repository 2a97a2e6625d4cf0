/**
 * The tests' one in-process broker: aedes on a free loopback port. Closed by the
 * returned `close` (idempotent) or by `cleanupAll`.
 */
import net from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import { onCleanup } from "./cleanup.ts";

export interface TestBroker {
  aedes: Aedes;
  host: string;
  port: number;
  /** mqtt://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function startAedes(opts: AedesOptions = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker(opts);
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const host = "127.0.0.1";
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  };
  onCleanup(close);
  return { aedes, host, port, url: `mqtt://${host}:${port}`, close };
}
