/**
 * Chromium has no fake serial port, so the web tests give the page a
 * `navigator.serial` stand-in (an init script) whose port carries bytes over a
 * WebSocket to a bridge in the test, and the bridge onto a pseudo-terminal (socat)
 * with a REPL on its far end: the emulated board's, the real interpreter's, or a
 * device that is not Espruino.
 *
 * The stand-in follows the Web Serial API as Chromium implements it: requestPort()
 * rejects with NotFoundError when the user picks nothing; a port's readable yields
 * Uint8Arrays; its writable takes ArrayBuffers or views; an unplugged device errors
 * the readable, rejects writes and fires "disconnect" on the port and on
 * navigator.serial. `window.__wispSerialTarget` picks what the next requestPort()
 * "selects": a bridge target name, or "none" (the user closes the chooser).
 */
import { WebSocketServer } from "ws";
import type net from "node:net";
import { openSerialEnd, type SerialEnd } from "../../host-tools/emulator/pty.ts";

/**
 * The init script (plain JavaScript, run in the page before its own scripts): kept as
 * source text so no TypeScript helper of the test runner leaks into the page.
 */
export function serialStandInScript(bridgeUrl: string): string {
  return `(${STAND_IN})(${JSON.stringify(bridgeUrl)});`;
}

const STAND_IN = String.raw`function (bridgeUrl) {
  const lost = () => new DOMException("The device has been lost.", "NetworkError");
  const serial = new EventTarget();
  class StandInPort extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readable = null;
      this.writable = null;
      this.ws = null;
    }
    getInfo() {
      return { usbVendorId: 0x10c4, usbProductId: 0xea60 };
    }
    async open(opts) {
      if (this.url.endsWith("target=busy")) throw new DOMException("Failed to open serial port.", "NetworkError");
      const ws = new WebSocket(this.url);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new DOMException("Failed to open serial port.", "NetworkError"));
      });
      this.ws = ws;
      let gone = false;
      this.readable = new ReadableStream({
        start: (c) => {
          ws.onmessage = (ev) => c.enqueue(new Uint8Array(ev.data.slice(0)));
          ws.onclose = () => {
            if (gone) return;
            gone = true;
            try { c.error(lost()); } catch (e) { /* already errored */ }
            this.dispatchEvent(new Event("disconnect"));
            serial.dispatchEvent(new Event("disconnect"));
          };
        },
      });
      this.writable = new WritableStream({
        write: (chunk) => {
          if (ws.readyState !== 1) throw lost();
          ws.send(chunk instanceof ArrayBuffer ? chunk : chunk.slice().buffer);
        },
      });
    }
    async close() {
      if (this.ws) this.ws.close();
    }
  }
  serial.requestPort = async () => {
    const target = window.__wispSerialTarget || "board";
    if (target === "none") throw new DOMException("No port selected by the user.", "NotFoundError");
    return new StandInPort(bridgeUrl + "?target=" + encodeURIComponent(target));
  };
  serial.getPorts = async () => [];
  Object.defineProperty(navigator, "serial", { value: serial, configurable: true });
}`;

export interface SerialBridge {
  url: string;
  /** Name -> pty path of the host end. */
  targets: Map<string, string>;
  /** Bytes the page sent to each target so far. */
  sent: Map<string, number>;
  /** "Unplug" a target once the page has sent it this many bytes. */
  unplugAfter: Map<string, number>;
  close(): Promise<void>;
}

/** The WebSocket end of the stand-in: each connection opens the target's pty. */
export async function startSerialBridge(): Promise<SerialBridge> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const targets = new Map<string, string>();
  const sent = new Map<string, number>();
  const unplugAfter = new Map<string, number>();
  const ends = new Set<SerialEnd>();
  wss.on("connection", (ws, req) => {
    const name = new URL(req.url ?? "/", "http://x").searchParams.get("target") ?? "";
    const path = targets.get(name);
    if (!path) return ws.close(1008, `no target ${name}`);
    const end = openSerialEnd(path);
    ends.add(end);
    let open = true;
    const unplug = () => {
      if (!open) return;
      open = false;
      end.close();
      ends.delete(end);
      ws.terminate();
    };
    end.onData((d) => {
      if (open) ws.send(Buffer.from(d, "latin1"));
    });
    ws.on("message", (data: Buffer) => {
      if (!open) return;
      const n = (sent.get(name) ?? 0) + data.length;
      sent.set(name, n);
      end.write(data.toString("latin1"));
      const limit = unplugAfter.get(name);
      if (limit !== undefined && n >= limit) unplug();
    });
    ws.on("close", unplug);
  });
  const port = (wss.address() as net.AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    targets,
    sent,
    unplugAfter,
    close: async () => {
      for (const e of ends) e.close();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
