/**
 * Device settings: what the app on the board reads from the Storage file
 * `wisp.json` (firmware/hal/platform.ts DeviceSettings plus the app's extras).
 *
 * `deviceSettings` is the one mapping from flash.config.json and the WISP_*
 * environment variables to wisp.json. `wisp flash` writes its result to a real
 * board, `wisp emulate` to the emulated board's flash: the same variables count
 * for both. Precedence, highest first: the environment, the config, the defaults
 * below. The broker URL is resolved by the caller (`--broker`, WISP_BROKER_URL,
 * the config, or emulate's embedded broker) and passed in.
 */
import type { DeviceSettings } from "../../firmware/hal/platform.ts";
import type { BoardConfig } from "./board.ts";
import { parseBrokerUrl } from "./broker-url.ts";
import type { FlashConfig } from "./config.ts";

/** The firmware's DeviceSettings (its type, so the two cannot drift) plus the app's extras. */
export interface DeviceSettingsJson extends DeviceSettings {
  [extra: string]: unknown;
}

/** The environment variables `deviceSettings` reads (README and `wisp flash --help` list them). */
export const SETTINGS_ENV = ["WISP_WIFI_SSID", "WISP_WIFI_PASSWORD", "WISP_BROKER_URL", "WISP_MQTT_USERNAME", "WISP_MQTT_PASSWORD"] as const;

/** Settings for a board with no config at all (the emulator's defaults). */
export function defaultSettings(board: BoardConfig): DeviceSettingsJson {
  return {
    clientId: `wisp-${board.id}`,
    brokerHost: "127.0.0.1",
    brokerPort: 1883,
    brokerScheme: "mqtt",
    username: null,
    password: null,
    topicPrefix: "wisp",
    wifiSsid: "wisp-emulated-ap",
    wifiPassword: "",
    keepAliveSeconds: 60,
    intervalSeconds: 60,
    // battery.curve: the power policy's volts -> percent (firmware/power/policy.ts setCurve)
    board: { id: board.id, buffers: board.buffers, adc: board.adc, battery: board.battery ? { curve: board.battery.curve } : null },
  };
}

/** The broker URL from WISP_BROKER_URL, else the config; "" when neither names one. */
export function configuredBrokerUrl(config: FlashConfig | null | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return env.WISP_BROKER_URL || config?.device?.broker?.url || "";
}

export interface SettingsInput {
  board: BoardConfig;
  /** flash.config.json, already validated (loadConfig); null or absent: defaults only. */
  config?: FlashConfig | null;
  env?: NodeJS.ProcessEnv;
  /** The broker the board should reach (see configuredBrokerUrl). */
  brokerUrl: string;
}

/** The Storage `wisp.json` content. Throws on a bad broker URL. */
export function deviceSettings({ board, config, env = process.env, brokerUrl }: SettingsInput): DeviceSettingsJson {
  const b = parseBrokerUrl(brokerUrl);
  const dev = config?.device;
  const s: DeviceSettingsJson = {
    ...defaultSettings(board),
    brokerHost: b.host,
    brokerPort: b.port,
    brokerScheme: b.scheme,
  };
  if (b.path !== undefined) s.brokerPath = b.path;
  if (dev?.clientId) s.clientId = dev.clientId;
  if (dev?.topicPrefix) s.topicPrefix = dev.topicPrefix;
  s.wifiSsid = env.WISP_WIFI_SSID || dev?.wifi?.ssid || s.wifiSsid;
  s.wifiPassword = env.WISP_WIFI_PASSWORD ?? dev?.wifi?.password ?? "";
  s.username = env.WISP_MQTT_USERNAME ?? dev?.broker?.username ?? null;
  s.password = env.WISP_MQTT_PASSWORD ?? dev?.broker?.password ?? null;
  const t = config?.telemetry;
  if (t?.intervalSeconds !== undefined) s.intervalSeconds = t.intervalSeconds;
  if (t?.qos !== undefined) s.qos = t.qos;
  if (t?.mode !== undefined) s.mode = t.mode;
  if (t?.commands !== undefined) s.commands = t.commands;
  if (config?.power !== undefined) s.power = config.power;
  if (config?.mqtt?.keepAliveSeconds !== undefined) s.keepAliveSeconds = config.mqtt.keepAliveSeconds;
  if (config?.mqtt?.cleanSession !== undefined) s.cleanSession = config.mqtt.cleanSession;
  return s;
}
