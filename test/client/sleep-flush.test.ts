/**
 * Flush before deep sleep, on the real Espruino interpreter (issue 10 case 4): the
 * app sleeps only after its socket has closed, so the broker gets the DISCONNECT and
 * the retained status stays `sleeping`; before, the DISCONNECT was still queued when
 * the board slept and the broker published the will (`offline`) on every cycle.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { bootEspruino, flashEspruino, rmDir } from "./espruino-app.ts";
import { cleanupAll, onCleanup, peer, sleep, startAedes, waitFor } from "./harness.ts";

after(cleanupAll);
const skip = skipUnlessEspruino();

test("sleep mode on the real interpreter: three wakes, status 'sleeping' after each, the will never fires", { skip, timeout: 90_000 }, async () => {
  const b = await startAedes();
  const obs = await peer(b.port);
  const status: string[] = [];
  obs.on("message", (topic, payload) => {
    if (topic === "wisp/s1/status") status.push(payload.toString());
  });
  await obs.subscribeAsync("wisp/s1/status", { qos: 1 });
  const settings = {
    clientId: "s1", brokerHost: "127.0.0.1", brokerPort: b.port, brokerScheme: "mqtt", topicPrefix: "wisp",
    wifiSsid: "ap", wifiPassword: "", mode: "sleep", intervalSeconds: 60, keepAliveSeconds: 30, commands: false,
  };
  const dir = await flashEspruino("app", settings);
  onCleanup(() => rmDir(dir));
  for (let wake = 0; wake < 3; wake++) {
    const it = await bootEspruino(dir, "app", wake === 0 ? 0 : 4);
    onCleanup(() => it.stop());
    await it.waitFor(/SLEEP \d+/, 30_000, `deep sleep #${wake + 1}`).catch((e) => {
      throw new Error(e.message + "\n" + it.output.slice(-3000));
    });
    await it.exited;
    await waitFor(() => status.filter((s) => s === "sleeping").length >= wake + 1, `'sleeping' #${wake + 1}`, 10_000);
  }
  await sleep(1500); // a will would follow the lost connection at once
  assert.deepEqual(status, ["online", "sleeping", "online", "sleeping", "online", "sleeping"]);
});
