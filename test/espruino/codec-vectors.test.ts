/**
 * The codec on the real interpreter (issue 9): dist/espruino/codec.js is loaded from
 * Storage, as on a board, and every vector, encoder error, malformed input (in every
 * chunking), topic match and topic check of test/codec gives the same line as the
 * same artifact gives on V8. Commands go in batches (a host file the interpreter's
 * `fs` reads); test/espruino/codec-driver.js runs them there.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { artifactPath, loadEspruinoCodec } from "../helpers/artifacts.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { allVectors, CHECKS, ENCODE_ERRORS, hex, MALFORMED, MATCHES, runCommand } from "../codec/harness.ts";

const skip = skipUnlessEspruino();

/**
 * A command fits the board when its buffers and its text do: the 64 KiB topics and
 * the 2 MiB remaining lengths need more RAM than an ESP32's 16383 blocks hold, so
 * those stay with V8 and Lua (test/codec/vectors.test.ts).
 */
const FITS = 40000;
const fits = (c: string): boolean => c.length <= FITS && !(c[0] === "E" && +c.split(" ")[1] > FITS / 2);
const vectors = allVectors();
const CHUNKS = [0, 1, 2, 3, 7];
const all: Record<string, string[]> = {
  "encodes every vector": vectors.map((v) => v.encode),
  "decodes every vector": vectors.map((v) => v.decode),
  "rejects bad encoder arguments": ENCODE_ERRORS.map(([, c]) => c),
  "reports each malformed input, in any chunking": MALFORMED.flatMap(([, cap, h]) => CHUNKS.map((c) => `D ${cap} ${c} ${h}`)),
  "matches topics and checks names": [
    ...MATCHES.map(([f, t]) => `M ${hex(f)} ${hex(t)}`),
    ...CHECKS.map(([k, s]) => `${k} ${hex(s)}`),
  ],
};
const groups = Object.fromEntries(Object.entries(all).map(([k, cs]) => [k, cs.filter(fits)]));
const tooBig = Object.values(all).flat().filter((c) => !fits(c));

let it: Interpreter | undefined;
let batch = 0;
before(async () => {
  if (skip) return;
  it = await Interpreter.start();
  await it.writeFileFromHost("codec.js", fs.readFileSync(artifactPath("espruino", "codec"), "latin1"));
  await it.eval('eval(require("Storage").read("codec.js"))');
  await it.writeFileFromHost("driver.js", fs.readFileSync(path.join(import.meta.dirname, "codec-driver.js"), "latin1"));
  await it.eval('eval(require("Storage").read("driver.js"))');
});
after(async () => {
  await it?.stop();
});

/** Hex tokens longer than 128 digits travel base64-coded ("=..."): the driver decodes them natively. */
const toWire = (c: string): string => c.split(" ").map((t) => (/^[0-9a-f]{130,}$/.test(t) ? "=" + Buffer.from(t, "hex").toString("base64") : t)).join(" ");
const fromWire = (l: string): string => (l.startsWith("=") ? Buffer.from(l.slice(1), "base64").toString("hex") : l);

/** Run commands on the interpreter, about 16 KB of command text per batch. */
async function onEspruino(commands: string[]): Promise<string[]> {
  commands = commands.map(toWire);
  const out: string[] = [];
  for (let i = 0; i < commands.length; ) {
    let size = 0;
    let j = i;
    while (j < commands.length && (j === i || size + commands[j].length < 16000)) size += commands[j++].length + 1;
    const file = `cmds-${++batch}.txt`;
    fs.writeFileSync(path.join(it!.dir, file), commands.slice(i, j).join("\n") + "\n");
    const res = await it!.eval<string>(`codecRun(${JSON.stringify(file)})`, 120000);
    out.push(...res.split("\n").map(fromWire));
    i = j;
  }
  return out;
}

describe("codec.js from Storage on the real interpreter gives the V8 result", { skip }, () => {
  for (const [name, commands] of Object.entries(groups)) {
    test(`${name} (${commands.length} commands)`, async () => {
      const v8 = loadEspruinoCodec().exports;
      const expected = commands.map((c) => runCommand(v8, c));
      const got = await onEspruino(commands);
      assert.equal(got.length, commands.length);
      commands.forEach((c, i) => assert.equal(got[i], expected[i], c.slice(0, 100)));
      assert.deepEqual(it!.uncaught(), []);
    });
  }
  test("only the commands too big for a board's RAM are left out", () => {
    // The 64 KiB-topic vector and the two 2 MiB remaining lengths (encode and decode),
    // the 65536-byte topic encoder error, and the checks of 65535/65536-byte topics.
    assert.equal(tooBig.length, 9, tooBig.map((c) => c.slice(0, 30)).join("\n"));
  });
});
