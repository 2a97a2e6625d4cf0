import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { withTimeout } from "./fixtures/util.ts";

test("Wi-Fi: connect callback, events, getStatus/getIP with RSSI, scripted drop-out closes sockets, and a connect without Wi-Fi throws", { timeout: 20_000 }, async () => {
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
      W.on("disconnected", function () { log.push("disconnected"); });
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
      "disconnected", // drop-out at 10 s
      "a close",
      "during connecting",
      // no route: the ESP32 port's blocking connect fails and net.connect throws at once
      "b throws InternalError: Unable to create socket",
      "connected 192.168.4.20", // AP back at 15 s, +1.2 s association, retried by itself
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
