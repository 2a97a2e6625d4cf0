/**
 * Storage modules that app.js loads with `require(name)` only when it needs them
 * (Espruino's require() evaluates the Storage file of that name once and caches its
 * exports), so an app that does not use them holds none of their blocks. Each is
 * built next to app.js (host-tools/compiler/build.ts, entries with `module`), and
 * whatever installs the app (wisp flash, both emulator engines) installs them beside
 * `.bootcde`. The firmware names them literally (firmware/app/main.ts).
 */
import fs from "node:fs";
import path from "node:path";

export interface AppModule {
  /** Storage file name, as the firmware requires it. */
  storage: string;
  /** Artifact next to app.js. */
  artifact: string;
}

export const APP_MODULES: AppModule[] = [
  // WebSocket transport + SHA-1 + base64, for ws:// and wss:// brokers
  { storage: "wisp-ws", artifact: "wsnet.js" },
];

/**
 * The modules built next to `appFile` (Storage name -> source text, as the app's).
 * A module that was not built is left out: an app that needs it says so on its console.
 */
export function appModulesNextTo(appFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of APP_MODULES) {
    const file = path.join(path.dirname(appFile), m.artifact);
    if (fs.existsSync(file)) out[m.storage] = fs.readFileSync(file, "utf8");
  }
  return out;
}
