/**
 * Blocks the app holds on the real interpreter after boot and connect (issue 11):
 *   node --import tsx test/client/app-blocks.ts
 * dist/espruino/app.js from Storage with the Wifi/ESP32 shims of espruino-app.ts,
 * stay mode against aedes on 127.0.0.1; process.memory().usage after the second
 * reading is acknowledged.
 */
import net from "node:net";
import { Aedes } from "aedes";
import { bootEspruino, flashEspruino, rmDir } from "./espruino-app.ts";

const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const port = (server.address() as net.AddressInfo).port;
const dir = await flashEspruino("app", {
  clientId: "blocks", brokerHost: "127.0.0.1", brokerPort: port, brokerScheme: "mqtt", topicPrefix: "wisp",
  wifiSsid: "ap", wifiPassword: "", mode: "stay", intervalSeconds: 2, keepAliveSeconds: 60,
});
// Over the control link (the console is racy: a run in three died on it), which is up
// before anything loads: its blocks are in `base` and left out of the app's figure.
let base = 0;
const it = await bootEspruino(dir, "app", 0, true, async (i) => {
  base = await i.eval<number>("process.memory().usage");
});
try {
  await it.waitFor(/publish seq=3/, 30000, "three readings");
  await new Promise((r) => setTimeout(r, 300));
  const usage = await it.eval<number>("process.memory().usage");
  console.log(`app (with the Wifi/ESP32 shims) after boot, connect and three readings: ${usage - base} blocks (${usage} in use; the interpreter and its control link before loading: ${base})`);
} finally {
  await it.stop();
  rmDir(dir);
  server.close();
  broker.close();
}
