/**
 * The firmware's Platform (firmware/hal/platform.ts) over Node, for running the
 * compiled client bundles against real loopback sockets. Declared `implements
 * Platform`, so a change to the interface fails type-checking here, not at run time.
 */
import net from "node:net";
import type { Link, LinkHandler, Platform } from "../../firmware/hal/platform.ts";

/** Byte string <-> Buffer. */
export const bstr = (b: Buffer): string => b.toString("latin1");
export const buf = (s: string): Buffer => Buffer.from(s, "latin1");

/** A Platform over Node: real sockets, real timers, in-memory storage. */
export class NodePlatform implements Platform {
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
  open(host: string, port: number, _secure: boolean, h: LinkHandler): Link | null {
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
