/**
 * An emulated board: wires the board JSON, clock, Wi-Fi, battery, energy meter,
 * Storage and sockets into an Espruino-shaped sandbox, and runs program runs.
 *
 * A *program run* is what happens between two boots: a fresh sandbox (RAM), its
 * timers and sockets. Boot runs the Storage file `.bootcde` if present (as
 * Espruino does); `startBoard({app})` first flashes the app there, the way the
 * flasher does on a real board. `ESP32.deepSleep(us)` ends the run (radio off,
 * timers and sockets gone), the clock advances by the sleep, and the board boots
 * again with `ESP32.getWakeupCause()` reporting 4 (timer); a power-on boot reports 0.
 *
 * Device settings reach the app through the Storage file `wisp.json`, written by
 * `startBoard` from `settings` (the fields of firmware/hal/platform.ts DeviceSettings
 * plus extras). See docs/emulator.md.
 */
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { createEspruinoSandbox, type EspruinoSandbox } from "./sandbox.ts";
import { loadBoard, type BoardConfig, type RadioState } from "./board.ts";
import { makeClock, type Clock, type ClockSpec } from "./clock.ts";
import { EnergyMeter, type EnergyReport } from "./energy.ts";
import { BatteryModel, adcReading } from "./battery.ts";
import { WifiModel, makeWifiModule, type WifiModelOptions } from "./wifi.ts";
import { FlashStorage, makeStorageModule } from "./storage.ts";
import { SocketSet, makeNetModule, type SocketEvent } from "./net.ts";
import { collectReachable, estimateBlocks, type MemoryFigures } from "./memory.ts";
import { atob, btoa, formatValue, typeName } from "./espruino-api.ts";
import { RunTimers } from "./timers.ts";
import { makeE } from "./espruino-e.ts";
import { makeProcess } from "./process-object.ts";
import { seededRng } from "./random.ts";
import { defaultSettings, type DeviceSettingsJson } from "../device/settings.ts";
import { appModulesNextTo } from "../device/app-modules.ts";

// The settings type and defaults live with the flasher's in host-tools/device/.
export { defaultSettings, type DeviceSettingsJson };

export type BootCause = "power-on" | "timer" | "reset" | "load";
/** ESP32.getWakeupCause() codes (ESP-IDF esp_sleep_wakeup_cause_t). */
export const WAKE_UNDEFINED = 0;
export const WAKE_TIMER = 4;
/** The ESP32 build's event and transmit buffer sizes (boards/ESP32.py io_buffer_size; build_platform_config.py). */
const ESP32_IO_BUFFER = 4096;
const ESP32_TX_BUFFER = 256;

export type BoardEvent =
  | { type: "boot"; t: number; cause: BootCause; boot: number; file: string | null }
  | { type: "console"; t: number; text: string }
  | { type: "wifi"; t: number; state: string; rssi: number; reason?: string }
  | ({ t: number } & SocketEvent)
  | { type: "sleep"; t: number; ms: number }
  | { type: "wake"; t: number }
  | { type: "error"; t: number; message: string }
  | { type: "stop"; t: number };

export interface StartBoardOptions {
  /** Board id (boards/<id>.json), a path to a board JSON, or a loaded config. Default "esp32-devkitc". */
  board?: string | BoardConfig;
  /** Path of an Espruino artifact to flash as `.bootcde` before the first boot. */
  app?: string;
  /** Or the code itself. */
  appCode?: string;
  /**
   * Storage modules the app requires on demand (name -> code), written with the app.
   * Default: those built next to `app` (host-tools/device/app-modules.ts), as wisp flash installs them.
   */
  modules?: Record<string, string>;
  /** Directory for `<instanceId>.storage.json` (default `.wisp/boards`). */
  storageDir?: string;
  /** Exact storage file; null keeps Storage in memory only. */
  storageFile?: string | null;
  /** Name of this emulated board instance (storage file name). Default: the board id. */
  instanceId?: string;
  /** Start with erased flash. */
  eraseStorage?: boolean;
  clock?: ClockSpec;
  seed?: number;
  /** Written to Storage `wisp.json` before boot (merged over defaults). */
  settings?: Partial<DeviceSettingsJson>;
  wifi?: WifiModelOptions;
  battery?: { percent?: number; volts?: number };
  /** Receives raw console output (what a serial port would carry). */
  console?: (text: string) => void;
  /** Boot right away (default true). */
  boot?: boolean;
}

