/**
 * `npm run bench`: speed and size, measured side by side in one run, never asserted.
 *
 * Codec throughput: the compiled Espruino codec bundle (dist/espruino/codec.js, the
 * file that gets flashed) running in the Espruino-shaped sandbox on Node's V8,
 * against mqtt-packet (the codec MQTT.js and aedes use) in the same process.
 * Ratios > 1 mean wisp is faster. Each figure is the median of several timed rounds.
 * Sizes: the bytes of each artifact in dist/.
 *
 * Then the real interpreter (ESPRUINO_BIN, else ../shared/espruino/espruino; skipped
 * with a note when absent): the same codec bundle loaded from Storage, timed against
 * a plain string codec written in test/bench/espruino-codec-bench.js (the baseline;
 * ratio = wisp time / baseline time, lower is better), and the blocks each bundle
 * and the running app hold (process.memory().usage, counted by the interpreter).
 * Its times are a desktop CPU's: only the ratios carry over to a board.
 */
import { APP_MODULES } from "../../host-tools/device/app-modules.ts";
import fs from "node:fs";
import path from "node:path";
import mqttPacket from "mqtt-packet";
import { artifactPath, loadEspruinoCodec } from "../helpers/artifacts.ts";

const ROUNDS = Number(process.env.WISP_BENCH_ROUNDS ?? 7);
const TARGET_MS = Number(process.env.WISP_BENCH_MS ?? 150);

