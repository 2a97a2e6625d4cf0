/**
 * Espruino `require("net")` and `require("tls")` over real Node sockets.
 *
 * Shapes and timing as on Espruino (libs/network/socketserver.c, jswrap_net.c;
 * docs/emulator.md has the table): `connect({host, port}, cb)` returns a socket, or
 * throws at once for an unknown host, a refused loopback port or no Wi-Fi (Espruino's
 * connect blocks); `cb(socket)` runs on connect, then 'connect';
 * `write(data)` only queues (and returns false): the queue is sent when the event
 * loop next runs, so a deep sleep in the same call loses it; `end()` closes once the
 * queue is sent; 'data' delivers byte strings (chars 0..255); a socket ends with
 * 'error' (only for a real error code), 'end', then 'close(hadError)'.
 *
 * The radio is real here in the sense that matters: while Wi-Fi is not connected
 * a new socket cannot be made, and a drop-out closes every open socket.
 * Every write and read is metered (energy) and reported to the clock so virtual
 * time does not jump while bytes are in flight.
 */
import nodeNet from "node:net";
import nodeTls from "node:tls";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
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
  /** Print an "ERROR: ..." line on the console, as jsError does. */
  consoleError?: (message: string) => void;
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

/** Espruino's socket error codes (libs/network/socketerrors.h) and texts (socketerrors.c). */
export const SOCKET_ERR_UNSENT_DATA = { code: -8, message: "unsent data" };
/** The server name every Espruino TLS connection sends (network.c, mbedtls_ssl_set_hostname). */
export const TLS_SNI = "mbed TLS Server 1";
/** Bytes one idle-loop pass sends (net->chunkSize in network_esp32.c). */
export const CHUNK_BYTES = 536;
export const SOCKET_ERR_SSL_HAND = { code: -13, message: "SSL handshake failed" };

