/**
 * Probe programs (test/probes/*.js) run on the real Espruino interpreter and on the
 * emulator; each must print the same transcript (issue 9, item 4). The real
 * interpreter is the judge: where they differ, the emulator is wrong.
 *
 * On the interpreter a probe is written to Storage as `.bootcde` and started with
 * `load()`, as a board boots it. On the emulator it is flashed the same way and
 * booted on a board whose Wi-Fi is already up (the Linux build has no Wifi module:
 * its network is always online). The transcript is every console line from the
 * probe's first line ("probe NAME") to its last ("<<END>>"), prompts stripped.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

const DIR = path.dirname(fileURLToPath(import.meta.url));
const skip = skipUnlessEspruino();

function probe(name: string, prelude = ""): string {
  return prelude + fs.readFileSync(path.join(DIR, `${name}.js`), "utf8");
}

/** The lines from "probe NAME" to "<<END>>" in console output. */
function transcript(output: string): string[] {
  // (an ANSI sequence split across two reads of the pipe survives cleanConsole: strip its rest)
  const lines = output.replace(/\r/g, "").replace(/\x1b?\[J/g, "").split("\n").map((l) => l.replace(/^>+/, ""));
  const start = lines.findIndex((l) => l.startsWith("probe "));
  const end = lines.indexOf("<<END>>", start);
  assert.ok(start >= 0 && end > start, `no complete transcript in:\n${output.slice(-2000)}`);
  return lines.slice(start, end + 1).filter((l) => l.trim() !== "");
}

async function onInterpreter(code: string, timeoutMs = 20_000): Promise<string[]> {
  const it = await Interpreter.start({ control: false }); // the transcript is compared: nothing extra on the board
  try {
    await it.writeFileFromHost(".bootcde", code);
    const from = it.output.length;
    it.send("load()");
    // (the console holds a line's "\n" until the next output: match the marker alone)
    await it.waitFor(/<<END>>|Uncaught/, timeoutMs, "the probe's <<END>>", from);
    // killed at once: nothing the probe queued after <<END>> leaves
    await it.stop();
    return transcript(it.output.slice(from));
  } finally {
    await it.stop();
  }
}

async function onEmulator(code: string, timeoutMs = 20_000): Promise<string[]> {
  let out = "";
  const board = startBoard({
    storageFile: null,
    boot: false,
    // the socket probe talks to a plain TCP server: let virtual time wait for its replies
    clock: { kind: "virtual", replyGraceMs: 1000 },
    console: (t) => (out += t),
  });
  try {
    let up = false;
    board.wifi.connect("probe-ap", "", () => (up = true));
    await board.runUntil(() => up, 30_000, "Wi-Fi up");
    board.flash(code);
    board.boot("load");
    await board.runUntil(() => out.includes("<<END>>\r\n") || out.includes("Uncaught") || board.sleeping, timeoutMs, "the probe's <<END>>");
    return transcript(out);
  } finally {
    board.stop();
  }
}

for (const name of ["timers", "storage", "e-api", "memory"]) {
  test(`probe ${name}: the emulator prints what the real interpreter prints`, { skip, timeout: 60_000 }, async () => {
    const real = await onInterpreter(probe(name));
    const emulated = await onEmulator(probe(name));
    assert.deepEqual(emulated, real);
  });
}

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A line-echo server: answers "L" with "echo:L", says nothing to "quiet:..." lines, closes on "bye", sends 1501 bytes for "big". */
async function lineServer() {
  const got: string[] = [];
  const server = net.createServer((s) => {
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        got.push(line);
        if (line === "bye") s.end();
        else if (line === "big") s.write("x".repeat(1500) + "\n");
        else if (!line.startsWith("quiet:")) s.write(`echo:${line}\n`);
      }
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, got, close: () => new Promise((r) => server.close(r)) };
}

test("probe sockets: events, their order, and what leaves the board, the same on both", { skip, timeout: 90_000 }, async () => {
  const closed = await closedPort();
  const s1 = await lineServer();
  const s2 = await lineServer();
  try {
    const real = await onInterpreter(probe("sockets", `var PROBE_PORT = ${s1.port}, PROBE_CLOSED_PORT = ${closed};\n`));
    const emulated = await onEmulator(probe("sockets", `var PROBE_PORT = ${s2.port}, PROBE_CLOSED_PORT = ${closed};\n`));
    assert.deepEqual(emulated, real);
    for (const line of ["ERROR: Connect failed (err 111)", "refused throws InternalError: Unable to create socket", "unknown host throws InternalError: Unable to locate host"])
      assert.ok(real.includes(line), `the interpreter printed ${JSON.stringify(line)}:\n${real.join("\n")}`);
    // give the servers a moment to read what was sent before the stop
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(s1.got, ["quiet:one", "two", "bye", "quiet:last", "big", "kept"], "the real interpreter never sent the line written just before it stopped");
    assert.deepEqual(s2.got, s1.got);
  } finally {
    await s1.close();
    await s2.close();
  }
});
