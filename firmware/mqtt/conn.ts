/**
 * The transport callbacks of one connection attempt. Each carries its generation, so
 * the client ignores a late event from a link it has already left.
 */
import type { LinkHandler } from "../hal/platform";
import type { Client } from "./client";

export class Conn implements LinkHandler {
  c: Client;
  gen: number;
  constructor(c: Client, gen: number) {
    this.c = c;
    this.gen = gen;
  }
  onOpen(): void {
    this.c.linkOpen(this.gen);
  }
  onData(data: string): void {
    this.c.linkData(this.gen, data);
  }
  onClose(reason: string): void {
    this.c.linkClosed(this.gen, reason);
  }
}
