/**
 * Board description: one JSON file per board under `boards/`.
 *
 * `loadBoard("esp32-devkitc")` reads `boards/esp32-devkitc.json`; a path ending in
 * `.json` is read as given. Every field is validated and a bad file is rejected
 * with an error naming the file and the field (e.g. `currentMa.wifiTx must be a
 * number > 0`), before any emulation starts.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type RadioState = "wifiTx" | "wifiRx" | "modemSleep" | "lightSleep" | "deepSleep";
export const RADIO_STATES: readonly RadioState[] = ["wifiTx", "wifiRx", "modemSleep", "lightSleep", "deepSleep"];

export interface AdcConfig {
  /** Espruino pin name, e.g. "D34" (ADC1 only: ADC2 is unusable while Wi-Fi is on). */
  pin: string;
  /** Full-scale input voltage that reads as 1.0 (ESP32 with 11 dB attenuation: ~3.3 V). */
  refVolts: number;
  bits: number;
  attenuationDb: number;
  dividerTopOhms: number;
  dividerBottomOhms: number;
}

export interface BatteryConfig {
  chemistry: string;
  capacityMah: number;
  initialPercent: number;
  /** [volts, percent] points, any order; sorted by volts on load. */
  curve: [number, number][];
}

export interface BoardConfig {
  id: string;
  name: string;
  module: string;
  espruino: { board: string; version: string };
  ram: { variables: number; blockBytes: number };
  buffers: { rx: number; tx: number; inflight: number; offlineQueue: number };
  storage: { bytes: number };
  adc: AdcConfig | null;
  battery: BatteryConfig | null;
  radio: { phyRateMbps: number; perWriteOverheadUs: number; rxWindowMs: number; wifiConnectMs: number };
  currentMa: Record<RadioState, number>;
  /** Where the board was loaded from (for messages). */
  source: string;
}

