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
const it = await bootEspruino(dir, "app", 0, false); // no control link in the measured RAM
try {
  await it.waitFor(/publish seq=3/, 30000, "three readings");
  await new Promise((r) => setTimeout(r, 300));
  const usage = await it.eval<number>("process.memory().usage");
  console.log(`app after boot, connect and three readings: ${usage} blocks in use (interpreter with nothing loaded: ~50)`);
} finally {
  await it.stop();
  rmDir(dir);
  server.close();
  broker.close();
}
