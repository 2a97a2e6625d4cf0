/**
 * The emulator's second engine: the built Espruino app on the real interpreter.
 *
 * One `EspruinoBoard` is one board: a working directory whose `espruino.flash` is
 * its Storage, and the interpreter process of the current program run. Power-on
 * puts the shim (`.boot0`, see shims.ts), the app (`.bootcde`) and the device
 * settings (`wisp.json`: the given settings over the board's defaults, as the V8
 * engine does; the CLI passes host-tools/device deviceSettings) into Storage, written
 * by the interpreter itself, then restarts the interpreter so that it boots from
 * Storage as a board does (src/jsflash.c jsfLoadBootCodeFromFlash: `.boot0..3`,
 * then `.bootcde`; function bodies stay in flash).
 *
 * Deep sleep: the shim prints `<wisp:sleep US>` and spins; the host kills the
 * process at once (SIGKILL: whatever the program queued on its sockets never
 * leaves, as on the port, where esp_deep_sleep_start does not return), waits the
 * sleep in real time, and starts the interpreter again in the same directory with
 * wake cause 4 (timer).
 *
 * Events have the V8 engine's shapes (emulator.ts BoardEvent) where they exist:
 * boot, console, wifi, sleep, wake, error, stop; plus `memory` (process.memory()
 * of the real interpreter, in blocks).
 */
import { EventEmitter } from "node:events";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Interpreter, findEspruino, listenForControlLink, ESPRUINO_MISSING } from "./interpreter.ts";
import { HOST_STATE_FILE, MARKER_PREFIX, SHIM_SOURCE, type ShimHostState } from "./shims.ts";
import { loadBoard, type BoardConfig } from "../emulator/board.ts";
import { defaultSettings, type DeviceSettingsJson } from "../emulator/emulator.ts";
import { BatteryModel, adcReading } from "../emulator/battery.ts";
import { appModulesNextTo } from "../device/app-modules.ts";

export type EspruinoBootCause = "power-on" | "timer";

export type EspruinoBoardEvent =
  | { type: "boot"; t: number; cause: EspruinoBootCause; boot: number; file: string | null; pid: number }
  | { type: "console"; t: number; text: string }
  | { type: "wifi"; t: number; state: string; rssi: number; reason?: string }
  | { type: "sleep"; t: number; ms: number; us: number; wakes: boolean }
  | { type: "wake"; t: number }
  | { type: "error"; t: number; message: string }
  | { type: "memory"; t: number; phase: string; usage: number; shim: number; app: number; total: number }
  | { type: "stop"; t: number };

export interface EspruinoBoardOptions {
  /** Board id (boards/<id>.json), a path to one, or a loaded config. Default "esp32-devkitc". */
  board?: string | BoardConfig;
  /** Path of the Espruino artifact written as `.bootcde` (default dist/espruino/app.js unless appCode or noApp). */
  app?: string;
  appCode?: string;
  /** Write no `.bootcde` (a test that drives the REPL itself). */
  noApp?: boolean;
  /** Written to Storage `wisp.json`, merged over the V8 engine's defaults for the board. Null: no wisp.json. */
  settings?: Partial<DeviceSettingsJson> | null;
  /** More Storage files to write before the first boot (name -> latin1 bytes). */
  files?: Record<string, string>;
  /** Storage directory (kept). Default: a fresh temp directory, removed by stop(). */
  dir?: string;
  /** Keep what Storage already holds in `dir` (write nothing before booting). */
  keepStorage?: boolean;
  /** What the shim's radio sees (defaults: AP up, any SSID and password, the board's wifiConnectMs, -60 dBm). */
  wifi?: Partial<ShimHostState["wifi"]>;
  /** Battery at this percent (boards with an ADC divider); default the board JSON's initial percent. */
  batteryPercent?: number;
  /** Each event as it happens. */
  onEvent?: (e: EspruinoBoardEvent) => void;
  /** Interpreter binary (default ESPRUINO_BIN, else ../shared/espruino/espruino). */
  bin?: string;
  /** Longest deep sleep the host will wait out (ms); longer ones end the run as if asleep. Default 1 day. */
  maxSleepMs?: number;
}

