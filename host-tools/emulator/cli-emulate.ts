/**
 * `wisp emulate`: boot the built app on an emulated board, connected to a broker.
 *
 * Without --broker (and without WISP_BROKER_URL or device.broker.url in the config) an embedded
 * aedes starts on a free loopback port. An MQTT.js client subscribes to what the
 * board publishes and prints it. Output is a readable live log and a summary, or
 * with --json the same events as one JSON object per line.
 *
 * The board's wisp.json comes from host-tools/device/settings.ts, the same mapping
 * `wisp flash` uses. An observer that cannot connect and subscribe within a few
 * seconds is reported and dropped; the board boots regardless.
 */
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { ReportRecorder, renderReport } from "./report.ts";
import { startAedes, type EmbeddedBroker } from "./broker.ts";
import { DEFAULT_BOARDS_DIR, listBoards, loadBoard, type BoardConfig } from "../device/board.ts";
import { parseBrokerUrl, type BrokerUrl } from "../device/broker-url.ts";
import { ConfigError, loadConfig, type FlashConfig } from "../device/config.ts";
import { configuredBrokerUrl, deviceSettings, type DeviceSettingsJson } from "../device/settings.ts";
import { espruinoTlsWarning } from "../device/tls-warning.ts";
import { EmulatedBoard, type BoardEvent } from "./emulator.ts";
import { connectObserver } from "./observer.ts";
import { MqttSniffer, topicMatches } from "./sniffer.ts";
import { attachSerialRepl, openPtyPair, type PtyPair } from "./pty.ts";

export const EMULATE_USAGE = `usage: wisp emulate [options]

  --engine E           v8 (default): the V8 sandbox with virtual time and energy model;
                       espruino: the real Espruino interpreter (ESPRUINO_BIN), real time, blocks from process.memory()
  --board B            board id from boards/ or a board JSON path (default: config "board", else esp32-devkitc)
  --config FILE        device config (default: flash.config.json if present)
  --app FILE           Espruino artifact to flash as .bootcde (default: dist/espruino/app.js)
  --broker URL         mqtt://host:port of a broker (default: WISP_BROKER_URL, else config device.broker.url, else embedded aedes)
  --virtual-time       virtual clock: idle time jumps ahead (a day runs in seconds)
  --duration D         stop after D of board time: 90s, 10m, 24h, 7d (default: until Ctrl-C; 24h with --virtual-time)
  --serial             expose the board console on a pseudo-terminal (socat), print its path
  --json               one JSON object per line instead of the readable log
  --storage-dir DIR    where the board's flash lives (default .wisp/boards)
  --erase              start with empty flash
  --seed N             seed for RSSI noise, drop-outs, Math.random (default 1)
  --status-every D     status line (battery, energy) every D of board time (default 1h virtual, 60s real)
  --battery P          start with the battery at P percent (default: the board JSON's initialPercent)
  --report FILE        write a self-contained HTML energy report (charts, policy decisions) at the end
  -h, --help           this text

Device settings (Storage wisp.json) come from the config and the environment, as for
wisp flash: WISP_WIFI_SSID, WISP_WIFI_PASSWORD, WISP_BROKER_URL, WISP_MQTT_USERNAME,
WISP_MQTT_PASSWORD.
`;

export interface EmulateIo {
  /** One output line (no trailing newline). Default: console.log. */
  out?: (line: string) => void;
  /** Resolves to stop the run early (default: SIGINT). */
  stop?: Promise<void>;
  /** WISP_* settings variables (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long the observer may take to connect and subscribe before it is dropped (default 5 s). */
  observerTimeoutMs?: number;
}

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}" (use e.g. 500ms, 90s, 10m, 24h, 7d)`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "ms"];
  return Number(m[1]) * mult;
}

