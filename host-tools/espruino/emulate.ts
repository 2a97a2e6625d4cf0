/**
 * `wisp emulate --engine espruino`: the built app on the real Espruino interpreter
 * (board.ts), with the same broker options as the V8 engine (embedded aedes, or
 * --broker URL), an MQTT.js observer printing what the board publishes, and the
 * same `--json` event shapes where the interpreter can provide them.
 *
 * What this engine cannot report, and says so in its summary: energy (there is no
 * radio to meter), time per radio state, bytes on the link, virtual time (the
 * interpreter runs in real time, deep sleeps are waited out).
 */
import mqtt from "mqtt";
import path from "node:path";
import { startAedes, type EmbeddedBroker } from "../emulator/broker.ts";
import { loadBoard } from "../emulator/board.ts";
import { topicMatches } from "../emulator/sniffer.ts";
import { EspruinoBoard, type EspruinoBoardEvent } from "./board.ts";

export interface EspruinoEmulateArgs {
  board: string;
  app: string;
  /** Broker URL given by --broker or the config; "" starts an embedded aedes. */
  broker: string;
  durationMs: number;
  json: boolean;
  storageDir?: string;
  battery?: number;
  statusEveryMs?: number;
  /** The device config (flash.config.json). */
  cfg: Record<string, any>;
}

export const ESPRUINO_ENGINE_CANNOT_REPORT = [
  "energy (mAh, mAh/day, days on battery): no radio to meter",
  "time per radio state",
  "bytes sent and received on the link",
  "virtual time: the interpreter runs in real time and deep sleeps are waited out",
];

