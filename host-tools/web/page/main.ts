/**
 * The `wisp web` page: a device panel over Web Serial (connect, console, board
 * information, Storage list, installing the app) and a live view of the boards over
 * MQTT-over-WebSocket. Served by `wisp web` (host-tools/web/server.ts), which also
 * answers /wisp-web.json (broker URL, topic prefix, the app it offers), /app.js and,
 * when given a config, /settings.json.
 */
import { installApp, InstallError, ReplSession, type FlashEvent } from "../../flasher/install-protocol.ts";
import { TimeChart } from "./chart.ts";
import { EspruinoLink, LinkError } from "./espruino-link.ts";
import { LiveView, type DeviceState } from "./live-view.ts";

interface PageConfig {
  brokerUrl: string | null;
  topicPrefix: string;
  app: { name: string; bytes: number } | null;
  settings: boolean;
  expectBoard: string | null;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const link = new EspruinoLink();
let config: PageConfig = { brokerUrl: null, topicPrefix: "wisp", app: null, settings: false, expectBoard: null };
let busy = false;

function message(text: string, kind: "error" | "info" = "error"): void {
  const m = $("message");
  m.textContent = text;
  m.className = kind;
  m.hidden = text === "";
}

function setConnected(on: boolean): void {
  $("serial-status").textContent = on ? "connected" : "not connected";
  for (const id of ["disconnect", "console-in", "console-send", "eval", "storage-list-btn"]) ($(id) as HTMLButtonElement).disabled = !on || busy;
  ($("install") as HTMLButtonElement).disabled = !on || busy || !config.app;
  ($("connect") as HTMLButtonElement).disabled = on || busy;
}

function showError(e: unknown): void {
  message(e instanceof Error ? e.message : String(e));
}

// ---------------------------------------------------------------- device panel

const MARKER = /@@[WE]\d+:.*?@@/g;
let partialLine = "";
link.onData((d) => {
  const out = $("console-out");
  const clean = d.replace(MARKER, "").replace(/\r/g, "");
  out.textContent = (out.textContent + clean).slice(-20000);
  out.scrollTop = out.scrollHeight;
  // the app logs each power-policy decision as a "policy ..." line (firmware/app/telemetry.ts)
  const lines = (partialLine + clean).split("\n");
  partialLine = lines.pop() ?? "";
  for (const l of lines) {
    const m = /^>?(policy .*)$/.exec(l.trim());
    if (!m) continue;
    const li = document.createElement("li");
    li.textContent = `${new Date().toLocaleTimeString()}  ${m[1]}`;
    const list = $("policy-log");
    list.prepend(li);
    while (list.children.length > 12) list.lastChild!.remove();
  }
});
link.onClose(() => {
  setConnected(false);
  if (!busy) message("The board was disconnected (unplugged, or reset its USB link). Plug it back in and connect again.");
});

$("connect").addEventListener("click", async () => {
  message("");
  $("serial-status").textContent = "connecting…";
  ($("connect") as HTMLButtonElement).disabled = true;
  try {
    const info = await link.connect();
    const dl = $("board-info");
    dl.replaceChildren();
    const rows: [string, string][] = [
      ["Espruino", info.VERSION],
      ["board", info.BOARD],
      ["console", info.CONSOLE],
      ["Storage free", `${info.storageFree} B`],
      ["memory free", `${info.memoryFree} variables`],
    ];
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.key = k;
      dl.append(dt, dd);
    }
    if (config.expectBoard && info.BOARD !== config.expectBoard)
      message(`This board reports BOARD=${info.BOARD}, but the app is built for ${config.expectBoard}: installing is refused.`);
    setConnected(true);
  } catch (e) {
    setConnected(false);
    showError(e);
  }
});

$("disconnect").addEventListener("click", () => {
  link.disconnect();
  message("");
});

$("console-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>("console-in");
  const line = input.value;
  input.value = "";
  try {
    await link.type(line + "\n");
  } catch (e) {
    showError(e);
  }
});

