/**
 * Board description: one JSON file per board under `boards/`, checked against
 * `boards/board.schema.json` (ajv) and then for what a schema cannot say (the
 * battery curve rises with voltage, no two points at one voltage).
 *
 * `loadBoard("esp32-devkitc")` reads `boards/esp32-devkitc.json`; a path ending in
 * `.json` is read as given. A bad file is rejected before anything runs, with an
 * error naming the file and the field, e.g.
 * `boards/x.json: currentMa.wifiTx must be a number > 0 (got "fast")`.
 *
 * Shared by the emulator and the flasher (neither imports the other).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";

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
  /** [volts, percent] points, any order in the file; sorted by volts on load. */
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
  constructor(
    readonly source: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${source}: ${field} ${problem}`);
    this.name = "BoardConfigError";
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's `boards/` directory. */
export const DEFAULT_BOARDS_DIR = path.resolve(here, "../../boards");
export const BOARD_SCHEMA_PATH = path.join(DEFAULT_BOARDS_DIR, "board.schema.json");

/** Board ids available in a boards directory (the schema file is not a board). */
export function listBoards(boardsDir = DEFAULT_BOARDS_DIR): string[] {
  return fs
    .readdirSync(boardsDir)
    .filter((f) => f.endsWith(".json") && !f.endsWith(".schema.json"))
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

type Schema = Record<string, any>;
let validator: ReturnType<Ajv["compile"]> | null = null;
function getValidator() {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    // Our own annotations: the wording of an error for a field (ajv ignores them).
    ajv.addVocabulary(["x-expected", "x-unknown"]);
    validator = ajv.compile(JSON.parse(fs.readFileSync(BOARD_SCHEMA_PATH, "utf8")));
  }
  return validator;
}

/** JSON pointer to the field name users see: `/battery/curve/2` -> `battery.curve[2]`. */
function fieldOf(pointer: string): string {
  let out = "";
  for (const seg of pointer.split("/").slice(1)) out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

const TYPE_TEXT: Record<string, string> = { number: "a number", integer: "an integer", string: "a string", object: "an object", array: "an array", null: "null", boolean: "true or false" };

/** What a (sub)schema accepts, in words. */
function expectedText(s: Schema | undefined): string {
  if (!s) return "a known field";
  if (s["x-expected"]) return s["x-expected"];
  const types = ([] as string[]).concat(s.type ?? []).map((t) => TYPE_TEXT[t] ?? t);
  let text = types.join(" or ") || "a value";
  if (s.exclusiveMinimum !== undefined) text += ` > ${s.exclusiveMinimum}`;
  else if (s.minimum !== undefined && s.maximum !== undefined) text += ` ${s.minimum}..${s.maximum}`;
  else if (s.minimum !== undefined) text += ` >= ${s.minimum}`;
  return text;
}

const shown = (v: unknown) => (v === undefined ? "missing" : JSON.stringify(v));

function describe(e: ErrorObject): { field: string; problem: string } {
  const field = fieldOf(e.instancePath);
  const p = e.params as Record<string, any>;
  const parent = e.parentSchema as Schema | undefined;
  const join = (k: string) => (field ? `${field}.${k}` : k);
  switch (e.keyword) {
    case "required":
      return { field: join(p.missingProperty), problem: `must be ${expectedText(parent?.properties?.[p.missingProperty])} (got missing)` };
    case "additionalProperties":
      return { field: join(p.additionalProperty), problem: `is not ${parent?.["x-unknown"] ?? "a known field (check the spelling against boards/board.schema.json)"}` };
    case "exclusiveMinimum":
      return { field, problem: `must be > ${p.limit} (got ${shown(e.data)})` };
    case "minimum":
      return { field, problem: `must be >= ${p.limit} (got ${shown(e.data)})` };
    case "maximum":
      return { field, problem: `must be ${parent?.["x-expected"] ?? `<= ${p.limit}`} (got ${shown(e.data)})` };
    default:
      return { field, problem: `must be ${expectedText(parent)} (got ${shown(e.data)})` };
  }
}

/**
 * Check a parsed board object; returns a typed, normalised copy (curve sorted by
 * volts, initialPercent defaulted to 100). Throws BoardConfigError naming the
 * first bad field; the message lists every bad field, one per line.
 */
export function validateBoard(raw: unknown, source = "<board>"): BoardConfig {
  const v = getValidator();
  if (!v(raw)) {
    const seen = new Map<string, string>();
    for (const e of v.errors ?? []) {
      const d = describe(e);
      if (!seen.has(d.field)) seen.set(d.field, d.problem);
    }
    const [[field, problem], ...rest] = [...seen];
    throw new BoardConfigError(source, field || "(top level)", problem + rest.map(([f, p]) => `\n${source}: ${f} ${p}`).join(""));
  }
  const b = raw as Omit<BoardConfig, "source"> & { battery: (Omit<BatteryConfig, "initialPercent"> & { initialPercent?: number }) | null };
  let battery: BatteryConfig | null = null;
  if (b.battery) {
    const curve = b.battery.curve.map((p) => [p[0], p[1]] as [number, number]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < curve.length; i++) {
      if (curve[i][0] === curve[i - 1][0]) throw new BoardConfigError(source, "battery.curve", `has two points at ${curve[i][0]} V`);
      if (curve[i][1] < curve[i - 1][1]) throw new BoardConfigError(source, "battery.curve", `percent must not fall as volts rise (at ${curve[i][0]} V)`);
    }
    battery = { chemistry: b.battery.chemistry, capacityMah: b.battery.capacityMah, initialPercent: b.battery.initialPercent ?? 100, curve };
  }
  return {
    id: b.id,
    name: b.name,
    module: b.module,
    espruino: { ...b.espruino },
    ram: { ...b.ram },
    buffers: { ...b.buffers },
    storage: { ...b.storage },
    adc: b.adc ? { ...b.adc } : null,
    battery,
    radio: { ...b.radio },
    currentMa: { ...b.currentMa },
    source,
  };
}
