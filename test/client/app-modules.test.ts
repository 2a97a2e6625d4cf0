/**
 * The WebSocket transport is a Storage module (`wisp-ws`, dist/espruino/wsnet.js) that
 * app.js requires only for ws:// and wss:// brokers (host-tools/device/app-modules.ts):
 * - real interpreter: a plain TCP app never loads it; a ws app loads it and publishes;
 * - V8 engine: without the module a ws app says so on its console and does not crash;
 * - the install protocol writes and verifies each module before the app.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import vm from "node:vm";
import { test } from "node:test";
import { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { APP_MODULES, appModulesNextTo } from "../../host-tools/device/app-modules.ts";
import { crc32OfByteString } from "../../host-tools/device/crc32.ts";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startEspruinoBoard } from "../../host-tools/espruino/board.ts";
import { installApp, type InstallRepl } from "../../host-tools/flasher/install-protocol.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { observe, until } from "../espruino/engine-harness.ts";

const skip = skipUnlessEspruino();
const APP = path.join(REPO_ROOT, "dist", "espruino", "app.js");
const WS = APP_MODULES[0].storage;

/** aedes behind a `ws` server on 127.0.0.1 (subprotocol mqtt) plus its TCP listener for the observer. */
async function aedesOverWs(): Promise<{ tcpUrl: string; wsPort: number; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const tcp = net.createServer(aedes.handle);
  await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", () => r()));
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: "/mqtt", handleProtocols: (set) => (set.has("mqtt") ? "mqtt" : false) });
  wss.on("connection", (ws) => {
    const stream = createWebSocketStream(ws);
    stream.on("error", () => {});
    aedes.handle(stream as any);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    tcpUrl: `mqtt://127.0.0.1:${(tcp.address() as net.AddressInfo).port}`,
    wsPort: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

test("the WebSocket module is built next to app.js, and app.js does not carry the transport", () => {
  const mods = appModulesNextTo(APP);
  assert.deepEqual(Object.keys(mods), [WS]);
  assert.match(mods[WS], /^module\.exports=function\(\)\{/);
  assert.match(mods[WS], /ws: bad accept/);
  assert.doesNotMatch(fs.readFileSync(APP, "utf8"), /ws: bad accept|Sec-WebSocket/);
});

test("real interpreter: a plain TCP app never loads the WebSocket module; a ws app loads it and publishes", { skip, timeout: 120000 }, async () => {
  const plain = await startAedes();
  const obs = await observe(plain.url, "wisp/#");
  const board = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    settings: { brokerPort: Number(new URL(plain.url).port), clientId: "tcp-1", mode: "stay", intervalSeconds: 1, keepAliveSeconds: 10, qos: 1 },
    wifi: { connectMs: 200 },
  });
  try {
    await until(() => obs.seen.some((m) => m.topic === "wisp/tcp-1/telemetry"), 30000, "a reading over TCP", () => board.consoleTail());
    assert.equal(await board.it!.eval<boolean>(`require("Storage").read(${JSON.stringify(WS)})!==undefined`), true, "installed beside .bootcde");
    assert.equal(await board.it!.eval<boolean>(`Modules.getCached().indexOf(${JSON.stringify(WS)})>=0`), false, "not loaded for mqtt://");
    assert.deepEqual(board.uncaught(), []);
  } finally {
    await board.stop();
    await obs.close();
    await plain.close();
  }

  const b = await aedesOverWs();
  const obs2 = await observe(b.tcpUrl, "wisp/#");
  const wsBoard = await startEspruinoBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    settings: { brokerPort: b.wsPort, brokerScheme: "ws", brokerPath: "/mqtt", clientId: "ws-1", mode: "stay", intervalSeconds: 1, keepAliveSeconds: 10, qos: 1 },
    wifi: { connectMs: 200 },
  });
  try {
    const tele = () => obs2.seen.filter((m) => m.topic === "wisp/ws-1/telemetry");
    await until(() => tele().length >= 2, 60000, "two readings over ws", () => wsBoard.consoleTail());
    assert.deepEqual(tele().slice(0, 2).map((m) => JSON.parse(m.payload).seq), [1, 2]);
    assert.equal(await wsBoard.it!.eval<boolean>(`Modules.getCached().indexOf(${JSON.stringify(WS)})>=0`), true, "loaded for ws://");
    assert.deepEqual(wsBoard.uncaught(), []);
  } finally {
    await wsBoard.stop();
    await obs2.close();
    await b.close();
  }
});

test("V8 engine: a ws app without the module names what is missing and does not crash", async () => {
  let text = "";
  const board = startBoard({
    board: "esp32-lipo-sensor",
    app: APP,
    modules: {},
    storageFile: null,
    clock: "virtual",
    settings: { brokerPort: 1, brokerScheme: "ws", clientId: "nows", mode: "stay" },
    console: (t) => (text += t),
  });
  try {
    await board.runFor(2000);
    assert.match(text, new RegExp(`no WebSocket transport: Storage module ${WS} is missing`));
    assert.doesNotMatch(text, /Uncaught/);
  } finally {
    board.stop();
  }
});

/** A REPL whose board is a Storage map in a vm (Storage.write with offset and size, read, erase, E.CRC32). */
function fakeBoard(): { repl: InstallRepl; files: Map<string, string> } {
  const files = new Map<string, string>();
  const Storage = {
    write(name: string, data: string, off?: number, size?: number) {
      if (off === undefined) files.set(name, data);
      else {
        const cur = off === 0 ? " ".repeat(size ?? data.length) : files.get(name)!;
        files.set(name, cur.slice(0, off) + data + cur.slice(off + data.length));
      }
      return true;
    },
    read: (name: string) => files.get(name),
    erase: (name: string) => void files.delete(name),
    getFree: () => 1 << 20,
    getStats: () => ({ trashBytes: 0 }),
    compact: () => {},
  };
  const ctx = vm.createContext({ require: () => Storage, E: { CRC32: crc32OfByteString } });
  const replies = new Map<number, unknown>();
  let n = 0;
  const run = (expr: string) => vm.runInContext(`(${expr})`, ctx);
  const repl: InstallRepl = {
    wake: async () => ({ VERSION: "2v29", BOARD: "ESP32" }),
    post: async (expr) => (replies.set(++n, run(expr)), n),
    reply: async (id) => replies.get(id),
    eval: async (expr) => run(expr),
    send: async () => {},
  };
  return { repl, files };
}

test("install protocol: each Storage module is written, verified and in place beside .bootcde", async () => {
  const { repl, files } = fakeBoard();
  const mods = appModulesNextTo(APP);
  await installApp(repl, { app: "print(1)", modules: mods, settings: { a: 1 }, noReset: true });
  assert.equal(files.get(WS), mods[WS]);
  assert.equal(files.get(".bootcde"), "print(1)");
  assert.deepEqual([...files.keys()].filter((f) => f.startsWith(".wisp-")), [], "no temporary file left");
});
