/**
 * The built telemetry app (dist/espruino/app.js) on an emulated board, against a
 * broker, with MQTT.js observing what it publishes: the setup the app suites share.
 *
 * Without `broker` an aedes is started (and closed with the app); a broker passed
 * in (mosquitto, aedes behind a WebSocket listener) belongs to the caller. The
 * observer subscribes to `observe` (default "wisp/#") at QoS 1 before the board
 * boots, so it sees the first message. `close()` (idempotent, also run by
 * `cleanupAll`) stops the board, the observer and an own broker and removes the
 * board's flash directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { startBoard, type EmulatedBoard, type StartBoardOptions } from "../../host-tools/emulator/emulator.ts";
import { startAedes } from "./aedes.ts";
import { artifactPath } from "./artifacts.ts";
import { onCleanup } from "./cleanup.ts";

export interface Seen {
  topic: string;
  /** Byte string (latin1), as the board sent it. */
  payload: string;
  qos: number;
  retain: boolean;
}

export interface BootAppOptions {
  /** Board id; default esp32-lipo-sensor. */
  board?: string;
  /** wisp.json fields over the board defaults; brokerPort defaults to the broker's port. */
  settings?: Record<string, unknown>;
  /** A running broker the observer connects to (MQTT over TCP); default: a new aedes. */
  broker?: { port: number };
  /** Observer filter; default "wisp/#". */
  observe?: string;
  seed?: number;
  clock?: StartBoardOptions["clock"];
  battery?: StartBoardOptions["battery"];
  wifi?: StartBoardOptions["wifi"];
  /** Default: the built dist/espruino/app.js. */
  app?: string;
}

export interface BootedApp {
  board: EmulatedBoard;
  /** The broker's TCP port (the observer's). */
  port: number;
  /** Everything the observer received, in order. */
  seen: Seen[];
  /** Messages the observer received on topics ending in `/<suffix>`. */
  on(suffix: string): Seen[];
  /** Everything the board printed. */
  consoleText(): string;
  observer: mqtt.MqttClient;
  close(): Promise<void>;
}

export async function bootApp(o: BootAppOptions = {}): Promise<BootedApp> {
  const own = o.broker ? null : await startAedes();
  const port = o.broker?.port ?? own!.port;
  const observer = await mqtt.connectAsync({ host: "127.0.0.1", port, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: `obs-${process.pid}-${port}-${Math.random().toString(16).slice(2, 8)}` });
  const seen: Seen[] = [];
  observer.on("message", (topic, payload, pk) => seen.push({ topic, payload: payload.toString("latin1"), qos: pk.qos, retain: pk.retain }));
  await observer.subscribeAsync(o.observe ?? "wisp/#", { qos: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-app-"));
  let text = "";
  const board = startBoard({
    board: o.board ?? "esp32-lipo-sensor",
    app: o.app ?? artifactPath("espruino", "app"),
    storageDir: dir,
    clock: o.clock ?? "virtual",
    seed: o.seed ?? 1,
    settings: { brokerPort: port, ...o.settings },
    battery: o.battery,
    wifi: o.wifi ?? {},
    console: (t) => (text += t),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    board.stop();
    await observer.endAsync(true).catch(() => {});
    await own?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  onCleanup(close);
  return { board, port, seen, on: (suffix) => seen.filter((m) => m.topic.endsWith(`/${suffix}`)), consoleText: () => text, observer, close };
}
