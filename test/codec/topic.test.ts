/** Topic names, filters and local-dispatch matching, on both artifacts and the source. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { loadEspruinoCodec, runLuaFile } from "../helpers/artifacts.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { CHECKS, hex, MATCHES, runCommand, utf8 } from "./harness.ts";
import { loadSourceCodec } from "./source-shim.ts";

const commands = [
  ...MATCHES.map(([f, t]) => `M ${hex(utf8(f))} ${hex(utf8(t))}`),
  ...CHECKS.map(([k, s]) => `${k} ${hex(utf8(s))}`),
  "T c0af", // overlong '/', not UTF-8
  "F 2fedb080", // a surrogate
];
const expected = [...MATCHES.map(([, , m]) => (m ? "1" : "0")), ...CHECKS.map(([, , c]) => String(c)), "-8", "-8"];
const label = (i: number) => (i < MATCHES.length ? `topicMatches(${JSON.stringify(MATCHES[i][0])}, ${JSON.stringify(MATCHES[i][1])})` : commands[i].slice(0, 40));

let esp: any;
let src: any;
before(async () => {
  esp = loadEspruinoCodec().exports;
  src = await loadSourceCodec();
});

test("Espruino bundle: topic matching and validation table", () => {
  commands.forEach((c, i) => assert.equal(runCommand(esp, c), expected[i], label(i)));
});

test("TypeScript source: topic matching and validation table", () => {
  commands.forEach((c, i) => assert.equal(runCommand(src, c), expected[i], label(i)));
});

test("Lua bundle: topic matching and validation table", { skip: skipUnless("lua5.3") }, () => {
  const out = runLuaFile("test/codec/driver.lua", commands.join("\n") + "\n").split("\n");
  commands.forEach((_, i) => assert.equal(out[i], expected[i], label(i)));
});
