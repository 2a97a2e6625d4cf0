/**
 * The espruino engine's ESP32 shims (host-tools/espruino/shims.ts) on the real
 * interpreter: each behaviour follows the ESP32 port's source (docs/espruino.md
 * cites file and function), and deep sleep is a kill + timed restart that lets
 * nothing queued leave.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { startEspruinoBoard, type EspruinoBoard } from "../../host-tools/espruino/board.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

const skip = skipUnlessEspruino();

async function withBoard(appCode: string, opts: Parameters<typeof startEspruinoBoard>[0], fn: (b: EspruinoBoard) => Promise<void>): Promise<void> {
  const b = await startEspruinoBoard({ appCode, settings: null, ...opts });
  try {
    await fn(b);
    assert.deepEqual(b.uncaught(), []);
  } finally {
    await b.stop();
  }
}

test("Wifi.connect: callback(null), then 'associated' and 'connected'; getStatus has rssi, getDetails has none", { skip }, async () => {
  const app = `var W=require("Wifi");
W.on("associated",function(d){print("EV associated "+d.ssid);});
W.on("connected",function(d){print("EV connected "+d.ip);});
print("BEFORE "+JSON.stringify(W.getStatus()));
W.connect("lab",{password:"pw"},function(err){print("CB "+err);
print("STATUS "+JSON.stringify(W.getStatus()));
print("DETAILS "+JSON.stringify(W.getDetails()));
print("IP "+JSON.stringify(W.getIP()));});`;
  await withBoard(app, { wifi: { connectMs: 150, rssi: -71 } }, async (b) => {
    const status = JSON.parse((await b.waitForConsole(/^STATUS /, 15000)).slice(7));
    const details = JSON.parse((await b.waitForConsole(/^DETAILS /, 5000)).slice(8));
    const ip = JSON.parse((await b.waitForConsole(/^IP /, 5000)).slice(3));
    await b.waitForConsole(/^EV connected/, 5000);
    const lines = b.consoleLines();
    const before = JSON.parse(lines.find((l) => l.startsWith("BEFORE "))!.slice(7));
    assert.equal(before.station, "Unknown reason");
    assert.equal(before.mode, "NULL");
    assert.ok(lines.includes("CB null"), lines.join("\n"));
    // the completion callback is queued before the 'connected' event (sendWifiCompletionCB, then sendWifiEvent)
    assert.ok(lines.indexOf("CB null") < lines.indexOf("EV connected 192.168.4.20"), lines.join("\n"));
    assert.ok(lines.indexOf("EV associated lab") < lines.indexOf("EV connected 192.168.4.20"));
    assert.equal(status.station, "connected");
    assert.equal(status.rssi, -71);
    assert.equal(details.status, "connected");
    assert.equal("rssi" in details, false, "getDetails() has no rssi on the ESP32 port");
    assert.equal(ip.ip, "192.168.4.20");
    assert.ok(b.events.some((e) => e.type === "wifi" && e.state === "connected" && e.rssi === -71));
  });
});

test("Wifi.connect with no access point: retries, then 'disconnected' and callback with the reason; the radio stops", { skip }, async () => {
  const app = `var W=require("Wifi"), t0=getTime();
W.on("disconnected",function(d){print("EV disconnected "+d.reason+" "+d.msg);});
W.connect("lab",{},function(err){print("CB "+err+" after "+Math.round((getTime()-t0)*1000));print("STATUS "+JSON.stringify(W.getStatus()));});`;
  await withBoard(app, { wifi: { ap: false, connectMs: 200 } }, async (b) => {
    const cb = await b.waitForConsole(/^CB /, 15000);
    const status = JSON.parse((await b.waitForConsole(/^STATUS /, 5000)).slice(7));
    await b.waitForConsole(/^EV disconnected/, 5000);
    assert.match(cb, /^CB NO_AP_FOUND after (\d+)$/);
    // s_retry_num = 3: three association attempts of 200 ms each before giving up
    assert.ok(Number(/after (\d+)/.exec(cb)![1]) >= 3 * 200 - 20, cb);
    assert.ok(b.consoleLines().includes("EV disconnected 201 NO_AP_FOUND"));
    assert.equal(status.station, "NO_AP_FOUND");
    assert.equal(status.mode, "NULL");
    assert.equal(b.events.filter((e) => e.type === "wifi" && e.state === "disconnected").length, 1);
  });
});

test("a drop after connecting: the leftover retries run out while the AP is away, then the port never reconnects", { skip }, async () => {
  const app = `var W=require("Wifi");
W.on("disconnected",function(d){print("EV disconnected "+d.msg);});
W.on("connected",function(){print("EV connected");});
W.connect("lab",{},function(err){print("CB "+err);});`;
  await withBoard(app, { wifi: { connectMs: 100 } }, async (b) => {
    await b.waitForConsole(/^EV connected/, 15000);
    // the AP goes away for 1.5 s: two silent retries of 100 ms fail, then 'disconnected'
    await b.it!.eval("require('Wifi')._drop(1500)");
    await b.waitForConsole(/^EV disconnected BEACON_TIMEOUT|^EV disconnected NO_AP_FOUND/, 10000);
    await new Promise((r) => setTimeout(r, 2500)); // the AP is back by now
    const st = await b.it!.eval<{ station: string }>("require('Wifi').getStatus()");
    assert.notEqual(st.station, "connected");
    assert.equal(b.consoleLines().filter((l) => l === "EV connected").length, 1, "no automatic reconnect");
  });
});

test("ESP32.deepSleep: nothing queued leaves, the board wakes after the sleep with wake cause 4 and the same Storage", { skip }, async () => {
  const got: Buffer[] = [];
  const server = net.createServer((s) => s.on("data", (d) => got.push(d)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const app = `var S=require("Storage"), n=(S.read("n")|0)+1; S.write("n",""+n);
print("BOOT "+n+" cause "+ESP32.getWakeupCause());
if (n===1) { var c=require("net").connect({host:"127.0.0.1",port:${port}},function(){
  c.write("bye"); ESP32.deepSleep(400000); print("NOT REACHED");
}); }`;
  try {
    await withBoard(app, {}, async (b) => {
      await b.waitForConsole(/^BOOT 2 cause 4$/, 20000);
      const sleep = b.events.find((e) => e.type === "sleep");
      assert.ok(sleep && sleep.type === "sleep" && sleep.us === 400000 && sleep.wakes);
      assert.ok(b.consoleLines().includes("BOOT 1 cause 0"));
      assert.ok(!b.consoleLines().includes("NOT REACHED"));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(Buffer.concat(got).toString(), "", "a write queued before deep sleep must not reach the peer");
    });
  } finally {
    server.close();
  }
});

test("ESP32.deepSleep takes a 32-bit int: 3e9 us wraps negative and never wakes; 2^32 + 300000 us wraps to 0.3 s", { skip }, async () => {
  const app = `var S=require("Storage"), n=(S.read("n")|0)+1; S.write("n",""+n);
print("BOOT "+n);
if (n===1) ESP32.deepSleep(4294967296+300000); else if (n===2) ESP32.deepSleep(3e9);`;
  await withBoard(app, {}, async (b) => {
    await b.waitForConsole(/^BOOT 2$/, 20000);
    const s2 = await b.waitForEvent((e) => e.type === "sleep" && e.us !== 300000, 10000, "the second sleep");
    const sleeps = b.events.filter((e) => e.type === "sleep");
    assert.equal(sleeps[0].type === "sleep" && sleeps[0].us, 300000);
    assert.ok(s2.type === "sleep" && s2.us === -1294967296 && !s2.wakes && s2.ms > 1e13);
  });
});
