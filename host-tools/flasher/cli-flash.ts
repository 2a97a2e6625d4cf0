/**
 * `wisp flash`, `wisp ports`, `wisp monitor`: the CLI faces of the flasher.
 * Output: a readable log with a progress bar on a TTY, or with --json one JSON
 * object per line. Device settings (passwords) are never printed.
 */
import fs from "node:fs";
import path from "node:path";
import { BoardConfigError, loadBoard } from "../device/board.ts";
import { ConfigError, loadConfig } from "../device/config.ts";
import { configuredBrokerUrl, deviceSettings } from "../device/settings.ts";
import { espruinoTlsWarning } from "../device/tls-warning.ts";
import { EspruinoRepl, linkFromSerialPort } from "./espruino.ts";
import { closePort, FlashError, listPorts, openPort } from "./serial.ts";
import { flashApp, type FlashEvent } from "./upload.ts";
import { appModulesNextTo } from "../device/app-modules.ts";

export const FLASH_USAGE = `usage: wisp flash [options]

  --port P          serial port (default: "port" in the config; see wisp ports)
  --config FILE     device config (default flash.config.json)
  --app FILE        Espruino artifact to upload (default: build, then dist/espruino/app.js)
  --baud N          baud rate (default: "baudRate" in the config, else 115200)
  --chunk N         bytes of app per Storage write (default 256)
  --no-settings     leave the board's wisp.json alone
  --no-reset        do not load() the new app after the upload
  --json            one JSON object per line (events: warning, board, start, progress, verified, settings, boot, done, error)
  -h, --help        this text

Settings come from the config; the environment overrides secrets and a few fields:
WISP_WIFI_PASSWORD, WISP_MQTT_PASSWORD, WISP_MQTT_USERNAME, WISP_WIFI_SSID, WISP_BROKER_URL.
`;

export interface CliIo {
  out?: (line: string) => void;
  /** Progress line rewrite (TTY only); default: process.stdout when it is a TTY. */
  tty?: { write(s: string): void } | null;
  env?: NodeJS.ProcessEnv;
  /** Test hook passed to the upload. */
  corruptChunk?: number;
}

interface FlashArgs {
  port?: string;
  config?: string;
  app?: string;
  baud?: number;
  chunk?: number;
  settings: boolean;
  reset: boolean;
  json: boolean;
  help: boolean;
}

function parseFlashArgs(argv: string[]): FlashArgs {
  const a: FlashArgs = { settings: true, reset: true, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new FlashError(`${k} needs a value`, "USAGE");
      return v;
    };
    const int = (name: string, v: string, min: number, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new FlashError(`${name} must be an integer ${min}..${max}, got "${v}"`, "USAGE");
      return n;
    };
    switch (k) {
      case "--port": a.port = val(); break;
      case "--config": a.config = val(); break;
      case "--app": a.app = val(); break;
      case "--baud": a.baud = int("--baud", val(), 300, 4_000_000); break;
      case "--chunk": a.chunk = int("--chunk", val(), 16, 4096); break;
      case "--no-settings": a.settings = false; break;
      case "--no-reset": a.reset = false; break;
      case "--json": a.json = true; break;
      case "-h": case "--help": a.help = true; break;
      default: throw new FlashError(`unknown option ${k}`, "USAGE");
    }
  }
  return a;
}

function fmtRate(bps: number): string {
  return bps >= 1024 ? `${(bps / 1024).toFixed(1)} kB/s` : `${bps} B/s`;
}

