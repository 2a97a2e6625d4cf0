/**
 * The transport callbacks of one connection attempt. Each Conn carries its
 * generation, so the client ignores a late event from a link it has already left.
 * The callbacks do the client's work themselves (no forwarding methods on the
 * Client: on Espruino each method holds RAM for good).
 */
import type { LinkHandler } from "../hal/platform";
import type { Client } from "./client";
import { encodeConnect } from "./encode";
import { PACKET_READY } from "./errors";
import { connackOrFault, handlePacket } from "./flows";
import { ERR_CLOSED, S_CONNACK, S_OPENING } from "./results";

export class Conn implements LinkHandler {
  c: Client;
  gen: number;
  constructor(c: Client, gen: number) {
    this.c = c;
    this.gen = gen;
  }

  /** Transport opened: send CONNECT. */
  onOpen(): void {
    const c = this.c;
    if (this.gen !== c.gen || c.state !== S_OPENING) return;
    const n = encodeConnect(c.tx, c.cfg.connect);
    if (n < 0) {
      // A setting the app may still change (keep-alive, credentials): retry, rarely.
      c.trouble = n;
      c.drop(n, "CONNECT");
      return;
    }
    c.state = S_CONNACK;
    c.lastRecv = c.p.millis();
    c.send(c.tx, n);
  }

  /** Bytes from the broker. */
  onData(data: string): void {
    const c = this.c;
    const gen = this.gen;
    if (gen !== c.gen) return;
    const r = c.reader;
    const n = strLen(data);
    let pos = 0;
    while (pos < n) {
      pos = r.feed(data, pos);
      if (r.status === PACKET_READY) {
        c.lastRecv = c.p.millis();
        c.pingAt = -1;
        handlePacket(c);
      } else if (r.status < 0) {
        c.lastRecv = c.p.millis();
        connackOrFault(c, r.status);
      }
      if (gen !== c.gen) return;
    }
  }

  /** The transport closed: the link disconnect() closed (onClosed), or a lost connection. */
  onClose(reason: string): void {
    const c = this.c;
    if (this.gen === c.closing) {
      c.closing = -1;
      const h = c.onClosed;
      if (h !== null) h();
      return;
    }
    if (this.gen === c.gen) c.drop(ERR_CLOSED, reason);
  }
}
