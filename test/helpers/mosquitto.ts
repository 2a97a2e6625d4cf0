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
  stop(): Promise<void>;
  /** Stop (if running) and start again on the same port. */
  restart(): Promise<void>;
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

export async function startMosquitto(opts: { port?: number; extraConfig?: string; verbose?: boolean } = {}): Promise<Mosquitto> {
  const port = opts.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-mosquitto-"));
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", opts.extraConfig ?? ""].join("\n") + "\n");
  let proc: ChildProcess | null = null;
  let out = "";
  const start = async () => {
    proc = spawn(MOSQUITTO, ["-c", conf, ...(opts.verbose ? ["-v"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<never>((_, reject) =>
      proc!.once("exit", (code) => reject(new Error(`mosquitto exited (${code}) before listening: ${out}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 5000), exited]);
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 3000);
      p.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      p.kill("SIGTERM");
    });
  };
  await start();
  return {
    host: "127.0.0.1",
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => out,
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
