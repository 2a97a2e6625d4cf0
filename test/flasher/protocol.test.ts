/**
 * The REPL protocol pieces without a pty: chunk escaping, XON/XOFF pausing the
 * writes, reply framing amid app output, board exceptions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";
import { EspruinoRepl, jsStringLiteral, type Link } from "../../host-tools/flasher/espruino.ts";

test("every byte value survives escaping, and the literal is printable ASCII only", () => {
  let all = "";
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  const lit = jsStringLiteral(all + '"\\' + "\r\n\x10\x04\x03\x11\x13");
  assert.match(lit, /^[\x20-\x7e]+$/);
  assert.equal(vm.runInNewContext(lit), all + '"\\' + "\r\n\x10\x04\x03\x11\x13");
});

/** A link whose far end is scripted by the test. */
function fakeLink() {
  const sent: string[] = [];
  let fn: ((b: Buffer) => void) | null = null;
  const link: Link = {
    write: async (b) => {
      sent.push(b.toString("latin1"));
    },
    onData: (f) => (fn = f),
    offData: () => (fn = null),
  };
  return { link, sent, board: (s: string) => fn!(Buffer.from(s, "latin1")) };
}

test("XOFF from the board holds our writes until XON; the bytes are not taken as output", async () => {
  const { link, sent, board } = fakeLink();
  const repl = new EspruinoRepl(link);
  board("\x13");
  let done = false;
  const p = repl.send("\x10print(1)\n").then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(done, false);
  assert.equal(sent.length, 0);
  board("\x11");
  await p;
  assert.deepEqual(sent, ["\x10print(1)\n"]);
  assert.equal(repl.discard(), "");
  repl.close();
});

test("replies are found by id amid app output; a board exception becomes a BoardError", async () => {
  const { link, sent, board } = fakeLink();
  const repl = new EspruinoRepl(link);
  const id = await repl.post("1+1");
  assert.match(sent[0], /^\x10try\{print\("@"\+"@W1:"\+JSON\.stringify\(1\+1\)\+"@@"\)\}catch\(e\)\{.*\}\n$/);
  assert.ok(!sent[0].includes("@@W1"), "the marker is never in the command text");
  board("tick\r\n@@W0:5@@ noise @@W1:");
  board("2@@\r\n");
  assert.equal(await repl.reply(id), 2);
  const id2 = await repl.post('require("Storage").write("x","y")');
  board('@@E2:"Error: Storage: not enough space for \\"x\\""@@\r\n');
  await assert.rejects(repl.reply(id2), (e: any) => e.code === "STORAGE_FULL" && /not enough space/.test(e.message));
  const id3 = await repl.post("0");
  await assert.rejects(repl.reply(id3, 50, "probe"), (e: any) => e.code === "NO_REPLY" && /no probe from the board within 50 ms/.test(e.message));
  repl.close();
});
