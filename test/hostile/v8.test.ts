/**
 * The hostile-broker suite on V8: dist/espruino/client.js in the Espruino-shaped
 * sandbox, real sockets on 127.0.0.1 (test/client/harness.ts NodePlatform).
 */
import { after, test } from "node:test";
import { cleanupAll, makeClient, type TestClient } from "../client/harness.ts";
import type { Driver } from "./run.ts";
import { runScenario } from "./run.ts";
import { SCENARIOS, type Scenario } from "./scenarios.ts";

after(cleanupAll);

/** Client settings every scenario shares: small back-off so recovery takes seconds. */
export function hostileConfig(cfg: any, sc: Scenario): void {
  cfg.connect.clientId = "h1";
  cfg.connect.cleanSession = false;
  cfg.connect.keepAlive = sc.keepAlive ?? 60;
  cfg.backoffMinMs = 100;
  cfg.backoffMaxMs = 200;
  cfg.backoffCeilingMs = 400;
  for (const [k, v] of Object.entries(sc.cfg ?? {})) cfg[k] = v;
}

class V8Driver implements Driver {
  t!: TestClient;
  async start(port: number, sc: Scenario): Promise<void> {
    this.t = makeClient(port, (cfg) => hostileConfig(cfg, sc));
    this.t.client.subscribe(["in/#"], [1], null);
    this.t.client.publish("wisp/h1/telemetry", "r1", 1, false);
    this.t.client.publish("wisp/h1/telemetry", "r2", 2, false);
    this.t.client.connect();
  }
  async events() {
    const ev = this.t.ev;
    const codes = [...ev.errors.map((e) => e.code), ...ev.disconnects.map((d) => d.code)];
    return { codes, names: codes.map((c) => this.t.wisp.clientErrorName(c) as string), messages: ev.messages.map((m) => m.payload), connected: this.t.client.connected() as boolean };
  }
  async publish(topic: string, payload: string, qos: number): Promise<number> {
    return this.t.client.publish(topic, payload, qos, false);
  }
  async stop(): Promise<void> {
    this.t.client.disconnect();
    this.t.platform.shutdown();
  }
}

for (const sc of SCENARIOS) {
  test(`hostile broker (V8): ${sc.name}`, { timeout: 60000 }, async () => {
    await runScenario(new V8Driver(), sc);
  });
}