function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const n = Math.round(f * width);
  return `[${"#".repeat(n)}${"-".repeat(width - n)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

export async function runFlash(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const env = io.env ?? process.env;
  let json = argv.includes("--json");
  const fail = (code: string, message: string, exit = 1) => {
    if (json) out(JSON.stringify({ event: "error", code, message }));
    else out(`wisp flash: ${message}`);
    return exit;
  };
  let a: FlashArgs;
  try {
    a = parseFlashArgs(argv);
  } catch (e) {
    return fail("USAGE", `${(e as Error).message}\n\n${FLASH_USAGE}`, 2);
  }
  json = a.json;
  if (a.help) {
    out(FLASH_USAGE);
    return 0;
  }
  const tty = io.tty !== undefined ? io.tty : !json && process.stdout.isTTY ? process.stdout : null;
  let port: Awaited<ReturnType<typeof openPort>> | null = null;
  let repl: EspruinoRepl | null = null;
  try {
    const cfgFile = a.config ?? "flash.config.json";
    const cfg = loadConfig(cfgFile);
    let board: ReturnType<typeof loadBoard>;
    try {
      board = loadBoard(cfg.board);
    } catch (e) {
      throw new ConfigError(cfgFile, [`board: ${JSON.stringify(cfg.board)} — expected a board of boards/ (${(e as Error).message})`]);
    }
    let settings: ReturnType<typeof deviceSettings> | undefined;
    if (a.settings) {
      const brokerUrl = configuredBrokerUrl(cfg, env);
      if (!brokerUrl) throw new ConfigError(cfgFile, ['device.broker.url: "" — expected the broker the board should reach (or set WISP_BROKER_URL)']);
      try {
        settings = deviceSettings({ board, config: cfg, env, brokerUrl });
      } catch (e) {
        throw new ConfigError(cfgFile, [`${env.WISP_BROKER_URL ? "WISP_BROKER_URL" : "device.broker.url"}: ${(e as Error).message}`]);
      }
      const tlsWarning = espruinoTlsWarning(board, settings);
      if (tlsWarning) out(json ? JSON.stringify({ event: "warning", code: "TLS_UNVERIFIED", message: tlsWarning }) : `warning: ${tlsWarning}`);
    }
    let appFile = a.app;
    if (!appFile) {
      const { build } = await import("../compiler/build.ts");
      await build({ targets: ["espruino"], log: (l) => (json ? undefined : out(l)) });
      appFile = path.join("dist", "espruino", "app.js");
    }
    let app: string;
    try {
      app = fs.readFileSync(appFile, "utf8");
    } catch (e) {
      throw new FlashError(`cannot read the app ${appFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (run wisp build)`, "NO_APP");
    }
    const portPath = a.port ?? env.WISP_PORT ?? cfg.port ?? "";
    port = await openPort(portPath, a.baud ?? cfg.baudRate ?? 115200);
    repl = new EspruinoRepl(linkFromSerialPort(port));
    let lastDraw = 0;
    const onEvent = (e: FlashEvent) => {
      if (json) return out(JSON.stringify(e));
      switch (e.event) {
        case "board":
          out(`board: Espruino ${e.version} (${e.board}) on ${portPath}, ${e.free} B Storage free`);
          break;
        case "start":
          out(`uploading ${appFile} (${e.bytes} B, ${e.chunks} chunks)`);
          break;
        case "progress": {
          const line = `${bar(e.bytes, e.total)} ${e.bytes}/${e.total} B ${fmtRate(e.bytesPerSecond)}`;
          if (tty) {
            const now = Date.now();
            if (now - lastDraw > 80 || e.bytes === e.total) {
              tty.write(`\r${line}`);
              lastDraw = now;
            }
            if (e.bytes === e.total) tty.write("\n");
          } else if (e.bytes === e.total) out(line);
          break;
        }
        case "verified":
          out(`verified: CRC-32 0x${e.crc32.toString(16).padStart(8, "0")} on the board matches`);
          break;
        case "settings":
          out(`settings written to Storage ${e.file} (${e.bytes} B, not shown)`);
          break;
        case "boot":
          out(`${e.file} is the boot code now; load()`);
          break;
        case "done":
          out(`done: ${e.bytes} B in ${e.seconds.toFixed(1)} s (${fmtRate(e.bytesPerSecond)})`);
          break;
      }
    };
    await flashApp(repl, {
      app,
      modules: appModulesNextTo(appFile),
      settings,
      expectBoard: board.espruino.board,
      chunkSize: a.chunk,
      noReset: !a.reset,
      onEvent,
      corruptChunk: io.corruptChunk,
    });
    return 0;
  } catch (e) {
    if (e instanceof FlashError) return fail(e.code, e.message);
    if (e instanceof ConfigError) return fail("CONFIG", e.message);
    if (e instanceof BoardConfigError) return fail("CONFIG", e.message);
    return fail("INTERNAL", (e as Error).stack ?? String(e));
  } finally {
    repl?.close();
    if (port) await closePort(port);
  }
}

export async function runPorts(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const json = argv.includes("--json");
  const { ports, note } = await listPorts();
  if (json) {
    out(JSON.stringify({ ports, note }));
    return 0;
  }
  if (note) out(`note: ${note}`);
  if (ports.length === 0) out("no serial ports found (plug in the board; USB-serial chips show up as /dev/ttyUSB* or /dev/ttyACM*)");
  for (const p of ports) {
    const ids = p.vendorId ? ` ${p.vendorId}:${p.productId ?? "?"}` : "";
    out(`${p.path}${ids}${p.manufacturer ? ` ${p.manufacturer}` : ""}${p.serialNumber ? ` serial ${p.serialNumber}` : ""}`);
  }
  return 0;
}

export const MONITOR_USAGE = `usage: wisp monitor --port P [--baud N]

A serial console: what you type goes to the board, what it prints comes back.
Ctrl-] quits. Ctrl-C is passed to the board (interrupts Espruino).
`;

export async function runMonitor(
  argv: string[],
  io: CliIo & { stdin?: NodeJS.ReadableStream & { setRawMode?: (b: boolean) => unknown; isTTY?: boolean }; stdout?: { write(b: Buffer | string): unknown }; stop?: Promise<void> } = {},
): Promise<number> {
  const out = io.out ?? ((l: string) => console.error(l));
  let portPath = io.env?.WISP_PORT ?? process.env.WISP_PORT;
  let baud = 115200;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") portPath = argv[++i];
    else if (argv[i] === "--baud") baud = Number(argv[++i]);
    else if (argv[i] === "-h" || argv[i] === "--help") {
      out(MONITOR_USAGE);
      return 0;
    } else {
      out(`wisp monitor: unknown option ${argv[i]}\n\n${MONITOR_USAGE}`);
      return 2;
    }
  }
  let port;
  try {
    port = await openPort(portPath ?? "", baud);
  } catch (e) {
    out(`wisp monitor: ${(e as Error).message}`);
    return 1;
  }
  const stdin = io.stdin ?? process.stdin;
  const stdout = io.stdout ?? process.stdout;
  out(`wisp monitor: ${portPath} at ${baud} baud; Ctrl-] quits`);
  const raw = stdin.isTTY && typeof stdin.setRawMode === "function";
  if (raw) stdin.setRawMode!(true);
  let quit!: () => void;
  const done = new Promise<void>((r) => (quit = r));
  port.on("data", (d: Buffer) => stdout.write(d));
  port.on("close", () => quit());
  const onIn = (d: Buffer | string) => {
    const b = typeof d === "string" ? Buffer.from(d, "latin1") : d;
    const q = b.indexOf(0x1d);
    if (q >= 0) {
      if (q > 0) port.write(b.subarray(0, q));
      quit();
      return;
    }
    port.write(b);
  };
  stdin.on("data", onIn);
  stdin.on("end", () => quit());
  io.stop?.then(() => quit());
  await done;
  stdin.off("data", onIn);
  if (raw) stdin.setRawMode!(false);
  if (stdin === process.stdin) process.stdin.pause();
  await new Promise<void>((r) => port.drain(() => r()));
  await closePort(port);
  return 0;
}
