/**
 * `npm run bench`: speed and size, measured side by side in one run, never asserted.
 *
 * Codec throughput: the compiled Espruino codec bundle (dist/espruino/codec.js, the
 * file that gets flashed) running in the Espruino-shaped sandbox on Node's V8,
 * against mqtt-packet (the codec MQTT.js and aedes use) in the same process.
 * Ratios > 1 mean wisp is faster. Each figure is the median of several timed rounds.
 * Sizes: the bytes of each artifact in dist/.
 */
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
console.log("codec throughput: wisp (compiled Espruino bundle, sandbox) vs mqtt-packet 9 (same process)");
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
