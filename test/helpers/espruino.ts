/**
 * Tests that need the real Espruino interpreter (host-tools/espruino/interpreter.ts).
 * Without it they skip with a reason naming ESPRUINO_BIN; under
 * WISP_REQUIRE_SYSTEM_DEPS=1 (CI) a missing interpreter is a failure instead.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ESPRUINO_MISSING, findEspruino, Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { until } from "../espruino/engine-harness.ts";

export function skipUnlessEspruino(): false | string {
  if (findEspruino()) return false;
  if (process.env.WISP_REQUIRE_SYSTEM_DEPS === "1") throw new Error(`WISP_REQUIRE_SYSTEM_DEPS=1 but ${ESPRUINO_MISSING}`);
  console.log(`# skip: ${ESPRUINO_MISSING}`);
  return ESPRUINO_MISSING;
}

/**
 * The interpreter's console on a pty. The Linux build reads stdin on a second thread
 * that races with its main loop and garbles console input now and then, often enough
 * under load to fail an upload of 48 KB (docs/espruino.md); its telnet console
 * (`--telnet`, TCP port 2323 on Linux) is read by the main loop itself. So socat
 * joins the pty (`PTY,link=...,raw,echo=0`) to the interpreter's telnet console: the
 * flasher still talks to a serial-like device, the interpreter still gets it on its
 * REPL, and nothing races. Port 2323 is fixed: the tests that use it take turns.
 */
/** Port 2323 is one per machine: runs of this test in other worktrees take turns (a pid lock file). */
const TELNET_LOCK = path.join(os.tmpdir(), "wisp-espruino-telnet-2323.lock");
async function lockTelnetPort(): Promise<() => void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.writeFileSync(TELNET_LOCK, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(TELNET_LOCK, { force: true });
    } catch {
      const holder = Number(fs.readFileSync(TELNET_LOCK, { encoding: "utf8", flag: "a+" }) || 0);
      let alive = false;
      try { alive = holder > 0 && (process.kill(holder, 0), true); } catch { alive = false; }
      if (!alive) fs.rmSync(TELNET_LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error(`port 2323 is held by pid ${holder} (${TELNET_LOCK})`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The real interpreter with its console on a pty (path `link`). `prepare` runs first,
 * on the interpreter's stdio, before the console moves to the pty.
 */
export async function interpreterOnPty(dir: string, prepare?: (it: Interpreter) => Promise<void>): Promise<{ link: string; it: Interpreter; stop(): Promise<void> }> {
  const link = path.join(dir, "ttyESPRUINO");
  fs.rmSync(link, { force: true });
  const unlock = await lockTelnetPort();
  const it = await Interpreter.start({ dir, args: ["--telnet"] }).catch((e) => { unlock(); throw e; });
  if (prepare) await prepare(it).catch(async (e) => { await it.stop(); unlock(); throw e; });
  const socat = spawn("socat", ["-d", "-d", `PTY,link=${link},raw,echo=0`, "TCP:127.0.0.1:2323,retry=50,interval=0.1"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  socat.stderr!.on("data", (d) => (log += d));
  await until(() => fs.existsSync(link) && /starting data transfer loop/.test(log), 10000, "socat pty joined to the telnet console", () => log).catch(async (e) => {
    socat.kill("SIGKILL");
    await it.stop();
    unlock();
    throw e;
  });
  let stopped = false;
  return {
    link,
    it,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (socat.exitCode === null && socat.signalCode === null) {
        const gone = new Promise((r) => socat.once("exit", r));
        socat.kill("SIGKILL");
        await gone;
      }
      await it.stop(); // by its own pid
      unlock();
    },
  };
}
