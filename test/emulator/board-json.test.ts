import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { listBoards, loadBoard, validateBoard } from "../../host-tools/device/board.ts";
import { rawBoard } from "./fixtures/util.ts";

test("every board in boards/ loads and carries the datasheet currents", () => {
  const ids = listBoards();
  assert.ok(ids.includes("esp32-devkitc"));
  assert.ok(ids.includes("esp32-lipo-sensor"));
  for (const id of ids) {
    const b = loadBoard(id);
    assert.equal(b.id, id);
    assert.ok(b.currentMa.wifiTx > b.currentMa.wifiRx && b.currentMa.wifiRx > b.currentMa.modemSleep);
    assert.ok(b.currentMa.modemSleep > b.currentMa.lightSleep && b.currentMa.lightSleep > b.currentMa.deepSleep);
  }
  const s = loadBoard("esp32-lipo-sensor");
  assert.equal(s.adc?.pin, "D34");
  assert.equal(s.adc?.dividerTopOhms, 100000);
  assert.equal(s.currentMa.wifiTx, 239);
  assert.equal(s.currentMa.deepSleep, 0.005);
});

test("bad board JSON is rejected with the field named", () => {
  const good = rawBoard("esp32-lipo-sensor");
  const cases: [string, (b: any) => void, RegExp][] = [
    ["missing current", (b) => delete b.currentMa.wifiTx, /currentMa\.wifiTx must be a number/],
    ["negative current", (b) => (b.currentMa.deepSleep = -1), /currentMa\.deepSleep must be > 0/],
    ["unknown state", (b) => (b.currentMa.turbo = 5), /currentMa\.turbo is not a known radio state/],
    ["bad pin", (b) => (b.adc.pin = "GPIO34"), /adc\.pin must be an Espruino pin name/],
    ["bad curve point", (b) => (b.battery.curve[2] = [4.1]), /battery\.curve\[2\] must be \[volts, percent\]/],
    ["curve percent", (b) => (b.battery.curve[0] = [4.3, 120]), /battery\.curve\[0\]\[1\] must be a percent 0\.\.100 \(got 120\)/],
    ["buffers", (b) => (b.buffers.rx = 1.5), /buffers\.rx must be an integer/],
    ["ram", (b) => delete b.ram, /ram must be an object/],
    ["name", (b) => (b.name = ""), /name must be a non-empty string/],
    ["misspelt field", (b) => (b.currnetMa = {}), /currnetMa is not a known field \(check the spelling against boards\/board\.schema\.json\)/],
    ["string for a number", (b) => (b.radio.wifiConnectMs = "1200"), /radio\.wifiConnectMs must be a number >= 0 \(got "1200"\)/],
    ["curve not rising", (b) => (b.battery.curve[0] = [4.25, 90]), /battery\.curve percent must not fall as volts rise \(at 4\.25 V\)/],
  ];
  for (const [what, mutate, re] of cases) {
    const b = structuredClone(good);
    mutate(b);
    assert.throws(() => validateBoard(b, "test.json"), (e: Error) => re.test(e.message) && e.message.startsWith("test.json: "), what);
  }
});

test("a bad board file is named with every bad field, one per line; the schema file is not a board", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wisp-board-"));
  try {
    const b = rawBoard("esp32-devkitc");
    b.buffers.tx = "big";
    b.currentMa.turbo = 3;
    const file = path.join(dir, "bad.json");
    fs.writeFileSync(file, JSON.stringify(b));
    assert.throws(
      () => loadBoard(file),
      (e: Error) =>
        e.message ===
        `${file}: buffers.tx must be an integer >= 16 (got "big")\n${file}: currentMa.turbo is not a known radio state (known: wifiTx, wifiRx, modemSleep, lightSleep, deepSleep)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!listBoards().includes("board.schema"));
});

test("unknown board id lists the known boards", () => {
  assert.throws(() => loadBoard("nope"), /unknown board "nope".*known boards: .*esp32-devkitc/);
});