class DeepSleepSignal {
  constructor(readonly us: number) {}
  toString() {
    return "deep sleep";
  }
}

interface Run {
  id: number;
  alive: boolean;
  sandbox: EspruinoSandbox;
  sockets: SocketSet;
  timers: RunTimers;
  /** Built-ins and platform objects, excluded from process.memory() (computed on first use). */
  baseline: Set<unknown> | null;
  baselineNames: Set<string>;
  realmGlobal: object;
  realmNames: string[];
  realmJSON: JSON;
  pending: null | { kind: "reset"; clearFlash: boolean } | { kind: "load"; file: string | null } | { kind: "reboot" };
  echo: boolean;
}

export class EmulatedBoard extends EventEmitter {
  readonly config: BoardConfig;
  readonly clock: Clock;
  readonly meter: EnergyMeter;
  readonly wifi: WifiModel;
  readonly battery: BatteryModel | null;
  readonly storage: FlashStorage;
  readonly seed: number;
  readonly startedAt: number;
  bootCount = 0;
  wakeCause = WAKE_UNDEFINED;
  sleeping = false;
  stopped = false;
  private run: Run | null = null;
  private runSeq = 0;
  private consoleSinks: ((text: string) => void)[] = [];
  private lineBuf = "";
  private rng: () => number;
  private wakeTimer = 0;
  /** Every event so far (tests read this). */
  readonly events: BoardEvent[] = [];

  constructor(opts: StartBoardOptions = {}) {
    super();
    this.config = typeof opts.board === "object" ? opts.board : loadBoard(opts.board ?? "esp32-devkitc");
    this.clock = makeClock(opts.clock);
    this.seed = opts.seed ?? 1;
    this.rng = seededRng(this.seed);
    this.startedAt = this.clock.now();
    this.meter = new EnergyMeter(this.config, () => this.clock.now());
    this.wifi = new WifiModel(this.clock, { seed: this.seed, ...opts.wifi }, this.config.radio.wifiConnectMs);
    this.battery = this.config.battery ? new BatteryModel(this.config.battery, () => this.meter.mAh()) : null;
    if (this.battery && opts.battery?.percent !== undefined) this.battery.setPercent(opts.battery.percent);
    if (this.battery && opts.battery?.volts !== undefined) this.battery.setVoltage(opts.battery.volts);
    const instance = opts.instanceId ?? this.config.id;
    const file =
      opts.storageFile === null ? null : (opts.storageFile ?? path.join(opts.storageDir ?? path.resolve(".wisp/boards"), `${instance}.storage.json`));
    if (file && opts.eraseStorage && fs.existsSync(file)) fs.rmSync(file);
    this.storage = new FlashStorage(file, this.config.storage.bytes);
    if (opts.console) this.consoleSinks.push(opts.console);
    this.wifi.onChange((c) => {
      if (this.sleeping) return;
      this.meter.setBase(this.baseState());
      this.log({ type: "wifi", t: this.clock.now(), state: c.state, rssi: this.wifi.rssi(), reason: c.reason });
      // sockets notice the lost link after the Wi-Fi 'disconnected' event, as on the board
      const run = this.run;
      if (c.state !== "connected" && run) this.clock.schedule(() => run.sockets.closeAll("Wi-Fi " + (c.reason ?? "down")), 0);
    });
    const code = opts.appCode ?? (opts.app ? readApp(opts.app) : undefined);
    if (code !== undefined) this.flash(code);
    for (const [name, data] of Object.entries(opts.modules ?? (opts.app ? appModulesNextTo(opts.app) : {}))) this.storage.write(name, Buffer.from(data, "utf8").toString("latin1"));
    if (opts.settings) this.writeSettings(opts.settings);
    if (opts.boot !== false) this.boot("power-on");
  }

  // ---------------------------------------------------------------- host API

