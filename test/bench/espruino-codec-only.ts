/**
 * The real-interpreter codec rows of `npm run bench` alone (for profiling the codec):
 * `npm run build && node --import tsx test/bench/espruino-codec-only.ts`.
 * An optional argument names a file of extra board-side code, evaluated after the bench.
 */
import fs from "node:fs";
import path from "node:path";
import { artifactPath } from "../helpers/artifacts.ts";
import { findEspruino, ESPRUINO_MISSING, Interpreter } from "../../host-tools/espruino/interpreter.ts";

if (!findEspruino()) {
  console.log(`real interpreter: skipped (${ESPRUINO_MISSING})`);
  process.exit(0);
}
const MS = Number(process.env.WISP_BENCH_ESPRUINO_MS ?? 400);
const it = await Interpreter.start();
try {
  const codec = fs.readFileSync(artifactPath("espruino", "codec"), "latin1");
  await it.writeFileFromHost("codec.js", codec);
  await it.eval('eval(require("Storage").read("codec.js"))');
  await it.writeFileFromHost("bench.js", fs.readFileSync(path.join(import.meta.dirname, "espruino-codec-bench.js"), "latin1"));
  await it.eval('eval(require("Storage").read("bench.js"))');
  console.log(`codec.js ${codec.length} B`);
  console.log("| packet | wisp encode | bytes to string | wisp decode | wisp all in | string encode | string decode | string all in | ratio |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  const f = (ms: number) => (ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
  for (let i = 0, n = 1; i < n; i++) {
    const r = await it.eval<{ name: string; bytes: number; encode: number; toString: number; decode: number; baseEncode: number; baseDecode: number; cases: number }>(`benchCase(${i},${MS})`, 120000);
    n = r.cases;
    const ours = r.encode + r.toString + r.decode;
    const base = r.baseEncode + r.baseDecode;
    console.log(`| ${r.name} (${r.bytes} B) | ${f(r.encode)} | ${f(r.toString)} | ${f(r.decode)} | ${f(ours)} | ${f(r.baseEncode)} | ${f(r.baseDecode)} | ${f(base)} | ${(ours / base).toFixed(1)}x |`);
  }
  if (process.argv[2]) {
    await it.writeFileFromHost("extra.js", fs.readFileSync(process.argv[2], "latin1"));
    console.log(await it.eval('eval(require("Storage").read("extra.js"))', 120000));
  }
} finally {
  await it.stop();
}
