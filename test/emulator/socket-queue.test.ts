/**
 * Socket writes queue until the event loop runs (socketserver.c sends a socket's
 * "dSnd" from the idle loop), so a deep sleep in the same call as a write loses
 * the data, on the emulator as on the ESP32 port.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { withTimeout } from "./fixtures/util.ts";

async function sink() {
  const got: string[] = [];
  let conns = 0;
  let closed = 0;
  const server = net.createServer((s) => {
    conns++;
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("close", () => {
      got.push(data);
      closed++;
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, got, conns: () => conns, closed: () => closed, close: () => server.close() };
}

function app(port: number, afterWrite: string) {
  return `
    var log = [];
    if (ESP32.getWakeupCause() === 0) require("Wifi").connect("ap", {}, function () {
      var s = require("net").connect({host: "127.0.0.1", port: ${port}}, function () {
        log.push("write " + s.write("goodbye"));
        ${afterWrite}
      });
    });`;
}

test("a write followed by a deep sleep in the same call never leaves the board", { timeout: 20_000 }, async () => {
  const srv = await sink();
  const board = startBoard({ storageFile: null, clock: { kind: "virtual", replyGraceMs: 500 }, appCode: app(srv.port, "ESP32.deepSleep(60e6);") });
  try {
    await withTimeout(board.runUntil(() => board.sleeping, 10_000, "deep sleep"), 10_000, "sleep");
    await withTimeout((async () => { while (srv.closed() < 1) await new Promise((r) => setTimeout(r, 20)); })(), 5_000, "server sees the close");
    assert.deepEqual(srv.got, [""], "the server got nothing before the connection dropped");
  } finally {
    board.stop();
    srv.close();
  }
});

test("a write leaves when the event loop runs: a deep sleep one timer later keeps it", { timeout: 20_000 }, async () => {
  const srv = await sink();
  const board = startBoard({
    storageFile: null,
    clock: { kind: "virtual", replyGraceMs: 500 },
    appCode: app(srv.port, "setTimeout(function () { ESP32.deepSleep(60e6); }, 10);"),
  });
  try {
    await withTimeout(board.runUntil(() => board.sleeping, 10_000, "deep sleep"), 10_000, "sleep");
    await withTimeout((async () => { while (srv.closed() < 1) await new Promise((r) => setTimeout(r, 20)); })(), 5_000, "server sees the close");
    assert.deepEqual(srv.got, ["goodbye"]);
  } finally {
    board.stop();
    srv.close();
  }
});

test("write returns false and queues before the connection is up; the queue goes first, its 'drain' before 'connect'", { timeout: 20_000 }, async () => {
  const srv = await sink();
  const board = startBoard({
    storageFile: null,
    clock: { kind: "virtual", replyGraceMs: 500 },
    appCode: `
      var log = [];
      require("Wifi").connect("ap", {}, function () {
        var s = require("net").connect({host: "127.0.0.1", port: ${srv.port}}, function (x) { log.push("cb " + (x === s)); s.end("B"); });
        s.on("drain", function () { log.push("drain"); });
        s.on("end", function () { log.push("end"); });
        s.on("close", function (e) { log.push("close " + e); });
        log.push("early " + s.write("A"));
      });`,
  });
  try {
    await withTimeout(board.runUntil(() => (board.evaluate("log") as string[]).includes("close false"), 10_000, "close"), 10_000, "close");
    await withTimeout((async () => { while (srv.closed() < 1) await new Promise((r) => setTimeout(r, 20)); })(), 5_000, "server sees the close");
    assert.deepEqual([...(board.evaluate("log") as string[])], ["early false", "drain", "cb true", "end", "close false"]);
    assert.deepEqual(srv.got, ["AB"]);
    assert.throws(() => board.evaluate("var t = require('net').connect({host: 'no-such-host.invalid', port: 1})"), /Unable to locate host/);
  } finally {
    board.stop();
    srv.close();
  }
});
