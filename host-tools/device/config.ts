/**
 * flash.config.json: schema validation (ajv), for `wisp flash` and `wisp emulate`.
 * What the config becomes on the board (Storage wisp.json) is settings.ts.
 *
 * Every problem is reported as `<field>: <value> — expected <what>` so a user can
 * fix the file without reading the schema. Secrets (Wi-Fi and MQTT passwords) are
 * never echoed back: a bad password value is shown as `(hidden)`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCHEMA_PATH = path.resolve(here, "../../flash.config.schema.json");

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  }
}

const SECRET_FIELDS = new Set(["device.wifi.password", "device.broker.password"]);

function pointerToField(p: string): string {
  return p
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function show(field: string, v: unknown): string {
  if (SECRET_FIELDS.has(field)) return "(hidden)";
  if (v === undefined) return "(missing)";
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

function valueAt(root: unknown, field: string): unknown {
  if (!field) return root;
  let v: any = root;
  for (const k of field.split(".")) v = v == null ? undefined : v[k];
  return v;
}

function describe(e: ErrorObject, root: unknown): string {
  let field = pointerToField(e.instancePath);
  const p = e.params as Record<string, any>;
  let expected: string;
  let value: unknown = valueAt(root, field);
  switch (e.keyword) {
    case "required":
      field = field ? `${field}.${p.missingProperty}` : p.missingProperty;
      value = undefined;
      expected = "a value (this field is required)";
      break;
    case "additionalProperties":
      field = field ? `${field}.${p.additionalProperty}` : p.additionalProperty;
      value = valueAt(root, field);
      expected = "no such field (unknown; check the spelling against flash.config.schema.json)";
      break;
    case "type":
      expected = `type ${String(p.type).replace(",", " or ")}`;
      break;
    case "enum":
      expected = `one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(", ")}`;
      break;
    case "minimum":
      expected = `a number >= ${p.limit}`;
      break;
    case "maximum":
      expected = `a number <= ${p.limit}`;
      break;
    case "minLength":
      expected = p.limit === 1 ? "a non-empty string" : `at least ${p.limit} characters`;
      break;
    case "maxLength":
      expected = `at most ${p.limit} characters`;
      break;
    case "pattern":
      expected = PATTERN_TEXT[field] ?? `a string matching ${p.pattern}`;
      break;
    default:
      expected = e.message ?? e.keyword;
  }
  return `${field || "(root)"}: ${show(field, value)} — expected ${expected}`;
}

const PATTERN_TEXT: Record<string, string> = {
  board: "a board id like esp32-devkitc (lower-case letters, digits, '-')",
  "device.clientId": "letters, digits, '_' or '-' only (MQTT 3.1.1 safe client id)",
  "device.topicPrefix": "a topic prefix without the wildcards '+' or '#'",
  "device.broker.url": "mqtt://host[:port], mqtts://, ws:// or wss:// (or empty)",
};

let validator: ReturnType<Ajv["compile"]> | null = null;
function getValidator() {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")));
  }
  return validator;
}

export interface FlashConfig {
  board: string;
  port?: string;
  baudRate?: number;
  device: {
    clientId: string;
    topicPrefix?: string;
    wifi: { ssid: string; password?: string };
    broker: { url: string; username?: string | null; password?: string | null };
  };
  telemetry?: { intervalSeconds?: number; qos?: number; mode?: "auto" | "stay" | "sleep"; commands?: boolean };
  /** KeepAlivePolicy thresholds by name (docs/power.md). */
  power?: Record<string, number>;
  mqtt?: { keepAliveSeconds?: number; cleanSession?: boolean };
}

/** Validate a parsed config; returns the problems (empty when valid). */
export function validateConfig(raw: unknown): string[] {
  const v = getValidator();
  if (v(raw)) return [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of v.errors ?? []) {
    const line = describe(e, raw);
    const field = line.slice(0, line.indexOf(":"));
    if (!seen.has(field)) {
      // one message per field: the first failing rule
      seen.add(field);
      out.push(line);
    }
  }
  return out;
}

export function loadConfig(file: string): FlashConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  const problems = validateConfig(raw);
  if (problems.length) throw new ConfigError(file, problems);
  return raw as FlashConfig;
}