/** Operations per second: median over ROUNDS rounds of a loop sized to take ~TARGET_MS. */
function opsPerSec(fn: (n: number) => void): number {
  let n = 1000;
  for (;;) {
    const t0 = performance.now();
    fn(n);
    const dt = performance.now() - t0;
    if (dt > TARGET_MS / 4) {
      n = Math.max(1, Math.round((n * TARGET_MS) / dt));
      break;
    }
    n *= 4;
  }
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    fn(n);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const { exports: w, sandbox } = loadEspruinoCodec();
const TOPIC = "sensors/abc/temp"; // 16 bytes
const tx = w.newBuffer(4096);
const reader = w.newReader(4096);

interface Case {
  name: string;
  packet: mqttPacket.Packet;
  encodeWisp: () => number;
}

const payload = (n: number) => "x".repeat(n);
const p64 = payload(64);
const p1k = payload(1024);
const cases: Case[] = [
  {
    name: "PUBLISH qos1 64 B",
    packet: { cmd: "publish", topic: TOPIC, payload: Buffer.from(p64), qos: 1, messageId: 7, retain: false, dup: false },
    encodeWisp: () => w.encodePublish(tx, TOPIC, p64, 1, false, false, 7),
  },
  {
    name: "PUBLISH qos1 1 KiB",
    packet: { cmd: "publish", topic: TOPIC, payload: Buffer.from(p1k), qos: 1, messageId: 7, retain: false, dup: false },
    encodeWisp: () => w.encodePublish(tx, TOPIC, p1k, 1, false, false, 7),
  },
  {
    name: "SUBSCRIBE 2 filters",
    packet: {
      cmd: "subscribe",
      messageId: 9,
      subscriptions: [
        { topic: "cmd/abc/#", qos: 1 },
        { topic: "cfg/+/interval", qos: 2 },
      ],
    } as mqttPacket.ISubscribePacket,
    encodeWisp: () => w.encodeSubscribe(tx, 9, FILTERS, QOS),
  },
  {
    name: "PUBACK",
    packet: { cmd: "puback", messageId: 300 },
    encodeWisp: () => w.encodeAck(tx, w.PUBACK, 300),
  },
];
const FILTERS = sandbox.run('["cmd/abc/#", "cfg/+/interval"]');
const QOS = sandbox.run("[1, 2]");

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`;
}

console.log(`wisp bench — Node ${process.version}, ${ROUNDS} rounds of ~${TARGET_MS} ms, median\n`);
console.log("codec throughput, host-side (V8): wisp (compiled Espruino bundle, sandbox) vs mqtt-packet 9 (same process)");
console.log("| packet | op | wisp | mqtt-packet | ratio |");
console.log("|---|---|---:|---:|---:|");
const ratios: number[] = [];
for (const c of cases) {
  const wire = mqttPacket.generate(c.packet);
  const wireStr = wire.toString("latin1");
  // Sanity: the two encoders agree byte for byte, so we time the same work.
  const len = c.encodeWisp();
  const ours = Buffer.from(w.bufStr(tx, 0, len), "latin1");
  if (!ours.equals(wire)) throw new Error(`${c.name}: wisp and mqtt-packet encodings differ`);

  const encW = opsPerSec((n) => {
    for (let i = 0; i < n; i++) c.encodeWisp();
  });
  const encM = opsPerSec((n) => {
    for (let i = 0; i < n; i++) mqttPacket.generate(c.packet);
  });
  const decW = opsPerSec((n) => {
    for (let i = 0; i < n; i++) {
      reader.feed(wireStr, 0);
      if (reader.status !== 1) throw new Error(`${c.name}: wisp decode failed: ${w.errorName(reader.status)}`);
    }
  });
  const parser = mqttPacket.parser();
  let got = 0;
  parser.on("packet", () => got++);
  parser.on("error", (e) => {
    throw e;
  });
  const decM = opsPerSec((n) => {
    for (let i = 0; i < n; i++) parser.parse(wire);
  });
  if (got === 0) throw new Error("mqtt-packet parsed nothing");
  for (const [op, a, b] of [
    ["encode", encW, encM],
    ["decode", decW, decM],
  ] as const) {
    ratios.push(a / b);
    console.log(`| ${c.name} | ${op} | ${fmt(a)} | ${fmt(b)} | ${(a / b).toFixed(1)}x |`);
  }
}
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
console.log(`\ngeometric mean ratio: ${geo.toFixed(1)}x`);

// Allocation while benchmarking: the sandbox counts buffer constructions.
sandbox.resetBufferCount();
for (let i = 0; i < 10000; i++) {
  cases[0].encodeWisp();
  reader.feed(mqttPacket.generate(cases[0].packet).toString("latin1"), 0);
}
console.log(`buffers constructed by wisp during 10,000 encode+decode: ${sandbox.bufferCount()}`);

console.log("\nartifact sizes (bytes)");
console.log("| artifact | bytes |");
console.log("|---|---:|");
for (const target of ["espruino", "lua"] as const) {
  const dir = path.dirname(artifactPath(target, "codec"));
  for (const f of fs.readdirSync(dir).sort()) {
    console.log(`| dist/${target}/${f} | ${fs.statSync(path.join(dir, f)).size} |`);
  }
}

// ---------------------------------------------------------------- the real interpreter
await (async () => {
  const { findEspruino, ESPRUINO_MISSING, Interpreter } = await import("../../host-tools/espruino/interpreter.ts");
  if (!findEspruino()) {
    console.log(`\nreal interpreter: skipped (${ESPRUINO_MISSING})`);
    return;
  }
  const MS = Number(process.env.WISP_BENCH_ESPRUINO_MS ?? 400);
  const it = await Interpreter.start();
  try {
    const version = await it.eval<string>("process.env.VERSION");
    await it.writeFileFromHost("codec.js", fs.readFileSync(artifactPath("espruino", "codec"), "latin1"));
    await it.eval('eval(require("Storage").read("codec.js"))');
    await it.writeFileFromHost("bench.js", fs.readFileSync(path.join(import.meta.dirname, "espruino-codec-bench.js"), "latin1"));
    await it.eval('eval(require("Storage").read("bench.js"))');
    console.log(`\ncodec on the real interpreter (Espruino ${version}, Linux build, codec.js from Storage), ms per operation; ratio = wisp / plain string codec`);
    console.log("| packet | wisp encode | bytes to string | wisp decode | wisp all in | string encode | string decode | string all in | ratio |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    type Row = { name: string; bytes: number; encode: number; toString: number; decode: number; baseEncode: number; baseDecode: number; cases: number };
    const f = (ms: number) => (ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
    for (let i = 0, n = 1; i < n; i++) {
      const r = await it.eval<Row>(`benchCase(${i},${MS})`, 120000);
      n = r.cases;
      const ours = r.encode + r.toString + r.decode;
      const base = r.baseEncode + r.baseDecode;
      console.log(`| ${r.name} (${r.bytes} B) | ${f(r.encode)} | ${f(r.toString)} | ${f(r.decode)} | ${f(ours)} | ${f(r.baseEncode)} | ${f(r.baseDecode)} | ${f(base)} | ${(ours / base).toFixed(1)}x |`);
    }
  } catch (e) {
    console.log(`real interpreter codec bench: failed: ${(e as Error).message}`);
  } finally {
    await it.stop();
  }

  console.log("\nblocks on the real interpreter: each bundle loaded from Storage with eval(require(\"Storage\").read(...)), process.memory().usage before/after");
  console.log("| bundle | bytes | usage before | usage after | blocks held |");
  console.log("|---|---:|---:|---:|---:|");
  const dir = path.dirname(artifactPath("espruino", "codec"));
  for (const f of fs.readdirSync(dir).sort()) {
    const one = await Interpreter.start();
    try {
      const code = fs.readFileSync(path.join(dir, f), "latin1");
      // a Storage module the app requires on demand is loaded the way the app does: require(name)
      const mod = APP_MODULES.find((m) => m.artifact === f);
      await one.writeFileFromHost(mod ? mod.storage : "b.js", code);
      await one.eval('Modules.addCached("Wifi","")'); // app.js loads Wifi; without wisp.json it stops at boot
      const before = await one.eval<number>("process.memory().usage");
      await one.eval(mod ? `(global.M=require(${JSON.stringify(mod.storage)}),1)` : 'eval(require("Storage").read("b.js"))', 20000);
      const after = await one.eval<number>("process.memory().usage");
      console.log(`| ${f}${f === "app.js" ? " (no wisp.json: stops at boot)" : mod ? ` (require("${mod.storage}"))` : ""} | ${code.length} | ${before} | ${after} | ${after - before} |`);
    } catch (e) {
      console.log(`| ${f} | failed: ${(e as Error).message.split("\n")[0]} | | | |`);
    } finally {
      await one.stop();
    }
  }

  // One client with the board's default buffers (ClientConfig defaults), connected to aedes with one subscription.
  try {
    const { measureClientBlocks } = await import("../client/blocks.ts");
    const b = await measureClientBlocks(artifactPath("espruino", "client"));
    console.log("\nthe client on the real interpreter (client.js from Storage, default buffers, connected to aedes, one subscription)");
    console.log("| what | blocks | target |");
    console.log("|---|---:|---:|");
    console.log(`| client.js loaded | ${b.bundle} | |`);
    console.log(`| a connected client with one subscription, on top | ${b.connected} | |`);
    console.log(`| total | ${b.bundle + b.connected} | 700 |`);
  } catch (e) {
    console.log(`client blocks on the real interpreter: failed: ${(e as Error).message}`);
  }

  // The app through the espruino engine (interp's startEspruinoBoard) against aedes:
  // the shim's blocks (Wifi/ESP32 stand-ins, native on a board) are subtracted.
  const { startAedes } = await import("../../host-tools/emulator/broker.ts");
  const { startEspruinoBoard } = await import("../../host-tools/espruino/board.ts");
  const READINGS = Number(process.env.WISP_BENCH_READINGS ?? 30);
  const broker = await startAedes();
  let readings = 0;
  let sessions = 0;
  broker.aedes.on("client", () => sessions++);
  broker.aedes.on("publish", (pkt: { topic: string }) => {
    if (pkt.topic.endsWith("/telemetry")) readings++;
  });
  const board = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: artifactPath("espruino", "app"),
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "bench-1", mode: "stay", intervalSeconds: 60, keepAliveSeconds: 300, qos: 1, commands: true },
    wifi: { connectMs: 100 },
  });
  const waitReadings = async (n: number, stepMs: number) => {
    const t0 = Date.now();
    while (readings < n) {
      if (Date.now() - t0 > 30000 + n * 3000) throw new Error(`only ${readings} readings of ${n}`);
      await new Promise((r) => setTimeout(r, stepMs));
    }
  };
  // A day of board time in seconds of real time: on the Linux build setTime() leaves the
  // clock alone but moves the idle loop's last-idle time (src/jswrap_interactive.c,
  // jsiLastIdleTime), so every pending timer runs `s` seconds sooner. getTime() keeps
  // real time, so nothing the app measures with it is skewed; only the waits are cut.
  const DAY = 86400 / 60;
  const advanceToReading = async (n: number) => {
    while (readings < n) {
      const seen = readings;
      await board.eval("setTime(getTime()-60),1");
      const t0 = Date.now();
      while (readings === seen && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    console.log(`\nthe app on the real interpreter (espruino engine, aedes, stay mode, a QoS 1 reading every 60 s, one subscription), blocks the app holds`);
    console.log("| phase | app blocks | interpreter usage | pool |");
    console.log("|---|---:|---:|---:|");
    const row = (phase: string, m: { app: number; usage: number; total: number }) => console.log(`| ${phase} | ${m.app} | ${m.usage} | ${m.total} |`);
    row("after boot", await board.memory("after boot"));
    await waitReadings(1, 100);
    row("after connect and the first reading", await board.memory("after connect"));
    await advanceToReading(READINGS);
    row(`after ${readings} readings`, await board.memory("after readings"));
    const t0 = Date.now();
    await advanceToReading(DAY);
    row(`after a day of readings (${readings}, timers advanced 60 s a step, ${((Date.now() - t0) / 1000).toFixed(0)} s real, ${sessions} MQTT session${sessions === 1 ? "" : "s"})`, await board.memory("after a day"));
    const u = board.uncaught();
    if (u.length > 0) console.log(`Uncaught on the interpreter: ${u.join(" / ")}`);
  } catch (e) {
    console.log(`app on the real interpreter: failed: ${(e as Error).message}`);
  } finally {
    await board.stop();
    await broker.close();
  }
})();

// ---- Flash throughput over a socat pty at 115200 baud (wisp flash, host-tools/flasher) ----
// A pty does not pace bytes like a UART, so the writes are paced here at the line
// rate (10 bits per byte: start, 8 data, stop). Reported: payload bytes/s as a
// fraction of the line rate, and the share of the wire taken by the app's bytes
// (the rest is escaping, the Storage.write calls and the CRC check).
await (async () => {
  const { hasCommand } = await import("../helpers/system-deps.ts");
  if (!hasCommand("socat")) {
    console.log("\nflash throughput: skipped (socat is not installed)");
    return;
  }
  const { startBoard } = await import("../../host-tools/emulator/emulator.ts");
  const { attachSerialRepl, openPtyPair } = await import("../../host-tools/emulator/pty.ts");
  const { openPort, closePort } = await import("../../host-tools/flasher/serial.ts");
  const { EspruinoRepl, linkFromSerialPort } = await import("../../host-tools/flasher/espruino.ts");
  const { flashApp } = await import("../../host-tools/flasher/upload.ts");
  const BAUD = 115200;
  const lineBytesPerSec = BAUD / 10;
  const appFile = artifactPath("espruino", "app");
  const app = fs.readFileSync(appFile, "utf8");
  const board = startBoard({ storageFile: null, clock: "real", board: "esp32-lipo-sensor" });
  const pair = await openPtyPair();
  const serial = attachSerialRepl(board, pair.boardPath);
  const port = await openPort(pair.hostPath, BAUD);
  try {
    console.log(`\nflash throughput over a pty, writes paced at ${BAUD} baud (${lineBytesPerSec} B/s line rate), ${path.basename(appFile)} ${Buffer.byteLength(app)} B`);
    console.log("| chunk | window | payload B/s | fraction of line rate | app share of wire bytes |");
    console.log("|---:|---:|---:|---:|---:|");
    for (const [chunk, window] of [[128, 2], [256, 2], [512, 2], [512, 4]]) {
      const raw = linkFromSerialPort(port);
      let wire = 0;
      let nextFree = 0;
      const paced = {
        onData: raw.onData,
        offData: raw.offData,
        async write(b: Buffer) {
          wire += b.length;
          const now = performance.now();
          const start = Math.max(now, nextFree);
          nextFree = start + (b.length * 1000) / lineBytesPerSec;
          if (nextFree > now) await new Promise((r) => setTimeout(r, nextFree - now));
          await raw.write(b);
        },
      };
      const repl = new EspruinoRepl(paced);
      let payload = 0;
      let rate = 0;
      await flashApp(repl, {
        app,
        chunkSize: chunk,
        window,
        noReset: true,
        onEvent: (e) => {
          if (e.event === "progress") {
            payload = e.bytes;
            rate = e.bytesPerSecond;
          }
        },
      });
      repl.close();
      console.log(`| ${chunk} | ${window} | ${rate} | ${(rate / lineBytesPerSec).toFixed(2)} | ${(payload / wire).toFixed(2)} |`);
    }
  } catch (e) {
    console.log(`flash throughput: failed: ${(e as Error).message}`);
  } finally {
    await closePort(port);
    serial.close();
    await pair.close();
    board.stop();
  }
})();

// ---------------------------------------------------------------- power policy (24 h virtual)
await (async () => {
  const { compareDay } = await import("../power/day-run.ts");
  const cell = 2000;
  console.log("\nenergy over 24 h of board time (virtual clock), esp32-lipo-sensor at 20 % battery, a QoS 1 reading every 300 s");
  console.log("| policy | mAh/day | days on a 2000 mAh cell | messages delivered | lost |");
  console.log("|---|---:|---:|---:|---:|");
  try {
    const { baseline, policy } = await compareDay(300);
    for (const r of [baseline, policy]) {
      const e = r.energy;
      console.log(`| ${r.name} | ${e.mAhPerDay.toFixed(2)} | ${(cell / e.mAhPerDay).toFixed(1)} | ${r.delivered} | ${r.missing.length} |`);
    }
    const saving = 1 - policy.energy.mAhPerDay / baseline.energy.mAhPerDay;
    console.log(`policy saving: ${(saving * 100).toFixed(1)} % (target >= 30 %)`);
  } catch (e) {
    console.log(`power comparison: failed: ${(e as Error).message}`);
  }
})();
