/**
 * Blocks on the real interpreter (issue 11's memory figures for the client):
 *   node --import tsx test/client/blocks.ts [dist/espruino/client.js]
 * Loads the client bundle from Storage, then builds one client with the board's
 * default buffers (ClientConfig defaults), connects it to aedes on 127.0.0.1 with
 * one subscription, and prints process.memory().usage after each step (blocks, the
 * interpreter's own count; one block is 14 bytes on ESP32). `npm run bench` prints the
 * same figures (measureClientBlocks).
 */
import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Aedes } from "aedes";
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";

export interface ClientBlocks {
  /** What loading the bundle from Storage holds. */
  bundle: number;
  /** What one connected client with one subscription holds on top. */
  connected: number;
}

export async function measureClientBlocks(file: string): Promise<ClientBlocks> {
  const platform = fs.readFileSync(new URL("../hostile/espruino.test.ts", import.meta.url), "utf8");
  const boardJs = platform.slice(platform.indexOf("const BOARD_JS = `") + 18, platform.indexOf("`;\n\nlet it"));
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const it = await Interpreter.start();
  try {
    await it.writeFileFromHost("client.js", fs.readFileSync(file, "latin1"));
    await it.writeFileFromHost("board.js", boardJs);
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
    return { bundle: bundle - plat, connected: connected - bundle };
  } finally {
    await it.stop();
    server.close();
    broker.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? "dist/espruino/client.js";
  const b = await measureClientBlocks(file);
  console.log(`${file}: bundle from Storage ${b.bundle} blocks; connected client with one subscription ${b.connected}; total ${b.bundle + b.connected}`);
}