  /** Add a console listener (raw text with \r\n). Returns an unsubscribe function. */
  onConsole(fn: (text: string) => void): () => void {
    this.consoleSinks.push(fn);
    return () => {
      this.consoleSinks = this.consoleSinks.filter((f) => f !== fn);
    };
  }

  /** Write code to `.bootcde`, as the flasher does. */
  flash(code: string): void {
    // (Storage refuses a zero-length file: no code is no .bootcde)
    if (code === "") this.storage.erase(".bootcde");
    else this.storage.write(".bootcde", Buffer.from(code, "utf8").toString("latin1"));
  }

  writeSettings(s: Partial<DeviceSettingsJson>): void {
    const full = { ...defaultSettings(this.config), ...s };
    this.storage.write("wisp.json", Buffer.from(JSON.stringify(full), "utf8").toString("latin1"));
  }

  /** Virtual or real: let the board run for `ms` of board time. */
  async runFor(ms: number): Promise<void> {
    await this.clock.runUntil(this.clock.now() + ms);
  }

  /** Run until `pred()` holds (checked on each event and every 10 ms real), or fail after `timeoutMs` board time. */
  async runUntil(pred: () => boolean, timeoutMs: number, what = "condition"): Promise<void> {
    const end = this.clock.now() + timeoutMs;
    while (!pred()) {
      if (this.clock.now() >= end || this.stopped) throw new Error(`${what} not reached within ${timeoutMs} ms of board time`);
      const step = this.clock.kind === "virtual" ? Math.min(1000, end - this.clock.now()) : Math.min(10, end - this.clock.now());
      await this.clock.runUntil(this.clock.now() + step);
    }
  }

  energy(): EnergyReport {
    return this.meter.report();
  }

  /** Evaluate a statement in the running program's sandbox (the REPL path). */
  evaluate(code: string, opts: { timeoutMs?: number } = {}): unknown {
    if (!this.run) throw new Error("board is not running (deep sleep or stopped)");
    const run = this.run;
    try {
      return vm.runInContext(code, run.sandbox.context, { filename: "REPL", timeout: opts.timeoutMs ?? 10_000 });
    } catch (e) {
      if (e instanceof DeepSleepSignal) return undefined;
      throw e;
    } finally {
      this.afterCall(run);
    }
  }

  /** Buffer constructions in the current run's sandbox. */
  bufferCount(): number {
    return this.run?.sandbox.bufferCount() ?? 0;
  }

  get running(): boolean {
    return !!this.run?.alive;
  }

  /** The current sandbox (tests poke at it). */
  get sandbox(): EspruinoSandbox | null {
    return this.run?.sandbox ?? null;
  }

  get echo(): boolean {
    return this.run?.echo ?? true;
  }
  set echo(on: boolean) {
    if (this.run) this.run.echo = on;
  }

  memory(): MemoryFigures {
    const total = this.config.ram.variables;
    let usage = 0;
    const run = this.run;
    if (run) {
      const ctx = run.sandbox.context as Record<string, unknown>;
      const roots: unknown[] = [];
      for (const k of Object.getOwnPropertyNames(ctx)) {
        if (run.baselineNames.has(k)) continue;
        const d = Object.getOwnPropertyDescriptor(ctx, k);
        usage += 1;
        if (d && "value" in d) roots.push(d.value);
      }
      if (!run.baseline) {
        // what the realm had at boot: built-ins (by their names then) and the platform globals
        const base = collectReachable({});
        const g = run.realmGlobal as Record<string, unknown>;
        const seeds: Record<string, unknown> = {};
        for (const k of run.realmNames) {
          const d = Object.getOwnPropertyDescriptor(g, k);
          if (d && "value" in d && !run.baselineNames.has(k)) seeds[k] = d.value;
          else if (d && "value" in d && ctxIsPlatform(ctx[k])) seeds[k] = d.value;
        }
        // (the global object itself now also holds the program's globals: do not walk into it)
        for (const o of collectReachable(seeds, [run.realmGlobal])) base.add(o);
        base.delete(seeds);
        run.baseline = base;
      }
      usage += estimateBlocks(roots, this.config.ram.blockBytes, run.baseline);
    }
    return { free: Math.max(0, total - usage), usage, total, history: 0, gc: 0, gctime: 0, blocksize: this.config.ram.blockBytes };
  }

