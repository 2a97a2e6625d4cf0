import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { withTimeout } from "./fixtures/util.ts";

test("Wi-Fi as on the ESP32 port: a drop-out closes sockets; a connect without Wi-Fi throws; the port's retries fail, it reports 'disconnected' and never rejoins by itself; Wifi.connect again does", { timeout: 20_000 }, async () => {
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  const port = (echo.address() as net.AddressInfo).port;
  const board = startBoard({
    storageFile: null,
    clock: "virtual",
    wifi: { rssi: -71, rssiNoiseDb: 0, dropouts: [{ atMs: 10_000, durationMs: 5_000 }] },
    appCode: `
      var W = require("Wifi"), log = [], sock;
      W.on("connected", function (d) { log.push("connected " + d.ip); });
      W.on("disconnected", function (d) { log.push("disconnected " + d.reason); });
      function open(tag) {
        var s = require("net").connect({host: "127.0.0.1", port: ${port}}, function () { log.push(tag + " open"); s.write("\\xff\\x00ping"); });
        s.on("data", function (d) { log.push(tag + " data " + d.length + " " + d.charCodeAt(0)); });
        s.on("error", function (e) { log.push(tag + " error " + e.message); });
        s.on("close", function () { log.push(tag + " close"); });
        return s;
      }
      W.connect("ap", {password: "pw"}, function (err) {
        log.push("cb " + err);
        var st = W.getStatus();
        log.push("status " + st.station + " " + st.rssi);
        log.push("ip " + W.getIP().ip);
        sock = open("a");
      });
      setTimeout(function () {
        log.push("during " + W.getStatus().station);
        try { open("b"); } catch (e) { log.push("b throws " + e); }
      }, 12000);
      setTimeout(function () {
        log.push("after " + W.getStatus().station);
        W.connect("ap", {password: "pw"}, function (err) { log.push("cb2 " + err); });
      }, 20000);
      setTimeout(function () { open("c"); }, 30000);`,
  });
  try {
    await withTimeout(board.runFor(40_000), 15_000, "40 s");
    const log = board.evaluate("log") as string[];
    assert.deepEqual([...log], [
      "connected 192.168.4.20",
      "cb null",
      "status connected -71",
      "ip 192.168.4.20",
      "a open",
      "a data 6 255",
      "a close", // drop-out at 10 s: no event yet, the port retries twice (1.2 s each)
      "during connecting",
      // no route: the ESP32 port's blocking connect fails and net.connect throws at once
      "b throws InternalError: Unable to create socket",
      "disconnected no_ap_found", // retries spent at 12.4 s: reported once (the last try's reason), radio stopped
      "after off", // the AP came back at 15 s; the port did not rejoin
      "connected 192.168.4.20", // the program joins again
      "cb2 null",
      "c open",
      "c data 6 255",
    ]);
  } finally {
    board.stop();
    echo.close();
  }
});

test("same seed, same run: RSSI noise and Math.random are deterministic", async () => {
  const run = async (seed: number) => {
    const b = startBoard({
      storageFile: null,
      clock: "virtual",
      seed,
      appCode: `var W = require("Wifi"), r = []; W.connect("ap", {}, function () {
        setInterval(function () { r.push(W.getStatus().rssi, Math.floor(Math.random() * 1000)); }, 1000); });`,
    });
    await b.runFor(10_000);
    const r = JSON.stringify(b.evaluate("r"));
    b.stop();
    return r;
  };
  assert.equal(await run(3), await run(3));
  assert.notEqual(await run(3), await run(4));
});

test("Wifi.connect with the AP away: three tries, then 'disconnected' and the callback with the reason, then nothing", { timeout: 10_000 }, async () => {
  const board = startBoard({
    storageFile: null,
    clock: "virtual",
    wifi: { dropouts: [{ atMs: 0, durationMs: 20_000 }] },
    appCode: `
      var W = require("Wifi"), log = [], t0 = getTime();
      W.on("connected", function () { log.push("connected"); });
      W.on("disconnected", function (d) { log.push("disconnected " + d.reason); });
      W.connect("ap", {}, function (err) { log.push("cb " + err + " at " + Math.round(getTime() - t0)); });
      setTimeout(function () { log.push("later " + W.getStatus().station); }, 30000);`,
  });
  try {
    await withTimeout(board.runFor(40_000), 10_000, "40 s");
    assert.deepEqual([...(board.evaluate("log") as string[])], ["disconnected no_ap_found", "cb no_ap_found at 4", "later off"]);
  } finally {
    board.stop();
  }
});

test("RSSI: getStatus() has it, getDetails() has none (as on ESP32)", { timeout: 10_000 }, async () => {
  const board = startBoard({
    storageFile: null,
    clock: "virtual",
    wifi: { rssi: -67, rssiNoiseDb: 0 },
    appCode: `var W = require("Wifi"), r = [];
      W.connect("ap", {}, function () { r.push(W.getStatus().rssi, typeof W.getDetails().rssi); });`,
  });
  try {
    await board.runFor(5_000);
    assert.deepEqual([...(board.evaluate("r") as unknown[])], [-67, "undefined"]);
  } finally {
    board.stop();
  }
});