export class EspruinoBoard extends EventEmitter {
  readonly config: BoardConfig;
  readonly dir: string;
  readonly events: EspruinoBoardEvent[] = [];
  readonly startedAt = Date.now();
  bootCount = 0;
  stopped = false;
  sleeping = false;
  /** The interpreter of the current program run (null while asleep). */
  it: Interpreter | null = null;
  /** Blocks the shim holds after `.boot0` in the current run (not the app's: native on a board). */
  shimBlocks = 0;
  private ownDir: boolean;
  private host: ShimHostState;
  private bin: string;
  private pastOutput: string[] = [];
  private wakeTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private maxSleepMs: number;

  constructor(private readonly opts: EspruinoBoardOptions) {
    super();
    const bin = opts.bin ?? findEspruino();
    if (!bin) throw new Error(ESPRUINO_MISSING);
    this.bin = bin;
    this.config = typeof opts.board === "object" ? opts.board : loadBoard(opts.board ?? "esp32-devkitc");
    this.ownDir = opts.dir === undefined;
    this.dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "wisp-espruino-board-"));
    fs.mkdirSync(this.dir, { recursive: true });
    this.maxSleepMs = opts.maxSleepMs ?? 86_400_000;
    if (opts.onEvent) this.on("event", opts.onEvent);
    const cfg = this.config;
    let adc: ShimHostState["adc"] = null;
    if (cfg.adc && cfg.battery) {
      const bat = new BatteryModel(cfg.battery, () => 0);
      if (opts.batteryPercent !== undefined) bat.setPercent(opts.batteryPercent);
      adc = { pin: cfg.adc.pin, reading: adcReading(cfg.adc, bat.volts()) };
    }
    this.host = {
      wake: 0,
      wifi: { ap: true, ssid: "", password: null, connectMs: cfg.radio.wifiConnectMs, rssi: -60, ip: "192.168.4.20", ...opts.wifi },
      adc,
    };
  }

  /** Milliseconds since the board was created (event timestamps). */
  now(): number {
    return Date.now() - this.startedAt;
  }

  private log(e: EspruinoBoardEvent): void {
    this.events.push(e);
    this.emit("event", e);
  }

  /** Write Storage (shim, app, settings, files), then power on. */
  async powerOn(): Promise<void> {
    if (!this.opts.keepStorage) {
      const appFile = this.opts.app ?? path.join("dist", "espruino", "app.js");
      const code = this.opts.noApp ? null : this.opts.appCode ?? fs.readFileSync(appFile, "utf8");
      const flash = path.join(this.dir, "espruino.flash");
      const bytes = code === null ? null : Buffer.from(code, "utf8").toString("latin1");
      // the Storage modules the app requires on demand, as wisp flash installs them
      const modules = this.opts.noApp || this.opts.appCode !== undefined ? {} : appModulesNextTo(appFile);
      try {
        fs.copyFileSync(await flashImage(this.bin, bytes, modules), flash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        fs.copyFileSync(await flashImage(this.bin, bytes, modules), flash); // pruned by another process between the two steps
      }
      const files: Record<string, string> = {};
      if (this.opts.settings !== null) {
        const full = { ...defaultSettings(this.config), ...(this.opts.settings ?? {}) };
        files["wisp.json"] = Buffer.from(JSON.stringify(full), "utf8").toString("latin1");
      }
      Object.assign(files, this.opts.files ?? {});
      if (Object.keys(files).length > 0) {
        const it = await this.startProcess(false);
        try {
          for (const [name, data] of Object.entries(files)) await it.writeFileFromHost(name, Buffer.from(data, "utf8").toString("latin1"));
        } finally {
          await it.stop();
        }
      }
    }
    await this.boot("power-on");
  }

  /**
   * Start the interpreter in the board's directory; `counted` runs are program runs
   * (boots). The shim opens the control link to a port given in its host state, at boot
   * and before the app, so evaluations (memory readings) never cross the racy console
   * and the link's blocks count in the shim's (`<wisp:boot0 N>`), not the app's.
   */
  private async startProcess(counted: boolean): Promise<Interpreter> {
    const link = await listenForControlLink();
    fs.writeFileSync(path.join(this.dir, HOST_STATE_FILE), JSON.stringify({ ...this.host, ctl: link.port }));
    let it: Interpreter;
    try {
      it = await Interpreter.start({
        bin: this.bin,
        dir: this.dir,
        control: false, // the shim opens the link instead (above)
        waitForPrompt: !counted,
        onLine: counted ? (line) => this.onLine(line) : undefined,
      });
    } catch (e) {
      link.close();
      throw e;
    }
    this.linked = link.accepted.then((sock) => it.attachControl(sock));
    void it.exited.then(link.close);
    return it;
  }

  /** Resolves once the running interpreter's shim has opened the control link. */
  private linked: Promise<void> = Promise.resolve();

  private async boot(cause: EspruinoBootCause): Promise<void> {
    if (this.stopped) return;
    this.sleeping = false;
    this.host.wake = cause === "timer" ? 4 : 0;
    this.bootCount++;
    const it = await this.startProcess(true);
    this.it = it;
    this.log({ type: "boot", t: this.now(), cause, boot: this.bootCount, file: this.opts.noApp ? null : ".bootcde", pid: it.pid });
    void it.exited.then(() => {
      if (this.it === it && !this.stopped && !this.sleeping) {
        this.log({ type: "error", t: this.now(), message: `the interpreter exited (pid ${it.pid})` });
      }
    });
    try {
      await it.waitFor(/^>/m, 20000, "the prompt after boot");
    } catch (e) {
      if (this.it === it) throw e; // else the boot code went to deep sleep (or the host cut it) before the prompt
    }
  }

  private onLine(line: string): void {
    const text = line.replace(/^\x1b\[J/, "");
    if (text.startsWith(MARKER_PREFIX)) {
      this.onMarker(text.slice(MARKER_PREFIX.length).replace(/>\s*$/, ""));
      return;
    }
    if (text === "" || /^<<\d+[>!]/.test(text)) return; // blank, or an eval() answer to the host
    this.log({ type: "console", t: this.now(), text });
    if (text.includes("Uncaught")) this.log({ type: "error", t: this.now(), message: text.trim() });
  }

  private onMarker(m: string): void {
    const [kind, ...rest] = m.split(" ");
    if (kind === "boot0") {
      this.shimBlocks = Number(rest[0]) || 0;
    } else if (kind === "wifi") {
      const state = rest[0];
      const e: EspruinoBoardEvent = { type: "wifi", t: this.now(), state, rssi: state === "connected" ? Number(rest[1]) : 0 };
      if (state !== "connected") e.reason = rest.slice(1).join(" ");
      this.log(e);
    } else if (kind === "sleep") {
      this.deepSleep(Number(rest[0]));
    }
  }

  /** ESP32.deepSleep: kill at once (nothing queued leaves), wait, wake by timer. */
  private deepSleep(us32: number): void {
    const it = this.it;
    if (!it) return;
    it.proc.kill("SIGKILL");
    this.pastOutput.push(it.output);
    this.it = null;
    this.sleeping = true;
    // targets/esp32/jswrap_esp32.c jswrap_ESP32_deepSleep(int us): esp_sleep_enable_timer_wakeup((uint64_t)us)
    const us = us32 >= 0 ? us32 : Number(BigInt.asUintN(64, BigInt(us32)));
    const ms = us / 1000;
    const wakes = ms <= this.maxSleepMs;
    this.log({ type: "sleep", t: this.now(), ms, us: us32, wakes });
    void it.stop();
    if (!wakes) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      if (this.stopped) return;
      this.log({ type: "wake", t: this.now() });
      this.running = this.boot("timer").catch((e) => this.log({ type: "error", t: this.now(), message: (e as Error).message }));
    }, ms);
  }

  /**
   * Evaluate `expr` on the running board at global scope and return its value: over the
   * control link the shim opened (the console is racy on the Linux build: docs/espruino.md),
   * or the console's CRC-checked eval if the link has not come within 5 s.
   */
  async eval<T = unknown>(expr: string, timeoutMs?: number): Promise<T> {
    const it = this.it;
    if (!it) throw new Error("the board is not running (deep sleep or stopped)");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.linked, new Promise<void>((r) => (timer = setTimeout(r, 5000)))]).finally(() => clearTimeout(timer));
    return it.eval<T>(expr, timeoutMs);
  }

  /** process.memory() of the running interpreter, as an event (app = usage - shim). */
  async memory(phase: string): Promise<{ usage: number; shim: number; app: number; total: number }> {
    const m = await this.eval<{ usage: number; total: number }>("process.memory()");
    const r = { usage: m.usage, shim: this.shimBlocks, app: m.usage - this.shimBlocks, total: m.total };
    this.log({ type: "memory", t: this.now(), phase, ...r });
    return r;
  }

  /** Wait until an event satisfies `pred` (looking at past events from index `from`). */
  waitForEvent(pred: (e: EspruinoBoardEvent) => boolean, timeoutMs: number, what = "event", from = 0): Promise<EspruinoBoardEvent> {
    const seen = this.events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off("event", on);
        reject(new Error(`espruino board: no ${what} within ${timeoutMs} ms; console:\n${this.consoleTail()}`));
      }, timeoutMs);
      const on = (e: EspruinoBoardEvent) => {
        if (!pred(e)) return;
        clearTimeout(t);
        this.off("event", on);
        resolve(e);
      };
      this.on("event", on);
    });
  }

  /** Wait for a console line matching `re`. */
  async waitForConsole(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const e = await this.waitForEvent((x) => x.type === "console" && re.test(x.text), timeoutMs, `console line ${re}`, from);
    return (e as { text: string }).text;
  }

  consoleLines(): string[] {
    return this.events.filter((e) => e.type === "console").map((e) => (e as { text: string }).text);
  }

  consoleTail(n = 25): string {
    return this.consoleLines().slice(-n).join("\n");
  }

  /** Every `Uncaught ...` the interpreter printed, over all program runs. */
  uncaught(): string[] {
    const out: string[] = [];
    for (const o of [...this.pastOutput, this.it?.output ?? ""]) {
      const ls = o.split("\n");
      ls.forEach((l, i) => {
        if (l.includes("Uncaught")) out.push(`${l.replace(/^>+/, "").trim()} ${(ls[i + 1] ?? "").trim()}`);
      });
    }
    return out;
  }

  /** Cut the power: kill the interpreter (SIGKILL), stop waking; remove the temp directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.running.catch(() => {});
    const it = this.it;
    this.it = null;
    if (it) {
      this.pastOutput.push(it.output);
      await it.stop();
    }
    this.log({ type: "stop", t: this.now() });
    if (this.ownDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kill the current run without a goodbye (a cut link / power loss); the board stays stopped until powerOn/restart. */
  async kill(): Promise<void> {
    const it = this.it;
    if (!it) return;
    this.it = null;
    this.sleeping = true; // not an error: the host did it
    this.pastOutput.push(it.output);
    await it.stop();
  }

  /** Power-cycle with the same Storage (a reset button, a battery swap). */
  async restart(): Promise<void> {
    await this.kill();
    await this.boot("power-on");
  }
}