  /**
   * process.memory() as jswrap_process_memory shapes it: gc and gctime only when it
   * collected (no argument or true), then blocksize, and the event (rx) and transmit
   * (tx) buffers, tx with the ESP32 port's heap figures.
   */
  memoryReport(gc = true): Record<string, unknown> {
    const m = this.memory();
    const out: Record<string, unknown> = { free: m.free, usage: m.usage, total: m.total, history: m.history };
    if (gc) {
      out.gc = m.gc;
      out.gctime = m.gctime;
    }
    out.blocksize = m.blocksize;
    out.rx = { used: 0, total: ESP32_IO_BUFFER };
    out.tx = { used: 0, total: ESP32_TX_BUFFER, free_heap: 100000, largest_block: 65536 };
    return out;
  }

  /** Stop everything: run, timers, sockets, clock. */
  stop(): void {
    if (this.stopped) return;
    this.endRun();
    this.meter.advance();
    this.stopped = true;
    if (this.wakeTimer) this.clock.cancel(this.wakeTimer);
    this.log({ type: "stop", t: this.clock.now() });
    this.clock.stop();
  }

  /** Boot (power-on, reset, load, or timer wake). Runs `.bootcde` (or `file`) from Storage. */
  boot(cause: BootCause, file: string | null = ".bootcde"): void {
    if (this.stopped) throw new Error("board is stopped");
    this.endRun();
    this.sleeping = false;
    this.bootCount++;
    this.wakeCause = cause === "timer" ? WAKE_TIMER : WAKE_UNDEFINED;
    if (cause === "power-on" || cause === "timer") this.wifi.powerOff();
    this.meter.setBase(this.baseState());
    const run = this.newRun();
    this.run = run;
    const code = file ? this.storage.get(file) : undefined;
    this.log({ type: "boot", t: this.clock.now(), cause, boot: this.bootCount, file: code !== undefined ? file : null });
    if (code !== undefined) {
      this.guard(run, () => run.sandbox.run(Buffer.from(code, "latin1").toString("utf8"), file ?? "code"));
    }
  }

  // ---------------------------------------------------------------- internals

  private log(e: BoardEvent): void {
    this.events.push(e);
    this.emit("event", e);
  }

  private baseState(): RadioState {
    if (this.sleeping) return "deepSleep";
    if (this.wifi.station === "connected") return "modemSleep";
    if (this.wifi.station === "connecting") return "wifiRx";
    return "lightSleep";
  }

  /** Console output from the program (print, console.log, errors). */
  consoleWrite(text: string): void {
    for (const fn of [...this.consoleSinks]) fn(text);
    this.lineBuf += text;
    let i: number;
    while ((i = this.lineBuf.indexOf("\n")) >= 0) {
      const line = this.lineBuf.slice(0, i).replace(/\r$/, "");
      this.lineBuf = this.lineBuf.slice(i + 1);
      this.log({ type: "console", t: this.clock.now(), text: line });
    }
  }

  private reportError(e: unknown): void {
    const msg = e instanceof Object || (typeof e === "object" && e && "message" in e) ? `${(e as Error).name ?? "Error"}: ${(e as Error).message}` : formatValue(e);
    this.consoleWrite(`Uncaught ${msg}\r\n`);
    this.log({ type: "error", t: this.clock.now(), message: msg });
  }

