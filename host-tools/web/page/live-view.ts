/**
 * The live view's data: boards' telemetry and status from the broker over
 * MQTT-over-WebSocket (MQTT.js's browser build, bundled: no network beyond the
 * broker). Topics follow the app (`firmware/app/telemetry.ts`):
 * `<prefix>/<clientId>/telemetry` carries {"seq","v","rssi","up","mem"};
 * `<prefix>/<clientId>/status` is "online" (birth), "sleeping", or "offline", the
 * retained last will the broker publishes when the board vanishes.
 */
import mqtt from "mqtt";

export interface Telemetry {
  seq: number;
  v: number;
  rssi: number;
  up: number;
  mem: number;
}

export interface DeviceState {
  id: string;
  status: string | null;
  /** The status came from the broker's retained copy (sent on subscribe), not live. */
  statusRetained: boolean;
  statusAt: number | null;
  /** When an "offline" arrived live: the broker published the board's last will. */
  willSeenAt: number | null;
  readings: { t: number; data: Telemetry; intervalS: number | null }[];
}

export type LiveEvent =
  | { kind: "connection"; state: "connecting" | "connected" | "closed" | "error"; detail?: string }
  | { kind: "device"; device: DeviceState };

export class LiveView {
  private client: mqtt.MqttClient | null = null;
  readonly devices = new Map<string, DeviceState>();

  constructor(private readonly onEvent: (e: LiveEvent) => void) {}

  connect(url: string, prefix: string): void {
    this.close();
    this.onEvent({ kind: "connection", state: "connecting", detail: url });
    const client = mqtt.connect(url, {
      clientId: "wisp-web-" + Math.random().toString(16).slice(2, 10),
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on("connect", () => {
      this.onEvent({ kind: "connection", state: "connected", detail: url });
      client.subscribe([`${prefix}/+/status`, `${prefix}/+/telemetry`], { qos: 1 });
    });
    client.on("close", () => this.onEvent({ kind: "connection", state: "closed", detail: url }));
    client.on("error", (e) => this.onEvent({ kind: "connection", state: "error", detail: `${url}: ${e.message}` }));
    client.on("message", (topic, payload, packet) => this.message(topic, payload, !!packet.retain));
  }

  private device(id: string): DeviceState {
    let d = this.devices.get(id);
    if (!d) {
      d = { id, status: null, statusRetained: false, statusAt: null, willSeenAt: null, readings: [] };
      this.devices.set(id, d);
    }
    return d;
  }

  private message(topic: string, payload: Uint8Array, retained: boolean): void {
    const parts = topic.split("/");
    if (parts.length < 3) return;
    const kind = parts[parts.length - 1];
    const id = parts[parts.length - 2];
    const text = new TextDecoder().decode(payload);
    const d = this.device(id);
    const now = Date.now();
    if (kind === "status") {
      d.status = text;
      d.statusRetained = retained;
      d.statusAt = now;
      if (text === "offline" && !retained) d.willSeenAt = now;
    } else if (kind === "telemetry") {
      let data: Telemetry;
      try {
        data = JSON.parse(text) as Telemetry;
      } catch {
        return;
      }
      const prev = d.readings[d.readings.length - 1];
      d.readings.push({ t: now, data, intervalS: prev ? (now - prev.t) / 1000 : null });
      if (d.readings.length > 1000) d.readings.shift();
    } else return;
    this.onEvent({ kind: "device", device: d });
  }

  close(): void {
    this.client?.end(true);
    this.client = null;
  }
}
