/**
 * The tests' one client factory: a Client from a compiled bundle
 * (dist/espruino/client.js, or wsclient.js with a WsPlatform over the Node
 * platform), every callback recorded in one Events record.
 */
import { loadEspruinoBundle } from "./artifacts.ts";
import { onCleanup } from "./cleanup.ts";
import { NodePlatform } from "./node-platform.ts";
import type { EspruinoSandbox } from "../../host-tools/emulator/sandbox.ts";

export interface Events {
  connects: boolean[];
  disconnects: { code: number; reason: string }[];
  messages: { topic: string; payload: string; qos: number; retain: boolean }[];
  published: number[];
  subscribed: { filter: string; code: number }[];
  errors: { code: number; detail: string; name: string }[];
}

export interface TestClient {
  wisp: any;
  client: any;
  platform: NodePlatform;
  sandbox: EspruinoSandbox;
  ev: Events;
}

export interface ClientBundle {
  /** Which compiled bundle: "client" (default) or "wsclient" (client + WsPlatform). */
  bundle?: "client" | "wsclient";
  /** What the client talks through, built over the Node platform (default: the platform itself). */
  transport?: (wisp: any, platform: NodePlatform) => unknown;
}

/**
 * A client from a compiled bundle. `setup` edits the ClientConfig (a sandbox
 * object) before the client is built; defaults: 127.0.0.1:port, client id "dev1",
 * clean session, keep-alive 60 s, back-off 100..400 ms.
 */
export function makeClient(port: number, setup: (cfg: any, wisp: any) => void = () => {}, platform = new NodePlatform(), bundle: ClientBundle = {}): TestClient {
  const { exports: wisp, sandbox } = loadEspruinoBundle(bundle.bundle ?? "client");
  const cfg = new wisp.ClientConfig();
  cfg.host = "127.0.0.1";
  cfg.port = port;
  cfg.connect.clientId = "dev1";
  cfg.backoffMinMs = 100;
  cfg.backoffMaxMs = 400;
  setup(cfg, wisp);
  const client = new wisp.Client(bundle.transport ? bundle.transport(wisp, platform) : platform, cfg);
  onCleanup(() => platform.shutdown());
  const ev = recordEvents(wisp, client);
  return { wisp, client, platform, sandbox, ev };
}

/** Hook every client callback into one Events record. */
export function recordEvents(wisp: any, client: any): Events {
  const ev: Events = { connects: [], disconnects: [], messages: [], published: [], subscribed: [], errors: [] };
  client.onConnect = (sp: boolean) => ev.connects.push(sp);
  client.onDisconnect = (code: number, reason: string) => ev.disconnects.push({ code, reason });
  client.onMessage = (topic: string, payload: string, qos: number, retain: boolean) => ev.messages.push({ topic, payload, qos, retain });
  client.onPublished = (id: number) => ev.published.push(id);
  client.onSubscribed = (filter: string, code: number) => ev.subscribed.push({ filter, code });
  client.onError = (code: number, detail: string) => ev.errors.push({ code, detail, name: wisp.clientErrorName(code) });
  return ev;
}
