/**
 * The MQTT client bundle (dist/espruino/client.js) on the real interpreter, loaded
 * from Storage with `eval(require("Storage").read(...))` as a board would (function
 * bodies stay in flash), against aedes and against a mosquitto started here, with
 * MQTT.js as the independent peer. The driver below is the test's Espruino-side
 * platform: real `net` sockets of the interpreter, Storage, timers; it prints each
 * client callback as an `EV [...]` line the host parses.
 *
 * The host drives the driver with `EspruinoBoard.eval`, over the control link the
 * engine's `.boot0` shim opens, not the console: the Linux build's console input is
 * racy (its input thread appends to the event the main loop is reading; seen as
 * garbled and re-executed lines, e.g. one publish run four times), which a test of
 * exactly-once cannot afford. Socket data is read by the main loop itself.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import mqtt from "mqtt";
import { startAedes, type EmbeddedBroker } from "../../host-tools/emulator/broker.ts";
import { startEspruinoBoard, type EspruinoBoard } from "../../host-tools/espruino/board.ts";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { mosquittoSkip, startMosquitto, type Mosquitto } from "../helpers/mosquitto.ts";
import { assertNoUncaught, observe, until } from "./engine-harness.ts";

const skipEspruino = skipUnlessEspruino();
const skipMosquitto = skipEspruino || mosquittoSkip();
const CLIENT = path.join(REPO_ROOT, "dist", "espruino", "client.js");

/** Test settings (Storage test.json) -> the client, its callbacks -> console lines. */
const DRIVER = String.raw`eval(require("Storage").read("client.js"));
var H=JSON.parse(require("Storage").read("test.json"));
function ev(a){print("EV "+JSON.stringify(a));}
var P={t0:getTime(),
millis:function(){return Math.floor((getTime()-P.t0)*1000);},
after:function(ms,fn){return setTimeout(fn,ms);},
cancel:function(id){clearTimeout(id);},
open:function(host,port,secure,h){
  var reason="closed", closed=false;
  var s=require("net").connect({host:host,port:port},function(){h.onOpen();});
  s.on("data",function(d){h.onData(d);});
  s.on("error",function(e){reason=(e&&e.message)?e.message:"socket error";});
  s.on("close",function(){if(closed)return;closed=true;h.onClose(reason);});
  return {write:function(d){if(closed)return false;s.write(d);return true;},close:function(){s.end();}};
},
wifiUp:function(){return true;},rssi:function(){return -60;},batteryVolts:function(){return 3.9;},
freeMemory:function(){return process.memory(false).free;},
storageRead:function(n){var s=require("Storage").read(n);return typeof s==="string"?s:null;},
storageWrite:function(n,d){return require("Storage").write(n,d)===true;},
settings:function(){return null;},deepSleep:function(){},wakeCause:function(){return "power-on";},
random:function(){return Math.random();},log:function(l){print("LOG "+l);}};
var cfg=new wisp.ClientConfig();
cfg.host="127.0.0.1";cfg.port=H.port;cfg.backoffMinMs=300;
var k=cfg.connect;k.clientId=H.id;k.keepAlive=H.ka;k.cleanSession=H.clean;
if(H.will){k.willTopic=H.will;k.willMessage="gone";k.willQos=1;k.willRetain=false;}
var C=new wisp.Client(P,cfg);
C.onConnect=function(sp){ev(["connect",sp]);};
C.onDisconnect=function(c,r){ev(["disconnect",c,r]);};
C.onMessage=function(t,p,q,r){ev(["message",t,p,q,r]);};
C.onPublished=function(id){ev(["published",id]);};
C.onSubscribed=function(f,c){ev(["subscribed",f,c]);};
C.onError=function(c,d){ev(["error",c,d]);};
C.connect();
`;

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  while (open.length) await open.pop()!().catch(() => {});
});

interface Broker {
  url: string;
  port: number;
  /** PINGREQs the broker has seen from `id`. */
  pings(id: string): number;
  close(): Promise<void>;
}

async function aedesBroker(): Promise<Broker> {
  const b: EmbeddedBroker = await startAedes();
  const pings = new Map<string, number>();
  b.aedes.on("ping", (_p, client) => pings.set(client.id, (pings.get(client.id) ?? 0) + 1));
  return { url: b.url, port: b.port, pings: (id) => pings.get(id) ?? 0, close: () => b.close() };
}

async function mosquittoBroker(): Promise<Broker> {
  const m: Mosquitto = await startMosquitto({ verbose: true });
  return {
    url: m.url,
    port: m.port,
    pings: (id) => m.log().split("\n").filter((l) => l.includes(`Received PINGREQ from ${id}`)).length,
    close: () => m.stop(),
  };
}

type Ev = [string, ...unknown[]];

function events(b: EspruinoBoard): Ev[] {
  return b.consoleLines().filter((l) => l.startsWith("EV ")).map((l) => JSON.parse(l.slice(3)) as Ev);
}

interface Device {
  b: EspruinoBoard;
}

async function device(broker: Broker, id: string, opts: { ka?: number; clean?: boolean; will?: string; dir?: string } = {}): Promise<Device> {
  const test = { port: broker.port, id, ka: opts.ka ?? 30, clean: opts.clean ?? true, will: opts.will ?? null };
  const b = await startEspruinoBoard({
    appCode: DRIVER,
    settings: null,
    dir: opts.dir,
    files: { "client.js": fs.readFileSync(CLIENT, "latin1"), "test.json": JSON.stringify(test) },
  });
  open.push(() => b.stop());
  await until(() => events(b).some((e) => e[0] === "connect"), 15000, `${id} connected`, () => b.consoleTail());
  return { b };
}


