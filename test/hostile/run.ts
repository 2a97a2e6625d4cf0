/**
 * One hostile-broker scenario against one board (a Driver: the client bundle on V8
 * or on the real interpreter), with the checks every scenario must pass: the board
 * names what happened, drops the first connection where the spec says so, keeps the
 * unacknowledged QoS 1/2 readings (delivered once the broker behaves, the QoS 2 one
 * exactly once), and publishes again with no reboot.
 */
import assert from "node:assert/strict";
import { HostileBroker } from "./broker.ts";
import type { Scenario } from "./scenarios.ts";

export interface BoardEvents {
  /** Codes from onError and onDisconnect, with their names. */
  codes: number[];
  names: string[];
  messages: string[];
  connected: boolean;
}

export interface Driver {
  /** A new client for this scenario: r1 (QoS 1) and r2 (QoS 2) published (queued), then connect(). */
  start(port: number, sc: Scenario): Promise<void>;
  events(): Promise<BoardEvents>;
  publish(topic: string, payload: string, qos: number): Promise<number>;
  /** True when the board publishes r3 by itself once r1 and r2 are acknowledged. */
  readonly publishesR3?: boolean;
  /** The application stops the client (disconnect()). */
  stop(): Promise<void>;
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms: number, detail: () => Promise<string> | string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; ${await detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runScenario(d: Driver, sc: Scenario): Promise<void> {
  const b = await new HostileBroker(sc.hostile).start();
  try {
    await d.start(b.port, sc);
    const detail = async () => {
      const e = await d.events();
      return `board: ${JSON.stringify(e)}; broker: conns ${b.conns.length}, first closed by ${b.conns[0]?.closedBy}, delivered ${JSON.stringify(b.delivered())}`;
    };
    if (sc.named.length > 0) {
      await until(async () => (await d.events()).codes.some((c) => sc.named.includes(c)), `one of ${sc.named} named`, 20000, detail);
    }
    if (sc.drop === "client") await until(() => b.conns[0]?.closedBy === "client", "the board to close the first connection", 10000, detail);
    if (sc.drop === "server") await until(() => b.conns[0]?.closedBy === "server", "the script's close", 10000, detail);
    await until(() => ["r1", "r2"].every((p) => b.delivered().includes(p)), "r1 and r2 delivered once the broker behaves", 20000, detail);
    if (!d.publishesR3) {
      await until(async () => (await d.events()).connected, "connected", 10000, detail);
      const id = await d.publish("wisp/h1/telemetry", "r3", 1);
      assert.ok(id > 0 || id === 65536, `publish after recovery returned ${id}`);
    }
    await until(() => b.delivered().includes("r3"), "r3 delivered after recovery (no reboot)", 10000, detail);
    const delivered = b.delivered();
    assert.equal(delivered.filter((p) => p === "r2").length, 1, `QoS 2 reading exactly once: ${delivered}`);
    const e = await d.events();
    for (let i = 0; i < e.codes.length; i++) assert.doesNotMatch(e.names[i], /^error -?\d+$/, `code ${e.codes[i]} has a name`);
    if (sc.drop === "none") {
      assert.equal(b.conns.length, 1, "the connection went on");
      assert.equal(b.conns[0].closedBy, null);
    }
    for (const m of sc.messages ?? []) assert.ok(e.messages.includes(m), `message ${m} delivered to the board: ${e.messages}`);
  } finally {
    await d.stop().catch(() => {});
    await b.close();
  }
}
