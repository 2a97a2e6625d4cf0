/**
 * Blocks on the real interpreter (issue 11's memory figures for the client):
 *   node --import tsx test/client/blocks.ts [dist/espruino/client.js]
 * Loads the client bundle from Storage, then builds one client with the board's
 * default buffers (ClientConfig defaults), connects it to aedes on 127.0.0.1 with
 * one subscription, and prints process.memory().usage after each step (blocks, the
 * interpreter's own count; one block is 14 bytes on ESP32).
 */
import fs from "node:fs";
import { Aedes } from "aedes";
import net from "node:net";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";

const file = process.argv[2] ?? "dist/espruino/client.js";
const PLATFORM = fs.readFileSync(new URL("../hostile/espruino.test.ts", import.meta.url), "utf8");
const BOARD_JS = PLATFORM.slice(PLATFORM.indexOf("const BOARD_JS = `") + 18, PLATFORM.indexOf("`;\n\nlet it"));

const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const port = (server.address() as net.AddressInfo).port;
const it = await Interpreter.start();
try {
  const base = await it.eval<number>("process.memory().usage");
  await it.writeFileFromHost("client.js", fs.readFileSync(file, "latin1"));
  await it.writeFileFromHost("board.js", BOARD_JS);
  await it.eval('eval(require("Storage").read("board.js"))', 20000);
  const plat = await it.eval<number>("process.memory().usage");
  await it.eval('eval(require("Storage").read("client.js"))', 20000);
  const bundle = await it.eval<number>("process.memory().usage");
  // over the control link (global scope), not the racy console
  await it.eval(
    'var cfg=new wisp.ClientConfig();cfg.host="127.0.0.1";cfg.port=' + port +
      ';cfg.connect.clientId="blocks";var K=new wisp.Client(new Plat(),cfg);K.onConnect=function(){print("UP");};K.subscribe(["cmd/#"],[1],function(){});K.connect();1',
  );
  await it.waitFor(/UP/, 10000, "connected");
  await new Promise((r) => setTimeout(r, 500));
  const connected = await it.eval<number>("process.memory().usage");
  console.log(`${file}: bundle from Storage ${bundle - plat} blocks; connected client with one subscription ${connected - bundle}; total ${connected - plat} (interpreter at start ${base})`);
} finally {
  await it.stop();
  server.close();
  broker.close();
}