export class BoardConfigError extends Error {
  constructor(source: string, field: string, problem: string) {
    super(`${source}: ${field} ${problem}`);
    this.name = "BoardConfigError";
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's `boards/` directory. */
export const DEFAULT_BOARDS_DIR = path.resolve(here, "../../boards");

/** Board ids available in a boards directory. */
export function listBoards(boardsDir = DEFAULT_BOARDS_DIR): string[] {
  return fs
    .readdirSync(boardsDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadBoard(idOrPath: string, boardsDir = DEFAULT_BOARDS_DIR): BoardConfig {
  const file = idOrPath.endsWith(".json") ? path.resolve(idOrPath) : path.join(boardsDir, `${idOrPath}.json`);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(boardsDir) ? listBoards(boardsDir).join(", ") : "(no boards directory)";
    throw new Error(`unknown board "${idOrPath}": ${file} does not exist (known boards: ${known})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return validateBoard(raw, file);
}

/** Check a parsed board object field by field; returns a typed, normalised copy. */
export function validateBoard(raw: unknown, source = "<board>"): BoardConfig {
  const fail = (field: string, problem: string): never => {
    throw new BoardConfigError(source, field, problem);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(field, "must be an object");
    return v as Record<string, unknown>;
  };
  const str = (o: Record<string, unknown>, key: string, prefix: string): string => {
    const v = o[key];
    if (typeof v !== "string" || v.length === 0) fail(prefix + key, "must be a non-empty string");
    return v as string;
  };
  const num = (o: Record<string, unknown>, key: string, prefix: string, min: number, opts: { int?: boolean; exclusiveMin?: boolean } = {}): number => {
    const v = o[key];
    const f = prefix + key;
    if (typeof v !== "number" || !Number.isFinite(v)) return fail(f, `must be a number (got ${JSON.stringify(v)})`);
    if (opts.int && !Number.isInteger(v)) fail(f, `must be an integer (got ${v})`);
    if (opts.exclusiveMin ? v <= min : v < min) fail(f, `must be ${opts.exclusiveMin ? ">" : ">="} ${min} (got ${v})`);
    return v;
  };

  const b = obj(raw, "(top level)");
  const id = str(b, "id", "");
  const name = str(b, "name", "");
  const module = str(b, "module", "");
  const esp = obj(b.espruino, "espruino");
  const ram = obj(b.ram, "ram");
  const buf = obj(b.buffers, "buffers");
  const sto = obj(b.storage, "storage");
  const radio = obj(b.radio, "radio");
  const cur = obj(b.currentMa, "currentMa");

  const currentMa = {} as Record<RadioState, number>;
  for (const s of RADIO_STATES) currentMa[s] = num(cur, s, "currentMa.", 0, { exclusiveMin: true });
  for (const k of Object.keys(cur)) if (!RADIO_STATES.includes(k as RadioState)) fail(`currentMa.${k}`, `is not a known radio state (known: ${RADIO_STATES.join(", ")})`);

  let adc: AdcConfig | null = null;
  if (b.adc !== null && b.adc !== undefined) {
    const a = obj(b.adc, "adc");
    const pin = str(a, "pin", "adc.");
    if (!/^D\d{1,2}$/.test(pin)) fail("adc.pin", `must be an Espruino pin name like "D34" (got ${JSON.stringify(pin)})`);
    adc = {
      pin,
      refVolts: num(a, "refVolts", "adc.", 0, { exclusiveMin: true }),
      bits: num(a, "bits", "adc.", 1, { int: true }),
      attenuationDb: num(a, "attenuationDb", "adc.", 0),
      dividerTopOhms: num(a, "dividerTopOhms", "adc.", 0),
      dividerBottomOhms: num(a, "dividerBottomOhms", "adc.", 0, { exclusiveMin: true }),
    };
  }

  let battery: BatteryConfig | null = null;
  if (b.battery !== null && b.battery !== undefined) {
    const bt = obj(b.battery, "battery");
    const curveRaw = bt.curve;
    if (!Array.isArray(curveRaw) || curveRaw.length < 2) fail("battery.curve", "must be an array of at least two [volts, percent] points");
    const curve: [number, number][] = (curveRaw as unknown[]).map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number")
        return fail(`battery.curve[${i}]`, `must be [volts, percent] (got ${JSON.stringify(p)})`);
      if (p[1] < 0 || p[1] > 100) fail(`battery.curve[${i}]`, `percent must be 0..100 (got ${p[1]})`);
      if (p[0] <= 0) fail(`battery.curve[${i}]`, `volts must be > 0 (got ${p[0]})`);
      return [p[0], p[1]] as [number, number];
    });
    curve.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < curve.length; i++) {
      if (curve[i][0] === curve[i - 1][0]) fail("battery.curve", `has two points at ${curve[i][0]} V`);
      if (curve[i][1] < curve[i - 1][1]) fail("battery.curve", `percent must not fall as volts rise (at ${curve[i][0]} V)`);
    }
    battery = {
      chemistry: str(bt, "chemistry", "battery."),
      capacityMah: num(bt, "capacityMah", "battery.", 0, { exclusiveMin: true }),
      initialPercent: bt.initialPercent === undefined ? 100 : num(bt, "initialPercent", "battery.", 0),
      curve,
    };
    if (battery.initialPercent > 100) fail("battery.initialPercent", `must be <= 100 (got ${battery.initialPercent})`);
  }

  return {
    id,
    name,
    module,
    espruino: { board: str(esp, "board", "espruino."), version: str(esp, "version", "espruino.") },
    ram: {
      variables: num(ram, "variables", "ram.", 100, { int: true }),
      blockBytes: num(ram, "blockBytes", "ram.", 1, { int: true }),
    },
    buffers: {
      rx: num(buf, "rx", "buffers.", 16, { int: true }),
      tx: num(buf, "tx", "buffers.", 16, { int: true }),
      inflight: num(buf, "inflight", "buffers.", 0, { int: true }),
      offlineQueue: num(buf, "offlineQueue", "buffers.", 0, { int: true }),
    },
    storage: { bytes: num(sto, "bytes", "storage.", 4096, { int: true }) },
    adc,
    battery,
    radio: {
      phyRateMbps: num(radio, "phyRateMbps", "radio.", 0, { exclusiveMin: true }),
      perWriteOverheadUs: num(radio, "perWriteOverheadUs", "radio.", 0),
      rxWindowMs: num(radio, "rxWindowMs", "radio.", 0),
      wifiConnectMs: num(radio, "wifiConnectMs", "radio.", 0),
    },
    currentMa,
    source,
  };
}
