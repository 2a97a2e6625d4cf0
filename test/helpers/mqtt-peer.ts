/** MQTT.js, the independent peer of the tests, connected to a loopback broker. */
import mqtt from "mqtt";
import { onCleanup } from "./cleanup.ts";

export async function peer(port: number, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, reconnectPeriod: 0, ...opts });
  onCleanup(() => c.endAsync(true));
  await new Promise<void>((res, rej) => {
    c.once("connect", () => res());
    c.once("error", rej);
  });
  return c;
}
