/**
 * Embedded MQTT broker: aedes on a free loopback port, for `wisp emulate` without
 * `--broker` and for quick tests.
 *
 * aedes keeps its own keep-alive timers in real time. Under the virtual clock a
 * simulated day passes in seconds of real time, so aedes' keep-alive check never
 * fires during such a run; the emulator does not rely on it (a dead link is the
 * firmware's job to detect, and a test that needs a broker to drop a client closes
 * the connection itself, or uses mosquitto in real time).
 */
import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  aedes: Aedes;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startAedes(opts: { port?: number; host?: string } = {}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    aedes,
    host,
    port,
    url: `mqtt://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}
