/**
 * Property tests (fast-check): random valid packets round-trip and agree with
 * mqtt-packet; random and mutated byte streams fed in random chunk sizes never
 * throw, never leave the RX buffer, give only packets or named errors, and give
 * the same results however the stream is cut. Run on the Espruino bundle, on the
 * TypeScript source with bounds-checked intrinsics (any out-of-bounds access
 * throws), and on the Lua bundle (sampled, one lua5.3 process).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import fc from "fast-check";
import { loadEspruinoCodec, runLuaFile } from "../helpers/artifacts.ts";
import { skipUnless } from "../helpers/system-deps.ts";
import { chunkSizes, mutate, mutations, packet } from "./arbitraries.ts";
import { capFor, describe as line, encodeCommand, expectedLine, generate, hex, runCommand } from "./harness.ts";
import { loadSourceCodec } from "./source-shim.ts";

/** Every offset/length the reader reports lies inside its RX buffer. */
function assertInBounds(r: any, cap: number): void {
  const p = r.packet;
  const pairs = [
    [p.topicOff, p.topicLen],
    [p.payloadOff, p.payloadLen],
    [p.clientIdOff, p.clientIdLen],
    [p.usernameOff, p.usernameLen],
    [p.passwordOff, p.passwordLen],
  ];
  if (r.status === 1) {
    for (const [o, l] of pairs) if (l >= 0) assert.ok(o >= 0 && o + l <= cap, `field ${o}+${l} outside RX ${cap}`);
    for (let i = 0; i < p.count; i++) {
      if (p.type === 9) assert.ok(p.listOff + i < cap);
      else {
        const o = r.filterAt(i);
        assert.ok(o >= 2 && o + p.itemLen <= cap, `filter ${i} outside RX`);
      }
    }
  } else if (r.status === -20 && p.topicLen >= 0) {
    assert.ok(p.topicOff + p.topicLen <= cap, "reported topic of an oversized packet outside RX");
  }
}

/** Decode `data` cut by `sizes` (cycled), checking the invariants after every feed(). */
function feedChunks(codec: any, cap: number, data: string, sizes: number[]): string {
  const r = codec.newReader(cap);
  const out: string[] = [];
  let c = 0;
  let k = 0;
  while (c < data.length) {
    const s = data.substring(c, c + sizes[k % sizes.length]);
    c += s.length;
    k++;
    let pos = 0;
    while (pos < s.length) {
      const np = r.feed(s, pos);
      assert.ok(np > pos && np <= s.length, `feed must consume: ${pos} -> ${np}`);
      pos = np;
      assert.ok(r.status === 0 || r.status === 1 || !codec.errorName(r.status).startsWith("error "), `unnamed status ${r.status}`);
      if (r.status !== 0) {
        assertInBounds(r, cap);
        out.push(line(r));
      }
      if (r.status === -2) return out.join(" | ");
    }
  }
  return out.join(" | ");
}

const oneChunk = (codec: any, cap: number, data: string) => feedChunks(codec, cap, data, [Math.max(1, data.length)]);

const streams = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u).toString("latin1")),
  fc.tuple(fc.array(packet, { minLength: 1, maxLength: 4 }), mutations).map(([ps, ms]) => mutate(ps.map(generate).join(""), ms)),
);

function properties(name: string, get: () => any): void {
  describe(name, () => {
    test("random valid packets: encode == mqtt-packet's bytes, decode(encode(p)) == p, one byte less is ERR_BUFFER_TOO_SMALL", () => {
      const codec = get();
      fc.assert(
        fc.property(packet, (p) => {
          const bytes = generate(p);
          const cap = capFor(bytes.length);
          const enc = runCommand(codec, encodeCommand(p, cap));
          assert.equal(enc, hex(bytes));
          assert.equal(runCommand(codec, `D ${cap} 0 ${enc}`), expectedLine(p));
          assert.equal(runCommand(codec, encodeCommand(p, bytes.length - 1)), "ERR-1");
        }),
        { numRuns: 300 },
      );
    });
    test("several packets in random chunks all decode, in order", () => {
      const codec = get();
      fc.assert(
        fc.property(fc.array(packet, { minLength: 1, maxLength: 6 }), chunkSizes, (ps, sizes) => {
          const data = ps.map(generate).join("");
          const cap = Math.max(...ps.map((p) => generate(p).length));
          assert.equal(feedChunks(codec, cap, data, sizes), ps.map(expectedLine).join(" | "));
        }),
        { numRuns: 200 },
      );
    });
    test("random and mutated streams: no throw, in bounds, named errors, same result however cut", () => {
      const codec = get();
      fc.assert(
        fc.property(streams, fc.integer({ min: 0, max: 80 }), chunkSizes, (data, cap, sizes) => {
          assert.equal(feedChunks(codec, cap, data, sizes), oneChunk(codec, cap, data));
        }),
        { numRuns: 1000 },
      );
    });
  });
}

let esp: any;
let src: any;
before(async () => {
  esp = loadEspruinoCodec().exports;
  src = await loadSourceCodec();
});
properties("Espruino bundle (sandbox)", () => esp);
properties("TypeScript source (bounds-checked intrinsics)", () => src);

test("Lua bundle agrees on sampled random packets and fuzzed streams", { skip: skipUnless("lua5.3") }, () => {
  const ps = fc.sample(packet, { numRuns: 300, seed: 4242 });
  const fuzz = fc.sample(fc.tuple(streams, fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 9 })), { numRuns: 400, seed: 777 });
  const lines = [
    ...ps.map((p) => encodeCommand(p, capFor(generate(p).length))),
    ...ps.map((p) => `D ${capFor(generate(p).length)} 0 ${hex(generate(p))}`),
    ...fuzz.map(([d, cap, chunk]) => `D ${cap} ${chunk} ${hex(d)}`),
  ];
  const out = runLuaFile("test/codec/driver.lua", lines.join("\n") + "\n").split("\n");
  const n = ps.length;
  ps.forEach((p, i) => {
    assert.equal(out[i], hex(generate(p)), `encode ${JSON.stringify(p)}`);
    assert.equal(out[n + i], expectedLine(p), `decode ${JSON.stringify(p)}`);
  });
  fuzz.forEach((_, i) => assert.equal(out[2 * n + i], runCommand(esp, lines[2 * n + i]), `fuzz ${lines[2 * n + i]}`));
});