for (const [name, start, skip] of [
  ["aedes", aedesBroker, skipEspruino],
  ["mosquitto", mosquittoBroker, skipMosquitto],
] as const) {
  describe(`client.js on the real interpreter against ${name}`, { skip }, () => {
    test("QoS 0/1/2 both ways, exactly once to the app; subscribe then unsubscribe", async (t) => {
      const broker = await start();
      open.push(() => broker.close());
      const peer = await observe(broker.url, "dev/out/#");
      open.push(() => peer.close());
      const { b } = await device(broker, `qos-${name}`);
      await b.eval(`C.subscribe(["dev/in/#"],[2],null)`);
      await until(() => events(b).some((e) => e[0] === "subscribed"), 10000, "SUBACK", () => b.consoleTail());
      assert.deepEqual(events(b).find((e) => e[0] === "subscribed"), ["subscribed", "dev/in/#", 2]);
      // peer -> device at each QoS (payload with every kind of byte the codec must carry)
      for (const qos of [0, 1, 2] as const) await peer.client.publishAsync(`dev/in/q${qos}`, Buffer.from(`m${qos}\u0000\u00ff`, "latin1"), { qos });
      // device -> peer at each QoS
      const ids: number[] = [];
      for (const qos of [0, 1, 2]) ids.push(await b.eval<number>(`C.publish("dev/out/q${qos}","d${qos}",${qos},false)`));
      await until(() => peer.seen.length >= 3 && events(b).filter((e) => e[0] === "message").length >= 3 && events(b).filter((e) => e[0] === "published").length >= 2,
        15000, "three messages each way", () => b.consoleTail());
      await new Promise((r) => setTimeout(r, 700)); // room for a duplicate to show up
      const got = events(b).filter((e) => e[0] === "message");
      assert.deepEqual(got.map((e) => [e[1], e[2], e[3]]).sort(), [["dev/in/q0", "m0\u0000\u00ff", 0], ["dev/in/q1", "m1\u0000\u00ff", 1], ["dev/in/q2", "m2\u0000\u00ff", 2]]);
      assert.deepEqual(peer.seen.map((m) => [m.topic, m.payload, m.qos]).sort(), [["dev/out/q0", "d0", 0], ["dev/out/q1", "d1", 1], ["dev/out/q2", "d2", 2]]);
      assert.equal(ids[0], 0);
      assert.deepEqual(events(b).filter((e) => e[0] === "published").map((e) => e[1]).sort(), [ids[1], ids[2]].sort(), "PUBACK and PUBCOMP complete exactly the QoS 1 and 2 ids");
      // unsubscribe: nothing more arrives
      await b.eval(`C.unsubscribe(["dev/in/#"])`);
      await new Promise((r) => setTimeout(r, 800));
      await peer.client.publishAsync("dev/in/late", "late", { qos: 1 });
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(events(b).filter((e) => e[0] === "message").length, 3);
      assert.deepEqual(events(b).filter((e) => e[0] === "error"), []);
      assertNoUncaught(t, b.uncaught());
    });

    test("keep-alive: the broker sees PINGREQs and keeps the idle link", async (t) => {
      const broker = await start();
      open.push(() => broker.close());
      const id = `ka-${name}`;
      const { b } = await device(broker, id, { ka: 1 });
      await until(() => broker.pings(id) >= 3, 15000, "three PINGREQs at the broker", () => b.consoleTail());
      assert.deepEqual(events(b).filter((e) => e[0] === "disconnect"), [], "the link stays up");
      assertNoUncaught(t, b.uncaught());
    });

    test("the will is published when the link is cut (interpreter killed)", async (t) => {
      const broker = await start();
      open.push(() => broker.close());
      const peer = await observe(broker.url, "dev/will/#");
      open.push(() => peer.close());
      const { b } = await device(broker, `will-${name}`, { ka: 2, will: `dev/will/${name}` });
      const uncaught = b.uncaught();
      await b.kill();
      await until(() => peer.seen.some((m) => m.topic === `dev/will/${name}` && m.payload === "gone"), 15000, "the will");
      assertNoUncaught(t, uncaught);
    });

    test("a persistent session is resumed after a restart: what was sent meanwhile arrives", async (t) => {
      const broker = await start();
      open.push(() => broker.close());
      const id = `sess-${name}`;
      const { b } = await device(broker, id, { clean: false });
      await b.eval(`C.subscribe(["dev/sess/#"],[1],null)`);
      await until(() => events(b).some((e) => e[0] === "subscribed"), 10000, "SUBACK");
      await b.eval(`C.disconnect()`);
      await until(() => events(b).some((e) => e[0] === "disconnect"), 10000, "DISCONNECT done", () => b.consoleTail());
      await new Promise((r) => setTimeout(r, 300));
      const before = b.uncaught();
      await b.kill();
      const peer = await mqtt.connectAsync(broker.url, { clientId: `peer-${id}`, reconnectPeriod: 0 });
      await peer.publishAsync("dev/sess/x", "while-off", { qos: 1 });
      await peer.endAsync();
      await b.restart();
      await until(() => events(b).some((e) => e[0] === "message"), 15000, "the queued message after restart", () => b.consoleTail());
      const lastConnect = events(b).filter((e) => e[0] === "connect").at(-1);
      assert.deepEqual(lastConnect, ["connect", true], "session present on the second CONNECT");
      assert.deepEqual(events(b).find((e) => e[0] === "message"), ["message", "dev/sess/x", "while-off", 1, false]);
      assertNoUncaught(t, [...before, ...b.uncaught()]);
    });
  });
}
