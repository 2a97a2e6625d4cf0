/**
 * The hostile-broker suite on the real Espruino interpreter: dist/espruino/client.js
 * loaded from Storage (function bodies stay in flash, as on a board), with a Platform
 * written in plain Espruino JavaScript over require("net"). One interpreter for all
 * scenarios (a new client each) keeps the run short; no `Uncaught` may appear. The
 * board prints each event as an `EV {...}` line, so the host reads them from the
 * console instead of polling with evaluations; the few evaluations go over the
 * interpreter's control socket (Interpreter.start's default), not the console.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
import { artifactPath } from "../helpers/artifacts.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import type { BoardEvents, Driver } from "./run.ts";
import { runScenario } from "./run.ts";
import { SCENARIOS, type Scenario } from "./scenarios.ts";

const skip = skipUnlessEspruino();

/** The board side: a Platform over Espruino's net and Storage, and an event record the host polls. */
const BOARD_JS = `
var EV = { log: [] };
function ev(o) { print("EV " + JSON.stringify(o)); }
var C = null;
function Plat() { this.t0 = getTime(); }
Plat.prototype.millis = function () { return Math.floor((getTime() - this.t0) * 1000); };
Plat.prototype.after = function (ms, fn) { return setTimeout(fn, ms); };
Plat.prototype.cancel = function (id) { clearTimeout(id); };
Plat.prototype.open = function (host, port, secure, h) {
  var sock = require("net").connect({ host: host, port: port }, function () { h.onOpen(); });
  var reason = "closed";
  var link = { closed: false };
  link.write = function (d) { if (link.closed) return false; sock.write(d); return true; };
  link.close = function () { if (!link.closed) sock.end(); };
  sock.on("data", function (d) { h.onData(d); });
  sock.on("error", function (e) { reason = e && e.message ? e.message : "socket error"; });
  sock.on("close", function () { if (link.closed) return; link.closed = true; h.onClose(reason); });
  return link;
};
Plat.prototype.wifiUp = function () { return true; };
Plat.prototype.rssi = function () { return -60; };
Plat.prototype.batteryVolts = function () { return 3.9; };
Plat.prototype.freeMemory = function () { return process.memory().free; };
Plat.prototype.storageRead = function (n) { var s = require("Storage").read(n); return typeof s === "string" ? s : null; };
Plat.prototype.storageWrite = function (n, d) { return require("Storage").write(n, d); };
Plat.prototype.settings = function () { return null; };
Plat.prototype.deepSleep = function () {};
Plat.prototype.wakeCause = function () { return "power-on"; };
Plat.prototype.random = function () { return Math.random(); };
Plat.prototype.log = function (l) { EV.log.push(l); if (EV.log.length > 30) EV.log.shift(); };
function code(c) { ev({ c: c, n: wisp.clientErrorName(c) }); }
function startClient(port, o) {
  EV = { log: [] };
  var cfg = new wisp.ClientConfig();
  cfg.host = "127.0.0.1"; cfg.port = port;
  cfg.connect.clientId = "h1"; cfg.connect.cleanSession = false; cfg.connect.keepAlive = o.keepAlive;
  for (var k in o.cfg) cfg[k] = o.cfg[k];
  C = new wisp.Client(new Plat(), cfg);
  C.onError = function (c, d) { code(c); };
  C.onDisconnect = function (c, r) { code(c); ev({ up: 0 }); };
  var acked = 0, r3 = false;
  C.onPublished = function () { acked++; if (acked >= 2 && C.connected() && !r3) { r3 = true; ev({ r3: C.publish("wisp/h1/telemetry", "r3", 1, false) }); } };
  C.onConnect = function () { ev({ up: 1 }); };
  C.onMessage = function (t, p) { ev({ m: p }); };
  C.subscribe(["in/#"], [1], null);
  C.publish("wisp/h1/telemetry", "r1", 1, false);
  C.publish("wisp/h1/telemetry", "r2", 2, false);
  C.connect();
}
`;

let it: Interpreter;

before(async () => {
  if (skip) return;
  it = await Interpreter.start();
  await it.writeFileFromHost("client.js", fs.readFileSync(artifactPath("espruino", "client"), "latin1"));
  await it.writeFileFromHost("board.js", BOARD_JS);
  await it.eval('eval(require("Storage").read("client.js"))', 20000);
  await it.eval('eval(require("Storage").read("board.js"))', 20000);
});

after(async () => {
  if (it) await it.stop();
});

class EspruinoDriver implements Driver {
  private from = 0;
  async start(port: number, sc: Scenario): Promise<void> {
    this.from = it.output.length;
    const o = {
      keepAlive: sc.keepAlive ?? 60,
      cfg: { backoffMinMs: 100, backoffMaxMs: 200, backoffCeilingMs: 400, ...(sc.cfg ?? {}) },
    };
    await it.eval(`startClient(${port}, ${JSON.stringify(o)})`);
  }
  async events(): Promise<BoardEvents> {
    const e: BoardEvents = { codes: [], names: [], messages: [], connected: false };
    for (const line of it.output.slice(this.from).split("\n")) {
      const m = /EV (\{[^{}]*\})/.exec(line);
      if (!m) continue;
      let o: any;
      try {
        o = JSON.parse(m[1]);
      } catch {
        continue;
      }
      if (o.c !== undefined) {
        e.codes.push(o.c);
        e.names.push(o.n);
      }
      if (o.m !== undefined) e.messages.push(o.m);
      if (o.up !== undefined) e.connected = o.up === 1;
    }
    return e;
  }
  /** The board publishes r3 itself once r1 and r2 are acknowledged (evaluations while it prints are unreliable). */
  readonly publishesR3 = true;
  async publish(): Promise<number> {
    return 0;
  }
  async stop(): Promise<void> {
    await it.eval("C.disconnect()");
    await new Promise((r) => setTimeout(r, 300));
  }
}

for (const sc of SCENARIOS) {
  test(`hostile broker (Espruino): ${sc.name}`, { skip, timeout: 60000 }, async () => {
    const from = it.output.length;
    await runScenario(new EspruinoDriver(), sc);
    assert.deepEqual(it.uncaught(from), [], "no Uncaught on the interpreter during this scenario");
  });
}