/**
 * A Storage image holding the shim as `.boot0`, `code` as `.bootcde` and the app's
 * Storage modules (host-tools/device/app-modules.ts), written
 * by the interpreter itself once per (interpreter, shim, app) and then copied:
 * every test board starts from it.
 */
async function flashImage(bin: string, code: string | null, modules: Record<string, string>): Promise<string> {
  const hash = crypto.createHash("sha256").update(bin).update("\0").update(SHIM_SOURCE).update("\0").update(code ?? "\u0000none");
  for (const [name, data] of Object.entries(modules)) hash.update("\0").update(name).update("\0").update(data);
  const key = hash.digest("hex").slice(0, 24);
  const cacheDir = path.join(os.tmpdir(), "wisp-espruino-images");
  const file = path.join(cacheDir, `${key}.flash`);
  if (fs.existsSync(file)) {
    try {
      const now = new Date();
      fs.utimesSync(file, now, now); // recently used: not pruned
      return file;
    } catch {
      /* pruned meanwhile: build it again */
    }
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const it = await Interpreter.start({ bin }); // evaluates over the control socket (its RAM is never measured)
  try {
    await it.writeFileFromHost(".boot0", SHIM_SOURCE);
    if (code !== null) await it.writeFileFromHost(".bootcde", code);
    for (const [name, data] of Object.entries(modules)) await it.writeFileFromHost(name, Buffer.from(data, "utf8").toString("latin1"));
    await it.eval("1");
    const tmp = `${file}.${process.pid}.${Date.now()}`;
    fs.copyFileSync(path.join(it.dir, "espruino.flash"), tmp);
    fs.renameSync(tmp, file);
  } finally {
    await it.stop();
  }
  pruneImages(cacheDir, 24);
  return file;
}

/** Keep the `keep` most recently written images (each is 256 KiB; every build makes one). */
function pruneImages(dir: string, keep: number): void {
  try {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".flash")).map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }));
    files.sort((a, b) => b.t - a.t);
    for (const { f } of files.slice(keep)) fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    /* another process pruned at the same time */
  }
}

/** Create a board, write its Storage and power it on. */
export async function startEspruinoBoard(opts: EspruinoBoardOptions = {}): Promise<EspruinoBoard> {
  const b = new EspruinoBoard(opts);
  try {
    await b.powerOn();
  } catch (e) {
    await b.stop();
    throw e;
  }
  return b;
}
