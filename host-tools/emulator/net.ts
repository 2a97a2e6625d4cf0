/**
 * Espruino `require("net")` and `require("tls")` over real Node sockets.
 *
 * Shapes as on Espruino: `connect({host, port}, cb)` returns a socket; `cb` runs on
 * connect (and 'connect' is emitted); `on('data', s)` delivers byte strings (each
 * char 0..255, latin1); `write(data)` takes a byte string (or bytes); `end()`;
 * 'close' once, 'error' with `{code, message}` before 'close' on failure.
 *
 * The radio is real here in the sense that matters: while Wi-Fi is not connected
 * a new socket fails with "no network" and a drop-out closes every open socket.
 * Every write and read is metered (energy) and reported to the clock so virtual
 * time does not jump while bytes are in flight.
 */
import nodeNet from "node:net";
import nodeTls from "node:tls";
import type { Clock } from "./clock.ts";
import type { EnergyMeter } from "./energy.ts";
import { EspruinoEmitter, type Invoke } from "./emitter.ts";
import { toByteString } from "./storage.ts";
import { MqttSniffer, expectsReply, isReply } from "./sniffer.ts";
import type { WifiModel } from "./wifi.ts";

export interface SocketEvent {
  type: "socket";
  event: "connect" | "close" | "error" | "refused";
  id: number;
  host: string;
  port: number;
  tls: boolean;
  message?: string;
}

export interface NetDeps {
  clock: Clock;
  meter: EnergyMeter;
  wifi: WifiModel;
  invoke: Invoke;
  alive: () => boolean;
  realm: <T>(v: T) => T;
  log: (e: SocketEvent) => void;
  /** Every byte string the board sends, by socket id (for host-side sniffers). */
  onTx?: (socketId: number, bytes: string) => void;
}

interface Open {
  close(reason: string): void;
}

/** All sockets of one program run; closed when Wi-Fi drops or the run ends. */
export class SocketSet {
  private open = new Set<Open>();
  private nextId = 1;
  id(): number {
    return this.nextId++;
  }
  add(s: Open): void {
    this.open.add(s);
  }
  delete(s: Open): void {
    this.open.delete(s);
  }
  closeAll(reason: string): void {
    for (const s of [...this.open]) s.close(reason);
  }
  get size(): number {
    return this.open.size;
  }
}

type ConnectOpts = { host?: string; port?: number | string; ca?: string; key?: string; cert?: string };

function parseTarget(o: unknown, defPort: number): ConnectOpts {
  if (typeof o === "string") {
    const m = /^(?:[a-z]+:\/\/)?([^:/]+)(?::(\d+))?/.exec(o);
    if (!m) throw new Error(`net.connect: cannot parse "${o}"`);
    return { host: m[1], port: m[2] ? Number(m[2]) : defPort };
  }
  if (typeof o !== "object" || o === null) throw new TypeError("net.connect: options must be an object {host, port}");
  return o as ConnectOpts;
}

export function makeNetModule(deps: NetDeps, sockets: SocketSet, useTls: boolean) {
  const { clock, meter, wifi, invoke, alive, log } = deps;
  return {
    connect(options: unknown, cb?: Function) {
      const o = parseTarget(options, useTls ? 443 : 80);
      const host = String(o.host ?? "localhost");
      const port = Number(o.port ?? (useTls ? 443 : 80));
      const id = sockets.id();
      const sock = new EspruinoEmitter(invoke);
      let node: nodeNet.Socket | null = null;
      let closed = false;
      let connected = false;
      const channel = {};
      const sniffer = new MqttSniffer();
      // Replies the broker still owes: virtual time waits for every one of them, not
      // just for the next bytes (a SUBACK must not release a PUBACK that is still due).
      const rxSniffer = new MqttSniffer();
      let owed = 0;
      const finish = (err?: string) => {
        if (closed) return;
        closed = true;
        sockets.delete(entry);
        clock.dropChannel(channel);
        if (err) {
          log({ type: "socket", event: "error", id, host, port, tls: useTls, message: err });
          if (alive()) sock.emit("error", deps.realm({ code: connected ? -1 : -2, message: err }));
        }
        log({ type: "socket", event: "close", id, host, port, tls: useTls });
        if (alive()) sock.emit("close", !!err);
      };
      const entry: Open = {
        close(reason: string) {
          node?.destroy();
          finish(connected ? undefined : reason);
        },
      };
      Object.assign(sock, {
        write(data: unknown, wcb?: Function) {
          if (closed || !node || !alive()) return false;
          const s = toByteString(data);
          if (s.length === 0) return true;
          const done = clock.beginIo();
          meter.transmit(s.length);
          const packets = sniffer.feed(s);
          owed += packets.filter(expectsReply).length;
          clock.noteActivity(channel, sniffer.notMqtt || packets.length === 0 ? "maybe" : owed > 0 ? "reply" : "none");
          deps.onTx?.(id, s);
          node.write(Buffer.from(s, "latin1"), () => {
            done();
            if (typeof wcb === "function" && alive()) invoke(wcb, []);
          });
          return true;
        },
        end(data?: unknown) {
          if (data !== undefined) (sock as unknown as { write(d: unknown): boolean }).write(data);
          if (node && !closed) {
            // the close that follows is I/O the board waits for: hold virtual time (at most 2 s real)
            const done = clock.beginIo();
            const guard = setTimeout(done, 2000);
            node.once("close", () => {
              clearTimeout(guard);
              done();
            });
            node.end();
          }
        },
        destroy() {
          node?.destroy();
          finish();
        },
      });
      if (wifi.station !== "connected") {
        log({ type: "socket", event: "refused", id, host, port, tls: useTls, message: "no network (Wi-Fi not connected)" });
        clock.schedule(() => finish("no network (Wi-Fi not connected)"), 0);
        return sock;
      }
      sockets.add(entry);
      const doneConnect = clock.beginIo();
      if (useTls) {
        node = nodeTls.connect({ host, port, servername: /^[\d.]+$/.test(host) ? undefined : host, ca: o.ca, key: o.key, cert: o.cert, rejectUnauthorized: !!o.ca });
        node.once("secureConnect", () => onConnect());
      } else {
        node = nodeNet.connect({ host, port });
        node.once("connect", () => onConnect());
      }
      node.setNoDelay(true);
      const onConnect = () => {
        doneConnect();
        if (closed) return;
        connected = true;
        meter.transmit(0); // handshake: one short frame on the air
        log({ type: "socket", event: "connect", id, host, port, tls: useTls });
        if (typeof cb === "function" && alive()) invoke(cb, []);
        if (alive()) sock.emit("connect");
      };
      node.on("data", (b: Buffer) => {
        owed = Math.max(0, owed - rxSniffer.feed(b.toString("latin1")).filter(isReply).length);
        clock.noteActivity(channel, owed > 0 && !sniffer.notMqtt && !rxSniffer.notMqtt ? "reply" : "none");
        if (closed || !alive()) return;
        meter.receive(b.length);
        sock.emit("data", b.toString("latin1"));
      });
      node.on("error", (e: NodeJS.ErrnoException) => {
        doneConnect();
        finish(e.code ? `${e.code}: ${e.message}` : e.message);
      });
      node.on("close", () => {
        doneConnect();
        finish();
      });
      return sock;
    },
  };
}
