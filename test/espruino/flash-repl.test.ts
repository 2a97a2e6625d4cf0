/**
 * `wisp flash` into the real interpreter's REPL over a pseudo-terminal: socat puts
 * the interpreter's console on a pty (EXEC:...,pty,raw,echo=0), the flasher opens
 * the other end with serialport, uploads, verifies, writes wisp.json and load()s;
 * the interpreter then runs the new app, which publishes to aedes.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { loadBoard } from "../../host-tools/emulator/board.ts";
import { Interpreter, findEspruino } from "../../host-tools/espruino/interpreter.ts";
import { HOST_STATE_FILE, SHIM_SOURCE, type ShimHostState } from "../../host-tools/espruino/shims.ts";
import { runFlash } from "../../host-tools/flasher/cli-flash.ts";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { assertNoUncaught, observe, parserGapTodo, until } from "./engine-harness.ts";

const skip = skipUnlessEspruino() || skipUnless("socat");
const APP = path.join(REPO_ROOT, "dist", "espruino", "app.js");
const OLD_APP = 'var oldApp=1;print("old app running");';

/** The interpreter on a pty: socat's pid, the interpreter's own pid (killed by pid), its console. */
async function interpreterOnPty(dir: string): Promise<{ link: string; socat: ChildProcess; childPid: () => number | null; stop(): Promise<void> }> {
  const link = path.join(dir, "ttyESPRUINO");
  const socat = spawn("socat", ["-d", "-d", `PTY,link=${link},raw,echo=0`, `EXEC:${findEspruino()},pty,raw,echo=0`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  socat.stderr!.on("data", (d) => (log += d));
  await until(() => fs.existsSync(link) && /starting data transfer loop|childpid|forked off child process/.test(log), 10000, "socat pty", () => log);
  const childPid = (): number | null => {
    try {
      const kids = fs.readFileSync(`/proc/${socat.pid}/task/${socat.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      return kids[0] ?? null;
    } catch {
      return null;
    }
  };
  await until(() => childPid() !== null, 5000, "the interpreter under socat");
  const pid = childPid()!;
  return {
    link,
    socat,
    childPid,
    async stop() {
      // the interpreter outlives its driver: kill it by its own pid, then socat
      try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
      if (socat.exitCode === null && socat.signalCode === null) {
        const gone = new Promise((r) => socat.once("exit", r));
        socat.kill("SIGKILL");
        await gone;
      }
    },
  };
}

test("wisp flash into the real interpreter over a pty: verified upload, wisp.json, load(), the new app publishes", { skip, todo: parserGapTodo(APP), timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-flash-espruino-"));
  const broker = await startAedes();
  const obs = await observe(broker.url, "wisp/flashed-rt/#");
  let pty: Awaited<ReturnType<typeof interpreterOnPty>> | null = null;
  try {
    // the board before: the shim (ESP32 modules) and an old app in Storage
    const prep = await Interpreter.start({ dir });
    await prep.writeFileFromHost(".boot0", SHIM_SOURCE);
    await prep.writeFileFromHost(".bootcde", OLD_APP);
    await prep.stop();
    const board = loadBoard("esp32-lipo-sensor");
    const host: ShimHostState = { wake: 0, wifi: { ap: true, ssid: "", password: null, connectMs: 200, rssi: -60, ip: "192.168.4.20" }, adc: { pin: board.adc!.pin, reading: 0.6 } };
    fs.writeFileSync(path.join(dir, HOST_STATE_FILE), JSON.stringify(host));
    const cfgFile = path.join(dir, "flash.config.json");
    fs.writeFileSync(cfgFile, JSON.stringify({
      board: "esp32-lipo-sensor",
      device: { clientId: "flashed-rt", topicPrefix: "wisp", wifi: { ssid: "bench-ap" }, broker: { url: broker.url, username: null, password: null } },
      telemetry: { intervalSeconds: 2, qos: 1, mode: "stay" },
      mqtt: { keepAliveSeconds: 30, cleanSession: true },
    }));

    pty = await interpreterOnPty(dir);
    const lines: string[] = [];
    const code = await runFlash(["--port", pty.link, "--config", cfgFile, "--app", APP, "--json"], { out: (l) => lines.push(l), env: { WISP_WIFI_PASSWORD: "pw" } });
    assert.equal(code, 0, lines.join("\n"));
    const events = lines.map((l) => JSON.parse(l));
    for (const k of ["board", "start", "verified", "settings", "boot", "done"]) assert.ok(events.some((e) => e.event === k), `event ${k} in ${lines.join("\n")}`);
    assert.match(events.find((e) => e.event === "board").version, /^2v29/);

    // read the console from here on (the flasher has closed the port)
    const consoleOut: string[] = [];
    const rs = fs.createReadStream(pty.link, { encoding: "latin1" });
    rs.on("data", (d) => consoleOut.push(String(d)));
    rs.on("error", () => {});
    await until(() => obs.seen.filter((m) => m.topic === "wisp/flashed-rt/telemetry").length >= 2, 30000, "telemetry from the flashed app",
      () => consoleOut.join(""));
    assert.ok(obs.seen.some((m) => m.topic === "wisp/flashed-rt/status" && m.payload === "online"));
    rs.destroy();

    // Storage afterwards, read by a fresh interpreter in the same directory
    await pty.stop();
    pty = null;
    const after = await Interpreter.start({ dir });
    try {
      const crcBoot = await after.eval<number>('E.CRC32(require("Storage").read(".bootcde"))');
      const { crc32 } = await import("node:zlib");
      assert.equal(crcBoot >>> 0, crc32(Buffer.from(fs.readFileSync(APP, "utf8"), "utf8")) >>> 0, ".bootcde is the flashed app, byte for byte");
      const settings = await after.eval<{ clientId: string; brokerPort: number }>('require("Storage").readJSON("wisp.json")');
      assert.equal(settings.clientId, "flashed-rt");
      assert.equal(settings.brokerPort, broker.port);
    } finally {
      await after.stop();
    }
    const text = consoleOut.join("").split(/\r?\n/);
    assertNoUncaught(t, text.filter((l) => l.includes("Uncaught")));
  } finally {
    await pty?.stop();
    await obs.close();
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
