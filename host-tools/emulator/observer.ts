/**
 * The independent observer of `wisp emulate`: an MQTT.js client on the board's
 * broker, subscribed to what the board publishes.
 *
 * It gets a deadline for CONNECT and one for SUBSCRIBE: a broker that accepts the
 * connection but never answers must not keep the board from booting. Past the
 * deadline the client is closed and the promise rejects with a message naming the
 * step ("SUBSCRIBE wisp/#: no answer within 5.0 s"); the caller reports it and
 * runs the board without an observer.
 */
import mqtt from "mqtt";
import { canonicalBrokerUrl } from "../device/broker-url.ts";

export interface ObserverOptions {
  url: string;
  topic: string;
  /** Per step (connect, subscribe); default 5000 ms. */
  timeoutMs?: number;
  /** Installed before SUBSCRIBE, so a retained message is not missed. */
  onMessage: (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => void;
  /** Errors after the observer is up (a broken connection). */
  onError?: (e: Error) => void;
}

/** Rejects with `what` when `p` has not settled within `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(1)} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function connectObserver(o: ObserverOptions): Promise<mqtt.MqttClient> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const client = mqtt.connect(canonicalBrokerUrl(o.url), { clientId: `wisp-emulate-observer-${process.pid}`, reconnectPeriod: 0, connectTimeout: timeoutMs });
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
        client.once("close", () => reject(new Error("connection closed")));
      }),
      timeoutMs,
      "CONNECT",
    );
    client.on("error", (e) => o.onError?.(e));
    client.on("message", o.onMessage);
    await withDeadline(client.subscribeAsync(o.topic, { qos: 1 }), timeoutMs, `SUBSCRIBE ${o.topic}`);
    return client;
  } catch (e) {
    client.end(true);
    throw e;
  }
}
