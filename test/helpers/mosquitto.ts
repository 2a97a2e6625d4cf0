/**
 * A mosquitto broker of the test's own, on a free loopback port, that the test
 * can stop and restart (same port). Uses the Debian `mosquitto` binary; when it is
 * missing, `mosquittoSkip()` returns a skip reason (or throws under
 * WISP_REQUIRE_SYSTEM_DEPS=1, see system-deps.ts).
 *
 *   test("x", { skip: mosquittoSkip() }, async () => {
 *     const broker = await startMosquitto();
 *     try { ... broker.url ... } finally { await broker.stop(); }
 *   });
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { hasCommand, skipUnless } from "./system-deps.ts";

export const MOSQUITTO = fs.existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

export function mosquittoSkip(): false | string {
  if (fs.existsSync("/usr/sbin/mosquitto") || hasCommand("mosquitto")) return false;
  return skipUnless("mosquitto");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Mosquitto {
  host: string;
  port: number;
  url: string;
  /** Everything mosquitto wrote (it logs to stderr with -v). */
  log(): string;
  /** Stop (SIGTERM: mosquitto saves its persistence file) and remove the temp dir. */
  stop(): Promise<void>;
  /** Stop (if running) and start again on the same port and config (also after stop()). */
  restart(): Promise<void>;
  /** Stop the process with `signal` (SIGKILL: no persistence save); the dir stays for restart(). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The temp dir (config; use it for persistence_location / acl_file). */
  dir: string;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * `extraConfig` may be a function of the temp dir (for paths such as
 * `persistence_location` or `acl_file`); `files` are written into that dir first.
 * A later `persistence true` line overrides the default `persistence false`.
 */
export async function startMosquitto(
  opts: { port?: number; extraConfig?: string | ((dir: string) => string); files?: Record<string, string>; verbose?: boolean } = {},
): Promise<Mosquitto> {
  const port = opts.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-mosquitto-"));
  const conf = path.join(dir, "mosquitto.conf");
  const writeConfig = () => {
    fs.mkdirSync(dir, { recursive: true });
    // Started as root, mosquitto drops to the `mosquitto` user: it must read the ACL
    // file and write the persistence file in here (mkdtemp makes it 0700).
    fs.chmodSync(dir, 0o777);
    for (const [name, text] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(dir, name), text, { mode: 0o644 });
    const extra = typeof opts.extraConfig === "function" ? opts.extraConfig(dir + "/") : (opts.extraConfig ?? "");
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", extra].join("\n") + "\n");
  };
  writeConfig();
  let proc: ChildProcess | null = null;
  let out = "";
  const start = async () => {
    if (!fs.existsSync(conf)) writeConfig(); // restart() after stop() removed the dir
    proc = spawn(MOSQUITTO, ["-c", conf, ...(opts.verbose ? ["-v"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<never>((_, reject) =>
      proc!.once("exit", (code) => reject(new Error(`mosquitto exited (${code}) before listening: ${out}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 5000), exited]);
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 3000);
      p.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      p.kill(signal);
    });
  };
  await start();
  return {
    host: "127.0.0.1",
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    log: () => out,
    kill: (signal: NodeJS.Signals = "SIGKILL") => stop(signal),
    stop: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await start();
    },
  };
}