function clock(ms: number): string {
  const s = ms / 1000;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${(s % 60).toFixed(3).padStart(6, "0")}`;
}

export async function runEspruinoEmulate(a: EspruinoEmulateArgs, out: (line: string) => void, stop?: Promise<void>): Promise<number> {
  // The settings mapping is the V8 engine's (cli-emulate.ts), not a second copy.
  const { parseBrokerUrl, settingsFromConfig } = await import("../emulator/cli-emulate.ts");
  const t0 = Date.now();
  const rel = () => Date.now() - t0;
  const stamp = () => `[${clock(rel())}]`;
  const emit = (obj: Record<string, unknown>, text: string) => out(a.json ? JSON.stringify(obj) : text);

  let embedded: EmbeddedBroker | null = null;
  let brokerUrl = a.broker;
  if (!brokerUrl) {
    embedded = await startAedes();
    brokerUrl = embedded.url;
  }
  let broker: ReturnType<typeof parseBrokerUrl>;
  let config;
  try {
    broker = parseBrokerUrl(brokerUrl);
    config = loadBoard(a.board);
  } catch (e) {
    await embedded?.close();
    out(`wisp emulate: ${(e as Error).message}`);
    return 2;
  }
  const settings = settingsFromConfig(a.cfg, broker);
  const observerTopic = embedded ? "#" : `${settings.topicPrefix ?? "wisp"}/#`;
  let messages = 0;
  let observer: mqtt.MqttClient | null = null;
  try {
    observer = await mqtt.connectAsync(brokerUrl.replace(/^tcp:/, "mqtt:").replace(/^tls:/, "mqtts:"), { clientId: `wisp-emulate-observer-${process.pid}`, reconnectPeriod: 0, connectTimeout: 5000 });
    observer.on("message", (topic, payload, packet) => {
      if (!topicMatches(observerTopic, topic)) return;
      messages++;
      const text = payload.toString("utf8");
      emit(
        { type: "publish", t: rel(), topic, payload: text, qos: packet.qos, retain: packet.retain, bytes: payload.length },
        `${stamp()} publish ${topic} ${text.length > 200 ? text.slice(0, 200) + "..." : text} (qos ${packet.qos}${packet.retain ? ", retained" : ""}, ${payload.length} B)`,
      );
    });
    await observer.subscribeAsync(observerTopic, { qos: 1 });
  } catch (e) {
    emit({ type: "warning", t: rel(), message: `observer could not connect: ${(e as Error).message}` }, `${stamp()} warning: observer could not connect to ${brokerUrl}: ${(e as Error).message}`);
    observer = null;
  }

  emit(
    { type: "start", engine: "espruino", board: config.id, app: a.app, broker: brokerUrl, embedded: !!embedded, clock: "real", durationMs: Number.isFinite(a.durationMs) ? a.durationMs : null },
    `wisp emulate (engine espruino: the real interpreter): ${config.name}\n  app ${a.app}\n  broker ${brokerUrl}${embedded ? " (embedded aedes)" : ""}\n  clock real${Number.isFinite(a.durationMs) ? `, duration ${clock(a.durationMs)}` : ", until Ctrl-C"}`,
  );

  const describe = (e: EspruinoBoardEvent): string => {
    switch (e.type) {
      case "boot": return `boot #${e.boot} (${e.cause}) running ${e.file ?? "nothing"} on the interpreter (pid ${e.pid})`;
      case "console": return `console: ${e.text}`;
      case "wifi": return `wifi ${e.state}${e.state === "connected" ? ` (rssi ${e.rssi} dBm)` : e.reason ? ` (${e.reason})` : ""}`;
      case "sleep": return `deep sleep for ${(e.ms / 1000).toFixed(1)} s${e.wakes ? "" : " (longer than the host waits: the run ends asleep)"}`;
      case "wake": return "wake (timer)";
      case "error": return `error: ${e.message}`;
      case "memory": return `memory ${e.phase}: ${e.usage} blocks used (app ${e.app}, shim and interpreter ${e.shim}) of ${e.total}`;
      case "stop": return "stopped";
    }
  };

  const memory: { afterBoot: number | null; afterConnect: number | null } = { afterBoot: null, afterConnect: null };
  let sleeps = 0;
  let errors = 0;
  const board = new EspruinoBoard({
    board: config,
    app: a.app,
    settings,
    dir: a.storageDir ? path.resolve(a.storageDir, `${config.id}.espruino`) : undefined,
    batteryPercent: a.battery,
  });
  const probe = (phase: string) =>
    board.memory(phase).then(
      (m) => {
        if (phase === "after boot" && memory.afterBoot === null) memory.afterBoot = m.app;
        if (phase === "after connect" && memory.afterConnect === null) memory.afterConnect = m.app;
      },
      () => { /* asleep or stopped meanwhile */ },
    );
  board.on("event", (e: EspruinoBoardEvent) => {
    if (e.type === "stop") return;
    if (e.type === "sleep") sleeps++;
    if (e.type === "error") errors++;
    emit({ ...e, t: e.t - (t0 - board.startedAt) }, `${stamp()} ${describe(e)}`);
    if (e.type === "boot") setTimeout(() => void probe("after boot"), 0);
    if (e.type === "console" && /^mqtt connected/.test(e.text)) void probe("after connect");
  });

  let interrupted = false;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const onSigint = () => {
    interrupted = true;
    finish();
  };
  if (!stop) process.once("SIGINT", onSigint);
  else void stop.then(onSigint);
  const timer = Number.isFinite(a.durationMs) ? setTimeout(finish, a.durationMs) : null;
  const status = a.statusEveryMs ? setInterval(() => void probe("status"), a.statusEveryMs) : null;

  let code = 0;
  try {
    await board.powerOn();
    await done;
  } catch (e) {
    emit({ type: "error", t: rel(), message: (e as Error).message }, `${stamp()} error: ${(e as Error).message}`);
    code = 1;
  }
  if (timer) clearTimeout(timer);
  if (status) clearInterval(status);
  process.off("SIGINT", onSigint);
  const uncaught = board.uncaught();
  await board.stop();
  await new Promise((r) => setTimeout(r, 50)); // let the last publishes reach the observer
  await observer?.endAsync().catch(() => {});
  await embedded?.close();

  const summary = {
    type: "summary",
    engine: "espruino",
    board: config.id,
    clock: "real",
    realTimeMs: Date.now() - t0,
    interrupted,
    boots: board.bootCount,
    sleeps,
    messages,
    errors,
    uncaught,
    memoryBlocks: memory,
    notReported: ESPRUINO_ENGINE_CANNOT_REPORT,
  };
  emit(
    summary,
    [
      `summary (${interrupted ? "interrupted" : "done"}, engine espruino):`,
      `  real time ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      `  boots ${board.bootCount}, deep sleeps ${sleeps}, messages seen ${messages}, errors ${errors}`,
      `  memory (real interpreter, app blocks): after boot ${memory.afterBoot ?? "n/a"}, after connect ${memory.afterConnect ?? "n/a"}`,
      ...uncaught.map((u) => `  uncaught: ${u}`),
      `  not reported by this engine: ${ESPRUINO_ENGINE_CANNOT_REPORT.join("; ")}`,
    ].join("\n"),
  );
  return code;
}