$("eval").addEventListener("click", async () => {
  const expr = $<HTMLInputElement>("console-in").value.trim();
  if (!expr) return message("Type an expression to evaluate first.", "info");
  try {
    const v = await link.eval(expr, 1); // typed by the user: may have side effects, so never re-sent
    $("eval-result").textContent = JSON.stringify(v);
  } catch (e) {
    showError(e);
  }
});

$("storage-list-btn").addEventListener("click", async () => {
  try {
    const files = (await link.eval(`require("Storage").list().map(function(n){return [n,require("Storage").read(n).length]})`)) as [string, number][];
    const ul = $("storage-list");
    ul.replaceChildren();
    for (const [name, size] of files ?? []) {
      const li = document.createElement("li");
      li.textContent = `${name} (${size} B)`;
      li.dataset.file = name;
      ul.append(li);
    }
    if (!files?.length) ul.textContent = "(Storage is empty)";
  } catch (e) {
    showError(e);
  }
});

$("install").addEventListener("click", async () => {
  if (!link.connected) return message("No board connected: connect a board first.");
  busy = true;
  setConnected(true);
  message("");
  const status = $("install-status");
  const progress = $<HTMLProgressElement>("install-progress");
  progress.value = 0;
  status.textContent = "waking the board's REPL…";
  let verified = false;
  const onEvent = (e: FlashEvent) => {
    switch (e.event) {
      case "board":
        status.textContent = `Espruino ${e.version} (${e.board}), ${e.free} B Storage free`;
        break;
      case "start":
        status.textContent = `writing ${e.bytes} B in ${e.chunks} chunks to a temporary file…`;
        break;
      case "progress":
        progress.value = e.bytes / e.total;
        break;
      case "verified":
        verified = true;
        status.textContent = `verified: CRC-32 0x${e.crc32.toString(16).padStart(8, "0")} matches; making it the boot code…`;
        break;
      case "done":
        status.textContent = `installed ${e.bytes} B in ${e.seconds.toFixed(1)} s; the board restarted into the new app: watch it come online in the live view`;
        break;
    }
  };
  const session = new ReplSession(link.byteLink(), { replyTimeoutMs: 15_000 });
  try {
    const app = await (await fetch("app.js")).text();
    const settings = config.settings ? ((await (await fetch("settings.json")).json()) as object) : undefined;
    // the Storage modules the app loads on demand (wisp-ws for ws:// brokers): installed before it, as wisp flash does
    const modules = (await (await fetch("modules.json")).json()) as Record<string, string>;
    await installApp(session, { app, settings, modules, expectBoard: config.expectBoard ?? undefined, chunkSize: 512, onEvent });
    message("");
  } catch (e) {
    const code = e instanceof InstallError ? e.code : "";
    if (code === "PORT_CLOSED" || !link.connected)
      message(
        verified
          ? "The board went away while the new app was being made the boot code. Plug it back in, connect, and install again."
          : "The board was unplugged during the install. Nothing was made the boot code: the previous app still boots. Plug it back in, connect, and install again.",
      );
    else if (code === "NO_PROMPT") message(`The board does not answer as Espruino: ${(e as Error).message}`);
    else showError(e);
    status.textContent = `install failed (${code || "error"})`;
  } finally {
    session.close();
    busy = false;
    setConnected(link.connected);
  }
});

// ---------------------------------------------------------------- live view

const charts = {
  voltage: new TimeChart($<HTMLCanvasElement>("chart-voltage"), "Battery", "V", "#2a6f97"),
  rssi: new TimeChart($<HTMLCanvasElement>("chart-rssi"), "RSSI", "dBm", "#8f2d56"),
  interval: new TimeChart($<HTMLCanvasElement>("chart-interval"), "Interval between readings", "s", "#3a7d44"),
};
let shown: string | null = null;

