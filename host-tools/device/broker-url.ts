/**
 * Broker URLs as users write them (config `device.broker.url`, `--broker`,
 * WISP_BROKER_URL): mqtt://, mqtts://, ws://, wss://, and the aliases tcp:// and
 * tls://. Port defaults per scheme; ws/wss carry a path ("/mqtt" when none).
 */
export interface BrokerUrl {
  scheme: "mqtt" | "mqtts" | "ws" | "wss";
  host: string;
  port: number;
  /** Only for ws/wss: the WebSocket path. */
  path?: string;
}

const DEFAULT_PORT = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 } as const;

export function parseBrokerUrl(url: string): BrokerUrl {
  const m = /^(mqtts?|wss?|tcp|tls):\/\/([^:/\s]+)(?::(\d{1,5}))?(\/\S*)?$/.exec(url);
  if (!m) throw new Error(`bad broker URL "${url}" (expected mqtt://host:port, mqtts://, ws://host:port/path or wss://)`);
  const scheme = (m[1] === "tcp" ? "mqtt" : m[1] === "tls" ? "mqtts" : m[1]) as BrokerUrl["scheme"];
  const r: BrokerUrl = { scheme, host: m[2], port: m[3] ? Number(m[3]) : DEFAULT_PORT[scheme] };
  if (scheme === "ws" || scheme === "wss") r.path = m[4] && m[4] !== "/" ? m[4] : "/mqtt";
  return r;
}

/** The URL with the aliases spelled as MQTT.js wants them. */
export function canonicalBrokerUrl(url: string): string {
  return url.replace(/^tcp:/, "mqtt:").replace(/^tls:/, "mqtts:");
}

/** True for the schemes that run MQTT inside TLS. */
export function isTls(b: BrokerUrl): boolean {
  return b.scheme === "mqtts" || b.scheme === "wss";
}
