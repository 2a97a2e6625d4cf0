/**
 * Run a built artifact on the real Espruino interpreter as a board would: the file
 * in Storage, loaded from there, with `Wifi` and `ESP32` shims that follow the ESP32
 * port where the Linux build has none. `ESP32.deepSleep` prints `SLEEP <us>` and
 * quits at once: like a board going to sleep, nothing the program queued for a
 * socket leaves after it (Espruino's socket.write only queues until the event loop
 * runs). A wake is a new interpreter on the same directory (same Storage).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Interpreter, jsStringLiteral } from "../../host-tools/espruino/interpreter.ts";
import { artifactPath } from "../helpers/artifacts.ts";
import { appModulesNextTo } from "../../host-tools/device/app-modules.ts";

/** Wifi as the ESP32 port shows it to a program that is already joined (getStatus has the RSSI). */
const WIFI_SHIM =
  'Modules.addCached("Wifi",function(){exports.getStatus=function(){return {station:"connected",rssi:-63};};' +
  'exports.getDetails=function(){return {status:"connected"};};exports.on=function(){};' +
  "exports.connect=function(s,o,cb){if(cb)setTimeout(function(){cb(null);},0);};exports.getIP=function(){return {ip:\"127.0.0.1\"};};});";

function esp32Shim(wakeCause: number): string {
  return `global.ESP32={deepSleep:function(us){console.log("SLEEP "+us);quit();},getWakeupCause:function(){return ${wakeCause};}};`;
}

export interface EspruinoBoard {
  it: Interpreter;
  dir: string;
}

/** Write `wisp.json` and the artifact into a fresh (or given) Storage directory. */
export async function flashEspruino(artifact: "app" | "client", settings: Record<string, unknown> | null, dir?: string): Promise<string> {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "wisp-espruino-board-"));
  const it = await Interpreter.start({ dir: d });
  try {
    // Through the working directory (Interpreter.writeFileFromHost), not pasted through the REPL: fast, and CRC-checked.
    if (settings) await it.writeFileFromHost("wisp.json", JSON.stringify(settings));
    await it.writeFileFromHost(`${artifact}.js`, fs.readFileSync(artifactPath("espruino", artifact), "latin1"));
    // the Storage modules app.js requires on demand (the WebSocket transport), as wisp flash installs them
    if (artifact === "app") for (const [name, code] of Object.entries(appModulesNextTo(artifactPath("espruino", "app")))) await it.writeFileFromHost(name, Buffer.from(code, "utf8").toString("latin1"));
  } finally {
    await it.stop();
  }
  return d;
}

/**
 * Boot: shims, then the artifact from Storage (function bodies stay in flash). Over the
 * control socket by default; `control: false` keeps the ~80 blocks of the link out of a
 * measurement and sends both lines through the (racy) console instead.
 */
export async function bootEspruino(dir: string, artifact: "app" | "client", wakeCause = 0, control = true, onStarted?: (it: Interpreter) => Promise<void>): Promise<Interpreter> {
  const it = await Interpreter.start({ dir, control });
  await onStarted?.(it);
  const shim = WIFI_SHIM + esp32Shim(wakeCause);
  const load = `eval(require("Storage").read(${jsStringLiteral(artifact + ".js")}));`;
  if (control) {
    await it.eval(`${shim};1`);
    await it.eval(`${load}1`, 20000);
  } else {
    it.send(shim);
    it.send(load);
  }
  return it;
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