function selectDevice(id: string): void {
  shown = id;
  const d = live.devices.get(id);
  for (const c of Object.values(charts)) c.clear();
  if (d) for (const r of d.readings) plot(r);
  lastPlotted = d?.readings[d.readings.length - 1] ?? null;
  $("readings").querySelector("tbody")!.replaceChildren();
  if (d) {
    for (const r of d.readings.slice(-20)) addRow(r);
    renderStatus(d);
  }
}

function plot(r: DeviceState["readings"][number]): void {
  // a board without an ADC publishes "v":null: no point rather than a false 0 V
  if (typeof r.data.v === "number") charts.voltage.add({ t: r.t, v: r.data.v });
  charts.rssi.add({ t: r.t, v: r.data.rssi });
  if (r.intervalS !== null) charts.interval.add({ t: r.t, v: r.intervalS });
}

function addRow(r: DeviceState["readings"][number]): void {
  const tr = document.createElement("tr");
  for (const v of [new Date(r.t).toLocaleTimeString(), r.data.seq, r.data.v, r.data.rssi, r.data.up, r.data.mem]) {
    const td = document.createElement("td");
    td.textContent = String(v);
    tr.append(td);
  }
  const body = $("readings").querySelector("tbody")!;
  body.prepend(tr);
  while (body.children.length > 20) body.lastChild!.remove();
}

function renderStatus(d: DeviceState): void {
  const p = $("device-status");
  p.replaceChildren();
  const s = document.createElement("span");
  s.textContent = d.status ?? "unknown";
  s.className = `status-${d.status}`;
  s.id = "status-value";
  p.append(`${d.id}: `, s, d.status ? (d.statusRetained ? " (retained, from before this page)" : ` (at ${new Date(d.statusAt!).toLocaleTimeString()})`) : "");
  $("will-seen").textContent = d.willSeenAt ? `last will seen at ${new Date(d.willSeenAt).toLocaleTimeString()}: the broker reported ${d.id} offline` : "";
}

const live = new LiveView((e) => {
  if (e.kind === "connection") {
    $("broker-status").textContent = e.state + (e.state === "error" ? `: ${e.detail}` : "");
    return;
  }
  const d = e.device;
  const sel = $<HTMLSelectElement>("device-select");
  if (!Array.from(sel.options).some((o) => o.value === d.id)) sel.append(new Option(d.id, d.id));
  if (shown === null || (shown !== d.id && (live.devices.get(shown)?.readings.length ?? 0) === 0 && d.readings.length > 0)) {
    sel.value = d.id;
    selectDevice(d.id);
    return;
  }
  if (d.id !== shown) return;
  renderStatus(d);
  const r = d.readings[d.readings.length - 1];
  if (r && r !== lastPlotted) {
    plot(r);
    addRow(r);
    lastPlotted = r;
  }
});
let lastPlotted: DeviceState["readings"][number] | null = null;

$("device-select").addEventListener("change", () => selectDevice($<HTMLSelectElement>("device-select").value));
$("broker-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const url = $<HTMLInputElement>("broker-url").value.trim();
  if (!/^wss?:\/\//.test(url)) return message("The live view needs a WebSocket broker URL: ws://host:port/path (a browser cannot open mqtt:// TCP connections).");
  message("");
  live.connect(url, $<HTMLInputElement>("topic-prefix").value.trim() || "wisp");
});

async function start(): Promise<void> {
  try {
    config = (await (await fetch("wisp-web.json")).json()) as PageConfig;
  } catch {
    /* served without a config: defaults */
  }
  const params = new URLSearchParams(location.search);
  const broker = params.get("broker") ?? config.brokerUrl;
  $<HTMLInputElement>("topic-prefix").value = params.get("prefix") ?? config.topicPrefix;
  $("served-app").textContent = config.app ? `app to install: ${config.app.name} (${config.app.bytes} B)${config.settings ? " + device settings" : ""}` : "no app to install (run wisp build)";
  if (broker) {
    $<HTMLInputElement>("broker-url").value = broker;
    live.connect(broker, $<HTMLInputElement>("topic-prefix").value);
  }
  setConnected(false);
}
void start();
