/**
 * `wisp emulate --engine espruino`: the same CLI, broker and --json events as the V8
 * engine, run on the real interpreter, with memory in blocks and a summary that
 * says what this engine cannot report.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { runEmulate } from "../../host-tools/emulator/cli-emulate.ts";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";
import { assertNoUncaught } from "./engine-harness.ts";

const skip = skipUnlessEspruino();
const APP = path.join(REPO_ROOT, "dist", "espruino", "app.js");

test("--engine espruino --json: start, boot, console, wifi, publishes, memory blocks, summary naming what it cannot report", { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-emulate-espruino-"));
  const cfg = path.join(dir, "flash.config.json");
  fs.writeFileSync(cfg, JSON.stringify({
    board: "esp32-lipo-sensor",
    device: { clientId: "cli-rt", topicPrefix: "wisp", wifi: { ssid: "lab" }, broker: { url: "" } },
    telemetry: { intervalSeconds: 1, qos: 1, mode: "stay" },
    mqtt: { keepAliveSeconds: 20, cleanSession: true },
  }));
  const lines: string[] = [];
  try {
    const code = await runEmulate(["--engine", "espruino", "--json", "--config", cfg, "--app", APP, "--duration", "7s"], { out: (l) => lines.push(l) });
    assert.equal(code, 0, lines.join("\n"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ev = lines.map((l) => JSON.parse(l));
  const start = ev.find((e) => e.type === "start");
  assert.equal(start.engine, "espruino");
  assert.equal(start.embedded, true);
  assert.ok(ev.some((e) => e.type === "boot" && e.cause === "power-on" && e.boot === 1));
  assert.ok(ev.some((e) => e.type === "console" && /^boot power-on/.test(e.text)), `the app's own console line in ${JSON.stringify(ev.filter((e) => e.type === "console"))}`);
  assert.ok(ev.some((e) => e.type === "wifi" && e.state === "connected"));
  assert.ok(!ev.some((e) => e.type === "console" && e.text.startsWith("<wisp:")), "shim markers are not console output");
  const tele = ev.filter((e) => e.type === "publish" && e.topic === "wisp/cli-rt/telemetry");
  assert.ok(tele.length >= 2, `telemetry seen by the observer: ${tele.length}`);
  assert.ok(ev.some((e) => e.type === "publish" && e.topic === "wisp/cli-rt/status" && e.payload === "online"));
  const mem = ev.filter((e) => e.type === "memory");
  assert.ok(mem.some((m) => m.phase === "after boot" && m.app > 0 && m.usage === m.app + m.shim && m.total === 16383), JSON.stringify(mem));
  assert.ok(mem.some((m) => m.phase === "after connect"), JSON.stringify(mem));
  const sum = ev.at(-1);
  assert.equal(sum.type, "summary");
  assert.equal(sum.engine, "espruino");
  assert.equal(sum.boots, 1);
  assert.ok(sum.messages >= 3);
  assert.ok(sum.memoryBlocks.afterBoot > 0 && sum.memoryBlocks.afterConnect > 0);
  assert.ok(sum.notReported.some((s: string) => s.startsWith("energy")));
  assertNoUncaught(t, sum.uncaught);
});

test("--engine with an unknown value, or with a V8-only option, is a usage error", async () => {
  const out: string[] = [];
  assert.equal(await runEmulate(["--engine", "quickjs"], { out: (l) => out.push(l) }), 2);
  assert.match(out.join("\n"), /--engine must be v8 or espruino/);
  out.length = 0;
  assert.equal(await runEmulate(["--engine", "espruino", "--virtual-time", "--app", APP], { out: (l) => out.push(l) }), 2);
  assert.match(out.join("\n"), /--virtual-time not available with --engine espruino/);
});
