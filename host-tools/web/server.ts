/**
 * `wisp web`: build the page (esbuild, from host-tools/web/page/, everything bundled:
 * the page needs no network beyond this machine and the broker) and serve it on
 * localhost.
 *
 * Served on the loopback addresses only, and announced as http://localhost:PORT/:
 * the serial library enables Web Serial over plain HTTP only when the page's host
 * name is literally "localhost" (browsers treat localhost as a secure origin).
 *
 * Routes: / (the page), /main.js, /style.css, /wisp-web.json (what the page needs to
 * know: broker URL, topic prefix, the app offered, whether settings come with it),
 * /app.js (the app to install, read on each request so a rebuild is picked up),
 * /modules.json (the Storage modules built beside it, which the page installs too) and
 * /settings.json (device settings from --config, only then).
 */
import { appModulesNextTo } from "../device/app-modules.ts";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE_DIR = path.join(here, "page");
export const DEFAULT_PORT = 8737;

export interface WebServerOptions {
  /** TCP port (0: a free one). */
  port?: number;
  /** ws:// or wss:// URL of the broker for the live view. */
  brokerUrl?: string | null;
  topicPrefix?: string;
  /** The app the page installs (default dist/espruino/app.js). */
  appFile?: string;
  /** Device settings to install with the app (wisp.json); none leaves the board's. */
  settings?: object;
  /** process.env.BOARD the app is built for. */
  expectBoard?: string;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Bundle the page's TypeScript into one browser script. */
export async function buildPage(): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [path.join(PAGE_DIR, "main.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "chrome100",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    define: { global: "globalThis" },
  });
  return r.outputFiles[0].text;
}

export async function startWebServer(opts: WebServerOptions = {}): Promise<WebServer> {
  const script = await buildPage();
  const html = fs.readFileSync(path.join(PAGE_DIR, "index.html"), "utf8");
  const css = fs.readFileSync(path.join(PAGE_DIR, "style.css"), "utf8");
  const appFile = opts.appFile ?? path.join("dist", "espruino", "app.js");
  const pageConfig = () => {
    let app: { name: string; bytes: number } | null = null;
    try {
      app = { name: path.basename(appFile), bytes: fs.statSync(appFile).size };
    } catch {
      app = null;
    }
    return { brokerUrl: opts.brokerUrl ?? null, topicPrefix: opts.topicPrefix ?? "wisp", app, settings: opts.settings !== undefined, expectBoard: opts.expectBoard ?? null };
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return send(200, "text/html; charset=utf-8", html);
      case "/main.js":
        return send(200, "text/javascript; charset=utf-8", script);
      case "/style.css":
        return send(200, "text/css; charset=utf-8", css);
      case "/wisp-web.json":
        return send(200, "application/json", JSON.stringify(pageConfig()));
      case "/app.js":
        try {
          return send(200, "text/javascript; charset=utf-8", fs.readFileSync(appFile));
        } catch {
          return send(404, "text/plain", `no app at ${appFile}: run wisp build\n`);
        }
      case "/modules.json":
        // the Storage modules app.js requires on demand (wisp-ws for ws:// brokers), installed beside it
        return send(200, "application/json", JSON.stringify(appModulesNextTo(appFile)));
      case "/settings.json":
        if (opts.settings === undefined) return send(404, "text/plain", "no settings: start wisp web with --config\n");
        return send(200, "application/json", JSON.stringify(opts.settings));
      default:
        return send(404, "text/plain", "not found\n");
    }
  };
  const servers: http.Server[] = [];
  const sockets = new Set<net.Socket>();
  const listen = (host: string, port: number) =>
    new Promise<http.Server>((resolve, reject) => {
      const s = http.createServer(handler);
      s.on("connection", (c) => {
        sockets.add(c);
        c.on("close", () => sockets.delete(c));
      });
      s.once("error", reject);
      s.listen(port, host, () => resolve(s));
    });
  const first = await listen("127.0.0.1", opts.port ?? DEFAULT_PORT);
  servers.push(first);
  const port = (first.address() as net.AddressInfo).port;
  // "localhost" may resolve to ::1 first: answer there too when the machine has IPv6
  try {
    servers.push(await listen("::1", port));
  } catch {
    /* no IPv6 loopback */
  }
  return {
    url: `http://localhost:${port}/`,
    port,
    close: async () => {
      for (const c of sockets) c.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

const USAGE = `usage: wisp web [--port N] [--broker ws://HOST:PORT/mqtt] [--prefix wisp] [--app FILE] [--config flash.config.json]

Serves the wisp web page on http://localhost:N/ (default ${DEFAULT_PORT}): a live view of the boards
over MQTT-over-WebSocket, and a device panel over Web Serial (Chrome, Edge or Chromium) that
installs the app with the same verified protocol as wisp flash.
  --broker URL   the broker's WebSocket URL for the live view (\`npm start\`'s embedded broker
                 serves one; set WISP_BROKER_WS_PORT to fix its port)
  --app FILE     the app to install (default dist/espruino/app.js; run wisp build)
  --config FILE  also install the device settings (wisp.json) made from this flash config
`;

export async function runWeb(argv: string[], io: { out?: (l: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const opts: WebServerOptions = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    try {
      switch (k) {
        case "--port": {
          const n = Number(val());
          if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error("--port must be an integer 0..65535");
          opts.port = n;
          break;
        }
        case "--broker": {
          const u = val();
          if (!/^wss?:\/\//.test(u)) throw new Error(`--broker must be a ws:// or wss:// URL (a browser cannot open mqtt:// TCP connections), got ${u}`);
          opts.brokerUrl = u;
          break;
        }
        case "--prefix":
          opts.topicPrefix = val();
          break;
        case "--app":
          opts.appFile = val();
          break;
        case "--config":
          configFile = val();
          break;
        case "-h":
        case "--help":
          out(USAGE);
          return 0;
        default:
          throw new Error(`unknown option ${k}`);
      }
    } catch (e) {
      out(`wisp web: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
  }
  if (configFile) {
    // the same settings `wisp flash` writes (host-tools/device/)
    const { loadConfig } = await import("../device/config.ts");
    const { loadBoard } = await import("../device/board.ts");
    const { configuredBrokerUrl, deviceSettings } = await import("../device/settings.ts");
    try {
      const cfg = loadConfig(configFile);
      const board = loadBoard(cfg.board);
      const brokerUrl = configuredBrokerUrl(cfg);
      if (!brokerUrl) throw new Error('device.broker.url is "": name the broker the board should reach (or set WISP_BROKER_URL)');
      const settings = deviceSettings({ board, config: cfg, brokerUrl });
      opts.settings = settings;
      opts.expectBoard = board.espruino.board;
      opts.topicPrefix ??= settings.topicPrefix;
    } catch (e) {
      out(`wisp web: ${configFile}: ${(e as Error).message}`);
      return 2;
    }
  }
  const server = await startWebServer(opts);
  out(`wisp web: open ${server.url} in Chrome, Edge or Chromium (Ctrl-C stops)`);
  if (!opts.brokerUrl) out("  live view: no --broker given; type the broker's ws:// URL on the page");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}