/** An error as Espruino's jsExceptionHere(JSET_INTERNALERROR, ...) throws it: prints as "InternalError: ...". */
function internalError(message: string): Error {
  const e = new Error(message);
  e.name = "InternalError";
  return e;
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
      // socketserver.c keeps written data in the socket's "dSnd" string and sends it from
      // the idle loop (socketClientConnectionsIdle): nothing leaves during the call that
      // wrote it, and whatever is still queued when the run ends (deep sleep) is lost.
      let queued = "";
      let flushPass: Cancel | null = null;
      // end() was called: Espruino sets CLOSE (or CLOSENOW with nothing queued); a later write throws.
      let ending = false;
      const channel = {};
      const sniffer = new MqttSniffer();
      // Replies the broker still owes: virtual time waits for every one of them, not
      // just for the next bytes (a SUBACK must not release a PUBACK that is still due).
      const rxSniffer = new MqttSniffer();
      let owed = 0;
      const emit = (event: string, ...args: unknown[]) => {
        if (alive()) sock.emit(event, ...args);
      };
      // Bytes read but not yet handed over: each idle-loop pass reads at most
      // net->chunkSize (536) bytes and the next pass gives them as one 'data' event
      // (socketClientConnectionsIdle, socketPushReceiveData).
      let received = "";
      let rxPass: Cancel | null = null;
      const deliver = () => {
        rxPass = null;
        if (closed || !alive() || received.length === 0) return;
        const s = received.slice(0, CHUNK_BYTES);
        received = received.slice(s.length);
        emit("data", s);
        if (received.length > 0) rxPass = nextPass(clock, deliver);
      };
      /**
       * The socket is gone (socketClientConnectionsIdle, "closeConnectionNow"): an
       * `error` event only for a real error code, then `end`, then `close(hadError)`.
       * A lost connection reads as SOCKET_ERR_CLOSED (no error event) unless data was
       * still queued, which is SOCKET_ERR_UNSENT_DATA.
       */
      const finish = (why: string, err?: { code: number; message: string }) => {
        if (closed) return;
        closed = true;
        flushPass?.();
        flushPass = null;
        sockets.delete(entry);
        clock.dropChannel(channel);
        rxPass?.();
        rxPass = null;
        // what was read and not yet handed over goes out in one last 'data' (socketPushReceiveData, force)
        if (received.length > 0) emit("data", received);
        received = "";
        const error = err ?? (queued.length > 0 ? SOCKET_ERR_UNSENT_DATA : undefined);
        queued = "";
        if (error) {
          log({ type: "socket", event: "error", id, host, port, tls: useTls, message: `${error.message} (${why})` });
          emit("error", deps.realm({ code: error.code, message: error.message }));
        }
        log({ type: "socket", event: "close", id, host, port, tls: useTls, message: error ? undefined : why });
        emit("end");
        emit("close", !!error);
      };
      const entry: Open = {
        close(reason: string) {
          node?.destroy();
          finish(reason);
        },
      };
      /** Hand bytes to the host socket: this is when they leave the board. */
      const transmit = (s: string) => {
        if (!node) return;
        const done = clock.beginIo();
        meter.transmit(s.length);
        const packets = sniffer.feed(s);
        owed += packets.filter(expectsReply).length;
        clock.noteActivity(channel, sniffer.notMqtt || packets.length === 0 ? "maybe" : owed > 0 ? "reply" : "none");
        deps.onTx?.(id, s);
        node.write(Buffer.from(s, "latin1"), () => done());
      };
      /** Close the host socket after what was queued has gone (Espruino closes the socket outright). */
      const closeNow = () => {
        if (node && !node.destroyed) {
          // the FIN that follows is I/O the board waits for: hold virtual time (at most 2 s real)
          const done = clock.beginIo();
          const guard = setTimeout(() => {
            done();
            node?.destroy();
          }, 2000);
          node.once("close", () => {
            clearTimeout(guard);
            done();
          });
          node.end();
        }
        finish("closed by the program");
      };
      /**
       * Send at most one chunk of the queue, as socketSendData does (net->chunkSize,
       * 536 bytes on the ESP32 port); 'drain' once the queue is empty (unless closing).
       */
      const sendChunk = () => {
        const s = queued.slice(0, CHUNK_BYTES);
        queued = queued.slice(s.length);
        transmit(s);
        if (queued.length === 0 && !ending) emit("drain", sock);
      };
      /** One pass of the idle loop for this socket: send a chunk of the queue, or close if asked. */
      const idle = () => {
        flushPass = null;
        if (closed || !alive() || !connected) return;
        if (queued.length > 0) {
          sendChunk();
          // more to send, or a close that waits for the next pass (socketserver.c)
          if (queued.length > 0 || ending) flushPass = nextPass(clock, idle);
          return;
        }
        if (ending) closeNow();
      };
      const scheduleIdle = () => {
        if (!flushPass && !closed) flushPass = nextPass(clock, idle);
      };
      Object.assign(sock, {
        /** jswrap_net_socket_write: queue and return false (it always returns false). */
        write(data: unknown) {
          if (!alive()) return false;
          if (ending) throw new Error("This socket is closed");
          if (closed) return false; // the connection is gone: the data is never sent
          if (wifi.station !== "connected") return false;
          queued += toByteString(data);
          if (connected) scheduleIdle();
          return false;
        },
        /** jswrap_net_socket_end: queue `data`, then close once everything queued has been sent. */
        end(data?: unknown) {
          if (data !== undefined) (sock as unknown as { write(d: unknown): boolean }).write(data);
          if (closed || ending) return;
          ending = true;
          if (connected) scheduleIdle();
          else if (queued.length === 0) {
            // CLOSENOW before the connection is up: dropped on the next pass
            node?.destroy();
            nextPass(clock, () => finish("closed by the program"));
          }
        },
        destroy() {
          node?.destroy();
          finish("destroyed");
        },
      });
      if (wifi.station !== "connected") {
        // The ESP32 port's network state is always "online" (jswrap_esp32_wifi_soft_init),
        // and its connect() blocks (net_esp32_createsocket): with no Wi-Fi there is no
        // route, jsError prints the errno and clientRequestConnect throws at once.
        log({ type: "socket", event: "refused", id, host, port, tls: useTls, message: "no network (Wi-Fi not connected)" });
        deps.consoleError?.("Connect failed (err 113)");
        throw internalError("Unable to create socket");
      }
      const address = resolveHost(host);
      if (address === null) {
        // clientRequestConnect: networkGetHostByName found nothing -> thrown at once
        log({ type: "socket", event: "refused", id, host, port, tls: useTls, message: "Unable to locate host" });
        throw internalError("Unable to locate host");
      }
      if (listeningLocally(address, port) === false) {
        // net_esp32_createsocket's connect() blocks: a refused connection is known at
        // once, jsError prints the errno and clientRequestConnect throws
        log({ type: "socket", event: "refused", id, host, port, tls: useTls, message: "connection refused" });
        deps.consoleError?.("Connect failed (err 111)");
        throw internalError("Unable to create socket");
      }
      sockets.add(entry);
      const doneConnect = clock.beginIo();
      if (useTls) {
        // network.c ssl_newSocketData: MBEDTLS_SSL_VERIFY_NONE (the server certificate is
        // never checked, `ca` or not) and the SNI host name is always "mbed TLS Server 1"
        node = nodeTls.connect({ host: address, port, servername: TLS_SNI, key: o.key, cert: o.cert, rejectUnauthorized: false });
        node.once("secureConnect", () => onConnect());
      } else {
        node = nodeNet.connect({ host: address, port });
        node.once("connect", () => onConnect());
      }
      node.setNoDelay(true);
      const onConnect = () => {
        doneConnect();
        if (closed) return;
        connected = true;
        meter.transmit(0); // handshake: one short frame on the air
        log({ type: "socket", event: "connect", id, host, port, tls: useTls });
        // socketClientConnectionsIdle: data queued before the connection was up goes
        // first and its 'drain' comes before 'connect'; with nothing queued, 'connect'
        // then 'drain'. The connect callback gets the socket.
        const hadQueued = queued.length > 0;
        if (hadQueued) sendChunk();
        if (typeof cb === "function" && alive()) invoke(cb, [sock]);
        emit("connect", sock);
        if (!hadQueued && !ending) emit("drain", sock);
        if (ending || queued.length > 0) scheduleIdle();
      };
      node.on("data", (b: Buffer) => {
        owed = Math.max(0, owed - rxSniffer.feed(b.toString("latin1")).filter(isReply).length);
        clock.noteActivity(channel, owed > 0 && !sniffer.notMqtt && !rxSniffer.notMqtt ? "reply" : "none");
        if (closed || !alive()) return;
        meter.receive(b.length);
        received += b.toString("latin1");
        if (!rxPass) rxPass = nextPass(clock, deliver);
      });
      node.on("error", (e: NodeJS.ErrnoException) => {
        doneConnect();
        // A TLS failure before the session is up is SOCKET_ERR_SSL_HAND; any other
        // failure (refused, reset) reads as a closed connection on the ESP32 port.
        const tlsFailure = useTls && !connected && e.code !== "ECONNREFUSED";
        finish(e.code ? `${e.code}: ${e.message}` : e.message, tlsFailure ? SOCKET_ERR_SSL_HAND : undefined);
      });
      node.on("close", () => {
        doneConnect();
        finish("closed by the peer");
      });
      return sock;
    },
  };
}

