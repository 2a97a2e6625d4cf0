/**
 * The power policy's battery curve comes from the board's data: boards/<id>.json
 * `battery.curve` -> wisp.json `board.battery.curve` (host-tools/device/settings.ts)
 * -> PowerConfig.setCurve on the board. The built app (dist/espruino/app.js) on the
 * emulated board, the cell pinned at one voltage: a board JSON with another curve
 * gives another percent in the policy's decision line.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { REPO_ROOT } from "../../host-tools/compiler/build.ts";
import { startAedes } from "../../host-tools/emulator/broker.ts";
import { startEspruinoBoard } from "../../host-tools/espruino/board.ts";
import { assertNoUncaught, until } from "../espruino/engine-harness.ts";
import { bootApp } from "../helpers/boot-app.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { skipUnlessEspruino } from "../helpers/espruino.ts";

after(cleanupAll);

/** The first `policy ...` line the app printed at `volts` on `board`, and its pct. */
async function policyAt(board: string, volts: number, settings: Record<string, unknown> = {}): Promise<{ line: string; pct: number; text: string }> {
  const app = await bootApp({ board, seed: 7, battery: { volts }, settings: { clientId: "curve", intervalSeconds: 60, ...settings } });
  try {
    await app.board.runFor(5_000);
    const text = app.consoleText();
    const line = /policy mode=.*/.exec(text)?.[0] ?? "";
    const pct = Number(/ pct=(\d+) /.exec(line)?.[1] ?? NaN);
    return { line, pct, text };
  } finally {
    await app.close();
  }
}

function boardWithCurve(curve: [number, number][]): string {
  const raw = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "boards", "esp32-lipo-sensor.json"), "utf8"));
  raw.id = "curve-test";
  raw.battery.curve = curve;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-curve-"));
  const file = path.join(dir, "curve-test.json");
  fs.writeFileSync(file, JSON.stringify(raw));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}

test("a board JSON with a different battery curve changes the policy's percent (and so its band)", { timeout: 60_000 }, async () => {
  // 3.5 V: nearly empty on the stock LiPo curve (3.27 V = 0 %, 3.61 V = 5 %) ...
  const stock = await policyAt("esp32-lipo-sensor", 3.5);
  assert.match(stock.line, /band=critical pct=3 /, stock.text);
  // ... half full on a board whose cell runs linearly from 3.0 V (0 %) to 4.0 V (100 %)
  // (the points in any order in the board file: the host tools sort them).
  const linear = await policyAt(boardWithCurve([[4.0, 100], [3.0, 0]]), 3.5);
  assert.ok(Math.abs(linear.pct - 50) <= 1, linear.line);
  assert.match(linear.line, /band=(mid|high) /, linear.text); // 50 % is the high threshold; the 12-bit ADC may land just below
  assert.doesNotMatch(linear.text, /config:/, "no curve error");
});

test("wisp.json without a board curve: the policy falls back to DEFAULT_CURVE (the stock LiPo curve), no error", { timeout: 60_000 }, async () => {
  const file = boardWithCurve([[4.0, 100], [3.0, 0]]);
  // the board's battery is still emulated from the file; only wisp.json loses the curve
  const r = await policyAt(file, 3.5, { board: { id: "curve-test", buffers: { rx: 512, tx: 512, inflight: 4, offlineQueue: 8 }, adc: { pin: "D34", refVolts: 3.3, bits: 12, attenuationDb: 11, dividerTopOhms: 100000, dividerBottomOhms: 100000 } } });
  assert.match(r.line, /band=critical pct=3 /, r.text);
  assert.doesNotMatch(r.text, /config:/);
});

test("a bad curve in wisp.json is a named console error and the fallback stays", { timeout: 60_000 }, async () => {
  const r = await policyAt("esp32-lipo-sensor", 3.5, { board: { id: "esp32-lipo-sensor", adc: { pin: "D34", refVolts: 3.3, bits: 12, attenuationDb: 11, dividerTopOhms: 100000, dividerBottomOhms: 100000 }, battery: { curve: [[3.0, 0], [3.0, 100]] } } });
  assert.match(r.text, /config: board\.battery\.curve\[1\]: volts must rise from point to point \(default curve kept\)/);
  assert.match(r.line, /band=critical pct=3 /, r.text);
});

test("on the real interpreter: the board's curve reaches the policy (linear 3.0..4.0 V board at 50 %)", { skip: skipUnlessEspruino(), timeout: 60_000 }, async (t) => {
  const broker = await startAedes();
  const board = await startEspruinoBoard({
    board: boardWithCurve([[3.0, 0], [4.0, 100]]),
    app: path.join(REPO_ROOT, "dist", "espruino", "app.js"),
    batteryPercent: 50, // 3.5 V on this board's curve; the fallback curve would call it 3 %
    settings: { brokerPort: Number(new URL(broker.url).port), clientId: "curve-real", intervalSeconds: 60, qos: 1 },
    wifi: { connectMs: 200 },
  });
  try {
    const text = () => board.events.map((e) => (e.type === "console" ? e.text : "")).join("");
    await until(() => /policy mode=/.test(text()), 30000, "the first policy line", () => board.consoleTail());
    const line = /policy mode=.*/.exec(text())![0];
    const pct = Number(/ pct=(\d+) /.exec(line)?.[1] ?? NaN);
    assert.ok(Math.abs(pct - 50) <= 1, line);
    assert.doesNotMatch(text(), /config:/);
    assertNoUncaught(t, board.uncaught());
  } finally {
    await board.stop();
    await broker.close();
  }
});
