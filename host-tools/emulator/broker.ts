/**
 * Embedded MQTT broker: aedes on a free loopback port, for `wisp emulate` without
 * `--broker` and for quick tests.
 *
 * aedes keeps its own keep-alive timers in real time. Under the virtual clock a
 * simulated day passes in seconds of real time, so aedes' keep-alive check never
 * fires during such a run; the emulator does not rely on it (a dead link is the
 * firmware's job to detect, and a test that needs a broker to drop a client closes
 * the connection itself, or uses mosquitto in real time).
 *
 * It also serves MQTT over WebSocket (path /mqtt, on its own free port, or on
 * `WISP_BROKER_WS_PORT`), so a browser page (`wisp web`'s live view) reaches the same
 * broker as the boards: browsers speak no raw TCP.
 */
import http from "node:http";
import net from "node:net";
import { Aedes } from "aedes";
import { createWebSocketStream, WebSocketServer } from "ws";

export interface EmbeddedBroker {
  aedes: Aedes;
  host: string;
  port: number;
  url: string;
  /** MQTT over WebSocket to the same broker: ws://host:port/mqtt; null when turned off. */
  wsUrl: string | null;
  close(): Promise<void>;
}

export interface AedesOptions {
  port?: number;
  host?: string;
  /** WebSocket listener port (0: a free one; false: none). Default WISP_BROKER_WS_PORT, else 0. */
  wsPort?: number | false;
}

export async function startAedes(opts: AedesOptions = {}): Promise<EmbeddedBroker> {
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
  const envWs = process.env.WISP_BROKER_WS_PORT;
  const wsPort = opts.wsPort ?? (envWs ? Number(envWs) : 0);
  let web: { http: http.Server; wss: WebSocketServer; port: number } | null = null;
  if (wsPort !== false) {
    const httpServer = http.createServer((_req, res) => res.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket: connect to /mqtt\n"));
    const wss = new WebSocketServer({ server: httpServer, path: "/mqtt" });
    wss.on("connection", (ws, req) => aedes.handle(createWebSocketStream(ws) as never, req as never));
    httpServer.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(wsPort, host, () => resolve());
      });
    } catch (e) {
      server.close();
      aedes.close();
      throw new Error(`the embedded broker cannot serve MQTT over WebSocket on ${host}:${wsPort}: ${(e as Error).message}`);
    }
    web = { http: httpServer, wss, port: (httpServer.address() as net.AddressInfo).port };
  }
  return {
    aedes,
    host,
    port,
    url: `mqtt://${host}:${port}`,
    wsUrl: web ? `ws://${host}:${web.port}/mqtt` : null,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        const done = () => server.close(() => aedes.close(() => resolve()));
        if (!web) return done();
        for (const c of web.wss.clients) c.terminate();
        web.wss.close();
        web.http.close(() => done());
      }),
  };
}