interface Args {
  board?: string;
  config?: string;
  app?: string;
  broker?: string;
  virtual: boolean;
  duration?: number;
  serial: boolean;
  json: boolean;
  storageDir?: string;
  erase: boolean;
  seed: number;
  statusEvery?: number;
  report?: string;
  battery?: number;
  help: boolean;
  engine: "v8" | "espruino";
}

function parseArgs(argv: string[]): Args {
  const a: Args = { virtual: false, serial: false, json: false, erase: false, seed: 1, help: false, engine: "v8" };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case "--engine": {
        const e = val();
        if (e !== "v8" && e !== "espruino") throw new Error(`--engine must be v8 or espruino, not "${e}"`);
        a.engine = e;
        break;
      }
      case "--board": a.board = val(); break;
      case "--config": a.config = val(); break;
      case "--app": a.app = val(); break;
      case "--broker": a.broker = val(); break;
      case "--virtual-time": a.virtual = true; break;
      case "--duration": a.duration = parseDuration(val()); break;
      case "--serial": a.serial = true; break;
      case "--json": a.json = true; break;
      case "--storage-dir": a.storageDir = val(); break;
      case "--erase": a.erase = true; break;
      case "--seed": a.seed = Number(val()); if (!Number.isInteger(a.seed)) throw new Error("--seed needs an integer"); break;
      case "--status-every": a.statusEvery = parseDuration(val()); break;
      case "--report": a.report = val(); break;
      case "--battery": a.battery = Number(val()); if (!(a.battery >= 0 && a.battery <= 100)) throw new Error("--battery needs a percent 0..100"); break;
      case "-h": case "--help": a.help = true; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

export { parseBrokerUrl };

/**
 * For callers written before host-tools/device/ (the real-interpreter engine):
 * `deviceSettings`, the one mapping, for a config and a parsed broker URL. The
 * board-specific defaults (`board`, and `clientId` when the config has none) are
 * left out, so the emulated board fills them in for itself.
 */
export function settingsFromConfig(cfg: Partial<FlashConfig> | null | undefined, broker: BrokerUrl, env: NodeJS.ProcessEnv = process.env): Partial<DeviceSettingsJson> {
  const url = `${broker.scheme}://${broker.host}:${broker.port}${broker.path ?? ""}`;
  const config = cfg && cfg.device ? (cfg as FlashConfig) : null;
  const { board: _board, ...s } = deviceSettings({ board: loadBoard(cfg?.board ?? "esp32-devkitc"), config, env, brokerUrl: url });
  if (!config?.device?.clientId) delete (s as Partial<DeviceSettingsJson>).clientId;
  return s;
}

type Json = Record<string, any>;

function clockText(ms: number): string {
  const neg = ms < 0;
  ms = Math.abs(ms);
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(3).padStart(6, "0");
  return `${neg ? "-" : ""}${d > 0 ? d + "d " : ""}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${s}`;
}

export async function runEmulate(argv: string[], io: EmulateIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    out(`wisp emulate: ${(e as Error).message}\n\n${EMULATE_USAGE}`);
    return 2;
  }
  if (args.help) {
    out(EMULATE_USAGE);
    return 0;
  }

  const env = io.env ?? process.env;
  let cfg: FlashConfig | null = null;
  const cfgFile = args.config ?? (fs.existsSync("flash.config.json") ? "flash.config.json" : undefined);
  if (cfgFile) {
    try {
      cfg = loadConfig(cfgFile);
    } catch (e) {
      out(`wisp emulate: ${e instanceof ConfigError ? e.message : `cannot read config ${cfgFile}: ${(e as Error).message}`}`);
      return 2;
    }
  }
  const boardId = args.board ?? cfg?.board ?? "esp32-devkitc";
  let boardConfig: BoardConfig;
  try {
    boardConfig = loadBoard(boardId);
  } catch (e) {
    const known = fs.existsSync(DEFAULT_BOARDS_DIR) && !/known boards/.test((e as Error).message) ? ` (boards: ${listBoards().join(", ")})` : "";
    out(`wisp emulate: ${(e as Error).message}${known}`);
    return 2;
  }
  const app = args.app ?? path.join("dist", "espruino", "app.js");
  if (!fs.existsSync(app)) {
    out(`wisp emulate: ${app} is missing: run \`npm run build\` first, or pass --app FILE`);
    return 2;
  }
  if (args.engine === "espruino") {
    const unsupported = [args.virtual && "--virtual-time", args.serial && "--serial", args.report && "--report", args.erase && "--erase"].filter(Boolean);
    if (unsupported.length > 0) {
      out(`wisp emulate: ${unsupported.join(", ")} not available with --engine espruino (it runs in real time from a fresh Storage image each run)`);
      return 2;
    }
    const { runEspruinoEmulate } = await import("../espruino/emulate.ts");
    return runEspruinoEmulate(
      { board: boardConfig, app, broker: args.broker ?? configuredBrokerUrl(cfg, env), durationMs: args.duration ?? Infinity, json: args.json, storageDir: args.storageDir, battery: args.battery, statusEveryMs: args.statusEvery, cfg, env },
      out,
      io.stop,
    );
  }
  const duration = args.duration ?? (args.virtual ? 86_400_000 : Infinity);
  const statusEvery = args.statusEvery ?? (args.virtual ? 3_600_000 : 60_000);

  let embedded: EmbeddedBroker | null = null;
  let brokerUrl = args.broker ?? configuredBrokerUrl(cfg, env);
  if (!brokerUrl) {
    embedded = await startAedes();
    brokerUrl = embedded.url;
  }
  let settings: DeviceSettingsJson;
  try {
    settings = deviceSettings({ board: boardConfig, config: cfg, env, brokerUrl });
  } catch (e) {
    await embedded?.close();
    out(`wisp emulate: ${(e as Error).message}`);
    return 2;
  }

  const t0Real = Date.now();
  const emit = (obj: Json, text: string) => out(args.json ? JSON.stringify(obj) : text);
  let board: EmulatedBoard;
  try {
    board = new EmulatedBoard({
      board: boardConfig,
      app,
      storageDir: args.storageDir,
      eraseStorage: args.erase,
      clock: args.virtual ? "virtual" : "real",
      seed: args.seed,
      settings,
      battery: args.battery !== undefined ? { percent: args.battery } : undefined,
      boot: false,
    });
  } catch (e) {
    await embedded?.close();
    out(`wisp emulate: ${(e as Error).message}`);
    return 2;
  }
  const start = board.clock.now();
  const rel = () => board.clock.now() - start;
  const stamp = () => `[${clockText(rel())}]`;

  // The independent observer: MQTT.js on the same broker.
  const observerTopic = embedded ? "#" : `${settings.topicPrefix}/#`;
  let messages = 0;
  let observer: mqtt.MqttClient | null = null;
  // Under the virtual clock, hold time still while a PUBLISH the board sent is on
  // its way to the observer (at most 2 s real, in case the broker drops it).
  const inTransit: (() => void)[] = [];
  const sniffers = new Map<string, MqttSniffer>();
  board.on("tx", (tx: { run: number; socket: number; bytes: string }) => {
    if (!observer) return;
    const key = `${tx.run}/${tx.socket}`;
    let sn = sniffers.get(key);
    if (!sn) sniffers.set(key, (sn = new MqttSniffer()));
    for (const p of sn.feed(tx.bytes)) {
      if (p.type !== 3 || p.topic === undefined || !topicMatches(observerTopic, p.topic)) continue;
      const release = board.clock.beginIo();
      const guard = setTimeout(() => {
        const i = inTransit.indexOf(done);
        if (i >= 0) inTransit.splice(i, 1);
        release();
      }, 2000);
      const done = () => {
        clearTimeout(guard);
        release();
      };
      inTransit.push(done);
    }
  });
  const tlsWarning = espruinoTlsWarning(boardConfig, settings);
  if (tlsWarning) emit({ type: "warning", t: 0, code: "TLS_UNVERIFIED", message: tlsWarning }, `warning: ${tlsWarning}`);
  try {
    observer = await connectObserver({
      url: brokerUrl,
      topic: observerTopic,
      timeoutMs: io.observerTimeoutMs,
      onMessage: (topic, payload, packet) => {
        messages++;
        inTransit.shift()?.();
        const text = payload.toString("utf8");
        emit(
          { type: "publish", t: rel(), topic, payload: text, qos: packet.qos, retain: packet.retain, bytes: payload.length },
          `${stamp()} publish ${topic} ${text.length > 200 ? text.slice(0, 200) + "..." : text} (qos ${packet.qos}${packet.retain ? ", retained" : ""}, ${payload.length} B)`,
        );
      },
      onError: (e) => emit({ type: "warning", t: rel(), code: "OBSERVER", message: `observer: ${e.message}` }, `${stamp()} warning: observer: ${e.message}`),
    });
  } catch (e) {
    // The board boots anyway; only the printing of its publishes is lost.
    const message = `observer dropped, publishes will not be shown: ${brokerUrl}: ${(e as Error).message}`;
    emit({ type: "warning", t: rel(), code: "OBSERVER", message }, `${stamp()} warning: ${message}`);
    observer = null;
  }
  emit(
    { type: "start", board: board.config.id, app, broker: brokerUrl, brokerWs: embedded?.wsUrl ?? null, embedded: !!embedded, clock: board.clock.kind, durationMs: Number.isFinite(duration) ? duration : null },
    `wisp emulate: ${board.config.name}\n  app ${app}\n  broker ${brokerUrl}${embedded ? " (embedded aedes)" : ""}${embedded?.wsUrl ? `\n  broker over WebSocket ${embedded.wsUrl} (for wisp web's live view)` : ""}\n  clock ${board.clock.kind}${Number.isFinite(duration) ? `, duration ${clockText(duration)}` : ", until Ctrl-C"}`,
  );

  const describe = (e: BoardEvent): string => {
    switch (e.type) {
      case "boot": return `boot #${e.boot} (${e.cause})${e.file ? ` running ${e.file}` : ", no .bootcde in Storage"}`;
      case "console": return `console: ${e.text}`;
      case "wifi": return `wifi ${e.state}${e.state === "connected" ? ` (rssi ${e.rssi} dBm)` : ""}${e.reason && e.state !== "connected" ? ` (${e.reason})` : ""}`;
      case "socket": return `socket #${e.id} ${e.event} ${e.tls ? "tls" : "tcp"} ${e.host}:${e.port}${e.message ? `: ${e.message}` : ""}`;
      case "sleep": return `deep sleep for ${(e.ms / 1000).toFixed(1)} s`;
      case "wake": return "wake (timer)";
      case "error": return `error: ${e.message}`;
      case "stop": return "stopped";
    }
  };
  let policyDecisions = 0;
  let lastPolicy = "";
  board.on("event", (e: BoardEvent) => {
    if (e.type === "stop") return;
    if (e.type === "console" && e.text.startsWith("policy ")) {
      policyDecisions++;
      lastPolicy = e.text.slice(7);
    }
    emit({ ...e, t: e.t - start }, `${stamp()} ${describe(e)}`);
  });

  const status = () => {
    const r = board.energy();
    const bat = board.battery;
    emit(
      { type: "status", t: rel(), batteryVolts: bat?.volts() ?? null, batteryPercent: bat?.percent() ?? null, mAh: r.mAh, avgMa: r.avgMa, memory: board.memory().usage },
      // No blocks here: the V8 engine's process.memory() walks globals and cannot see what
      // the app holds in closures (memory.ts); `--engine espruino` reports counted blocks.
      `${stamp()} status: ${bat ? `battery ${bat.volts().toFixed(3)} V ${bat.percent().toFixed(1)}% | ` : ""}energy ${r.mAh.toFixed(3)} mAh, avg ${r.avgMa.toFixed(2)} mA`,
    );
  };
  let statusTimer = 0;
  const armStatus = () => {
    statusTimer = board.clock.schedule(() => {
      status();
      armStatus();
    }, statusEvery);
  };
  armStatus();

  let pty: PtyPair | null = null;
  let serial: { close(): void } | null = null;
  if (args.serial) {
    try {
      pty = await openPtyPair();
      serial = attachSerialRepl(board, pty.boardPath);
      emit({ type: "serial", path: pty.hostPath }, `serial console on ${pty.hostPath} (e.g. screen ${pty.hostPath} 115200)`);
    } catch (e) {
      emit({ type: "warning", message: (e as Error).message }, `warning: --serial: ${(e as Error).message}`);
    }
  }

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    board.clock.stop();
  };
  if (!io.stop) process.once("SIGINT", onSigint);
  else void io.stop.then(onSigint);

  const recorder = args.report ? new ReportRecorder(board, Number.isFinite(duration) ? Math.max(1000, Math.round(duration / 720)) : 10_000) : null;
  board.boot("power-on");
  await board.clock.runUntil(start + duration);

  board.clock.cancel(statusTimer);
  for (const d of inTransit.splice(0)) d();
  const report = board.energy();
  const boots = board.bootCount;
  const reportData = recorder ? recorder.finish(`wisp energy report: ${board.config.id}, ${settings.mode ?? "auto"} mode`, messages) : null;
  board.stop();
  process.off("SIGINT", onSigint);
  serial?.close();
  await pty?.close();
  await new Promise((r) => setTimeout(r, 50)); // let the last publishes reach the observer
  await observer?.endAsync().catch(() => {});
  await embedded?.close();

  const days = report.daysOnBattery;
  const summary = {
    type: "summary",
    board: board.config.id,
    clock: board.clock.kind,
    boardTimeMs: report.elapsedMs,
    realTimeMs: Date.now() - t0Real,
    interrupted,
    boots,
    messages,
    bytesTx: report.bytesTx,
    bytesRx: report.bytesRx,
    mAh: report.mAh,
    avgMa: report.avgMa,
    mAhPerDay: report.mAhPerDay,
    batteryMah: board.config.battery?.capacityMah ?? null,
    daysOnBattery: days,
    timeMs: report.timeMs,
    policyDecisions,
    lastPolicy: lastPolicy || null,
  };
  const pct = (ms: number) => (report.elapsedMs > 0 ? ((ms / report.elapsedMs) * 100).toFixed(2) : "0.00");
  emit(
    summary,
    [
      `summary (${interrupted ? "interrupted" : "done"}):`,
      `  board time ${clockText(report.elapsedMs)} in ${((Date.now() - t0Real) / 1000).toFixed(1)} s real`,
      `  boots ${boots}, messages seen ${messages}, bytes sent ${report.bytesTx}, received ${report.bytesRx}`,
      `  energy ${report.mAh.toFixed(3)} mAh, average ${report.avgMa.toFixed(3)} mA, ${report.mAhPerDay.toFixed(2)} mAh/day`,
      `  battery ${board.config.battery ? `${board.config.battery.capacityMah} mAh: ${days === null ? "n/a" : days.toFixed(1) + " days"}` : "none on this board"}`,
      `  time per state: ${Object.entries(report.timeMs).map(([k, v]) => `${k} ${pct(v)}%`).join(", ")}`,
      ...(policyDecisions > 0 ? [`  power policy: ${policyDecisions} decisions, last: ${lastPolicy}`] : []),
    ].join("\n"),
  );
  if (args.report && reportData) {
    fs.writeFileSync(args.report, renderReport(reportData));
    emit({ type: "report", file: args.report, decisions: reportData.decisions.length }, `report written to ${args.report} (${reportData.decisions.length} policy decisions)`);
  }
  return 0;
}
