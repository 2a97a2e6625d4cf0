import assert from "node:assert/strict";
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
  ];
  for (const [what, mutate, re] of cases) {
    const b = structuredClone(good);
    mutate(b);
    assert.throws(() => validateBoard(b, "test.json"), (e: Error) => re.test(e.message) && e.message.startsWith("test.json: "), what);
  }
});

test("unknown board id lists the known boards", () => {
  assert.throws(() => loadBoard("nope"), /unknown board "nope".*known boards: .*esp32-devkitc/);
});