type Cancel = () => void;

/**
 * Run `fn` on the next pass of the board's idle loop: as soon as the host's event
 * loop turns, whether or not anyone is driving the clock (a test may wait in real
 * time while board time stands still), and before virtual time moves on (the pass
 * holds the clock like I/O in flight). Returns a cancel function.
 */
function nextPass(clock: Clock, fn: () => void): Cancel {
  const done = clock.beginIo();
  let live = true;
  const h = setImmediate(() => {
    if (!live) return;
    live = false;
    done();
    fn();
  });
  return () => {
    if (!live) return;
    live = false;
    clearImmediate(h);
    done();
  };
}

const resolved = new Map<string, string | null>();

/**
 * Resolve a host name synchronously, as the ESP32 port's gethostbyname does
 * (net_esp32_gethostbyname): `net.connect` must throw at once for an unknown host.
 * IP literals and localhost need no lookup; names are looked up once per process.
 */
export function resolveHost(host: string): string | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":")) return host;
  if (host === "localhost") return "127.0.0.1";
  const hit = resolved.get(host);
  if (hit !== undefined) return hit;
  const r = spawnSync(process.execPath, ["-e", "require('dns').lookup(process.argv[1], 4, (e, a) => { process.stdout.write(e ? '' : a); })", host], {
    encoding: "utf8",
    timeout: 10_000,
  });
  const addr = r.status === 0 && r.stdout ? r.stdout.trim() : null;
  resolved.set(host, addr);
  return addr;
}

/**
 * Whether a loopback address has a listener on `port`, read from /proc/net/tcp(6):
 * Espruino's connect() blocks, so a refusal must be known before net.connect
 * returns, and Node has no blocking connect. Null when it cannot tell (another host,
 * or no /proc): then a refusal shows only later, as a close.
 */
export function listeningLocally(address: string, port: number): boolean | null {
  if (!/^127\.|^::1$|^localhost$/.test(address)) return null;
  let text = "";
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      text += fs.readFileSync(f, "utf8");
    } catch {
      return null;
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    // local_address is ADDR:PORT in hex; state 0A is LISTEN. Any bound address that
    // covers loopback counts (0.0.0.0, 127.x, ::, ::1).
    if (f[3] !== "0A" || !f[1]?.endsWith(":" + hexPort)) continue;
    const addr = f[1].slice(0, -5);
    if (/^0+$/.test(addr) || addr.endsWith("7F") || addr === "00000000000000000000000001000000" || addr.startsWith("0000000000000000FFFF0000")) return true;
  }
  return false;
}