  /** Run firmware code: errors are printed as Espruino does; deep sleep / reset / load take effect after. */
  private guard(run: Run, fn: () => void): void {
    if (!run.alive) return;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof DeepSleepSignal) && run.alive) this.reportError(e);
    }
    this.afterCall(run);
  }

  private afterCall(run: Run): void {
    const p = run.pending;
    if (!p || run !== this.run) return;
    run.pending = null;
    if (p.kind === "reset") {
      if (p.clearFlash) this.storage.eraseAll();
      this.boot("reset", null);
    } else if (p.kind === "load") this.boot("load", p.file ?? ".bootcde");
    else this.boot("power-on");
  }

  private endRun(): void {
    const run = this.run;
    if (!run) return;
    run.alive = false;
    run.timers.cancelAll();
    run.sockets.closeAll("program run ended");
    this.run = null;
  }

  /**
   * ESP32.deepSleep(us): the port takes a C int (targets/esp32/jswrap_esp32.c,
   * jswrap_ESP32_deepSleep), so the count wraps to 32 bits; a negative int becomes a
   * 64-bit timer of some 584,000 years: the board never wakes by itself.
   */
  private deepSleep(run: Run, us: number): never {
    const int32 = Number(us) | 0;
    const ms = int32 < 0 ? Infinity : int32 / 1000;
    this.endRun();
    this.wifi.powerOff();
    this.sleeping = true;
    this.meter.setBase("deepSleep");
    this.log({ type: "sleep", t: this.clock.now(), ms });
    if (ms === Infinity) throw new DeepSleepSignal(us);
    this.wakeTimer = this.clock.schedule(() => {
      this.wakeTimer = 0;
      if (this.stopped) return;
      this.log({ type: "wake", t: this.clock.now() });
      this.boot("timer");
    }, ms);
    void run;
    throw new DeepSleepSignal(us);
  }

  private newRun(): Run {
    const board = this;
    const cfg = this.config;
    const run = {} as Run;
    run.id = ++this.runSeq;
    run.alive = true;
    run.sockets = new SocketSet();

    run.pending = null;
    run.echo = true;
    run.baseline = null;
    const alive = () => run.alive;
    const invoke = (fn: Function, args: unknown[]) => this.guard(run, () => fn.apply(undefined, args));
    const realm = <T>(v: T): T => (v === undefined ? v : (run.realmJSON.parse(JSON.stringify(v)) as T));
    const modules: Record<string, unknown> = {};
    const netDeps = {
      clock: this.clock,
      meter: this.meter,
      wifi: this.wifi,
      invoke,
      alive,
      realm,
      log: (e: SocketEvent) => this.log({ ...e, t: this.clock.now() }),
      onTx: (socketId: number, bytes: string) => this.emit("tx", { run: run.id, socket: socketId, bytes }),
      consoleError: (message: string) => this.consoleWrite(`ERROR: ${message}\r\n`),
    };
    const makers: Record<string, () => unknown> = {
      net: () => makeNetModule(netDeps, run.sockets, false),
      tls: () => makeNetModule(netDeps, run.sockets, true),
      Wifi: () => makeWifiModule(this.wifi, invoke, realm, alive),
      Storage: () => makeStorageModule(this.storage, { realm, makeUint8: (s) => toUint8(s), stringify: (v) => run.realmJSON.stringify(v) }),
    };
    const require = (name: string) => {
      if (typeof name !== "string") throw new TypeError(`Expecting module name as a string, got ${typeName(name)}`);
      if (name in modules) return modules[name];
      if (name in makers) return (modules[name] = makers[name]());
      // As Espruino: a Storage file of that name is evaluated once as a module and its exports cached.
      const src = this.storage.get(name);
      if (src === undefined) throw new Error(`Module "${name}" not found`);
      const mod = run.sandbox.run("({exports:{}})") as { exports: unknown };
      (run.sandbox.run(`(function(module,exports){${Buffer.from(src, "latin1").toString("utf8")}\n})`, name) as (m: unknown, e: unknown) => void)(mod, mod.exports);
      return (modules[name] = mod.exports);
    };

    run.timers = new RunTimers({ clock: this.clock, alive, invoke, runCode: (code) => run.sandbox.run(code, "timer") });

    const print = (...args: unknown[]) => this.consoleWrite(args.map((a) => formatValue(a)).join(" ") + "\r\n");
    const pins: Record<string, unknown> = {};
    class Pin {
      constructor(readonly num: number) {}
      toString() {
        return "D" + this.num;
      }
      valueOf() {
        return this.num;
      }
      read() {
        return 0;
      }
      write() {}
      set() {}
      reset() {}
      mode() {}
    }
    for (let i = 0; i < 40; i++) pins["D" + i] = new Pin(i);
    const pinName = (p: unknown) => (p instanceof Pin ? String(p) : typeof p === "number" ? "D" + p : String(p));
    const toUint8 = (s: string): Uint8Array => {
      const U8 = (run.sandbox.context as { Uint8Array: typeof Uint8Array }).Uint8Array;
      const u = new U8(s.length);
      for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
      return u;
    };

    const E = makeE({
      toUint8,
      realm,
      rng: () => this.rng(),
      reboot: () => {
        run.pending = { kind: "reboot" };
      },
    });
    const ESP32 = {
      deepSleep: (us: number) => this.deepSleep(run, us),
      getWakeupCause: () => this.wakeCause,
      reboot: () => {
        run.pending = { kind: "reboot" };
      },
      getState: () => realm({ sdkVersion: "v4.4.x (emulated)", freeHeap: 100000, BLE: false, Wifi: true, minHeap: 90000 }),
      setAtten: () => {},
      setBLE_Debug: () => {},
    };
    const processObj = makeProcess({ config: cfg, modules: Object.keys(makers), memory: (gc) => this.memoryReport(gc), realm });

    const globals: Record<string, unknown> = {
      require,
      E,
      ESP32,
      process: processObj,
      ...run.timers.globals(),
      getTime: () => this.clock.now() / 1000,
      console: { log: print, warn: print, error: print, info: print, debug: print },
      print,
      analogRead: (p: unknown) => {
        const adc = cfg.adc;
        if (adc && this.battery && pinName(p) === adc.pin) return adcReading(adc, this.battery.volts());
        return 0;
      },
      digitalWrite: () => {},
      digitalRead: () => 0,
      pinMode: () => {},
      echo: (on: unknown) => {
        run.echo = !!on;
      },
      reset: (clearFlash?: unknown) => {
        run.pending = { kind: "reset", clearFlash: !!clearFlash };
      },
      load: (file?: unknown) => {
        run.pending = { kind: "load", file: typeof file === "string" ? file : null };
      },
      save: () => {
        throw new Error("save() is not supported by the wisp emulator: write .bootcde with require('Storage').write and load()");
      },
      btoa,
      atob,
      ...pins,
    };
    run.sandbox = createEspruinoSandbox(globals);
    const ctx = run.sandbox.context as Record<string, unknown>;
    run.realmJSON = run.sandbox.run("JSON") as JSON;
    processObj.env = realm(processObj.env);
    // Board time for Date and a seeded Math.random, patched from inside the realm.
    (run.sandbox.run(`(function (nowFn, rnd) {
      var D = Date;
      function BoardDate(a, b, c, d, e, f, g) {
        if (!(this instanceof BoardDate)) return new D(nowFn()).toString();
        switch (arguments.length) {
          case 0: return new D(nowFn());
          case 1: return new D(a);
          default: return new D(a, b, c === undefined ? 1 : c, d || 0, e || 0, f || 0, g || 0);
        }
      }
      BoardDate.prototype = D.prototype;
      BoardDate.now = nowFn;
      BoardDate.parse = D.parse;
      BoardDate.UTC = D.UTC;
      Object.defineProperty(globalThis, "Date", { value: BoardDate, writable: true, configurable: true, enumerable: false });
      Math.random = rnd;
    })`) as (n: () => number, r: () => number) => void)(() => this.clock.now(), this.rng);
    run.baselineNames = new Set(Object.getOwnPropertyNames(ctx));
    run.realmGlobal = run.sandbox.run("globalThis") as object;
    run.realmNames = Object.getOwnPropertyNames(run.realmGlobal);
    return run;
  }
}

/** Platform globals are host-realm objects (modules, functions): native on a board. */
function ctxIsPlatform(v: unknown): boolean {
  return v instanceof Object;
}

function readApp(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`app ${file} does not exist (run \`npm run build\` first, or pass --app)`);
  return fs.readFileSync(file, "utf8");
}

/** Create and boot an emulated board. */
export function startBoard(opts: StartBoardOptions = {}): EmulatedBoard {
  return new EmulatedBoard(opts);
}
