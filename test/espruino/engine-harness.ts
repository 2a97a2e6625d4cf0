/**
 * Shared by the engine-, app-, client- and flash- suites on the real interpreter:
 * the Uncaught check every such test ends with, and an MQTT.js observer.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { TestContext } from "node:test";
import mqtt from "mqtt";

/** No test on the real interpreter may see an `Uncaught` line (issue 9). */
export function assertNoUncaught(_t: TestContext, uncaught: string[]): void {
  assert.deepEqual(uncaught, [], "the interpreter printed Uncaught errors");
}

export interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  at: number;
}

/** An MQTT.js client that records everything under `filter`. */
export async function observe(url: string, filter: string): Promise<{ client: mqtt.MqttClient; seen: Seen[]; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { clientId: `obs-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 0 });
  const seen: Seen[] = [];
  client.on("message", (topic, payload, packet) => seen.push({ topic, payload: payload.toString("latin1"), qos: packet.qos, retain: packet.retain, at: Date.now() }));
  await client.subscribeAsync(filter, { qos: 2 });
  return { client, seen, close: () => client.endAsync().catch(() => {}) as Promise<void> };
}

/** Poll until `pred()` holds or fail after `ms` naming `what`. */
export async function until(pred: () => boolean, ms: number, what: string, detail: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms: ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
