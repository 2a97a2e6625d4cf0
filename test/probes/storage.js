// Probe: Storage — zero-length write, rewriting, list, getFree, readJSON, read, offsets.
// Free space is printed as differences: the real interpreter's Storage is 256 KiB,
// the emulated board's is the size in its board JSON.
print("probe storage");
var S = require("Storage");
function tryIt(label, f) {
  try { print(label, JSON.stringify(f())); } catch (e) { print(label, "threw", "" + e); }
}
// (not eraseAll: the probe itself runs from the Storage file .bootcde)
var free0 = S.getFree();
tryIt("list empty", function () { return S.list(); });
tryIt("zero-length write", function () { return S.write("empty", ""); });
tryIt("list after zero-length write", function () { return S.list(); });
tryIt("write a", function () { return S.write("a", "hello"); });
tryIt("used by a 5-byte file", function () { return free0 - S.getFree(); });
tryIt("rewrite a shorter", function () { return S.write("a", "bye"); });
tryIt("read a", function () { return S.read("a"); });
tryIt("used after the rewrite (old copy not reclaimed)", function () { return free0 - S.getFree(); });
tryIt("stats", function () { var s = S.getStats(); return [s.fileBytes, s.fileCount, s.trashBytes, s.trashCount]; });
tryIt("erase a", function () { return S.erase("a"); });
tryIt("used after erase", function () { return free0 - S.getFree(); });
tryIt("erase missing", function () { return S.erase("nope"); });
tryIt("read missing", function () { return S.read("nope"); });
tryIt("readJSON missing", function () { return S.readJSON("nope"); });
S.write("bad", "{\"x\":1");
tryIt("readJSON bad, noExceptions", function () { return S.readJSON("bad", true); });
try { S.readJSON("bad"); print("readJSON bad did not throw"); } catch (e) {
  // Espruino's JSON parser words its errors differently from V8's: compare the kind only
  print("readJSON bad throws", ("" + e).split(":")[0]);
}
S.write("loose", "{a:1,\"b\":[1,2]} trailing");
tryIt("readJSON unquoted keys, trailing text", function () { return S.readJSON("loose"); });
tryIt("writeJSON", function () { S.writeJSON("j", {a: 1, "b c": "x\xfc\n", d: [1.5, true, null, undefined], f: function () {}, u: undefined, n: {}}); return S.read("j"); });
tryIt("writeJSON round trip", function () { return S.readJSON("j"); });
tryIt("write object", function () { S.write("o", {a: 1, s: "\xfc"}); return S.read("o"); });
tryIt("write array", function () { S.write("arr", [65, 66, 300]); return S.read("arr"); });
tryIt("write number", function () { S.write("num", 42); return S.read("num"); });
tryIt("write Uint8Array", function () { S.write("u8", new Uint8Array([1, 2, 255])); return S.read("u8"); });
tryIt("write null", function () { return S.write("nul", null); });
tryIt("create 6 bytes", function () { return S.write("c", "AB", 0, 6); });
tryIt("read c", function () { return S.read("c"); });
tryIt("write at 2", function () { return S.write("c", "CD", 2); });
tryIt("write past the end", function () { return S.write("c", "EFGH", 4); });
tryIt("read c again", function () { return S.read("c"); });
tryIt("offset into a missing file", function () { return S.write("m", "XY", 3); });
tryIt("read with offset/length", function () { return [S.read("c", 1, 2), S.read("c", 4), S.read("c", 9), S.read("c", 0, 99)]; });
tryIt("29-char name (cut to 28)", function () { S.write("n2345678901234567890123456789", "long"); return S.list(/^n2/); });
tryIt("number as name", function () { S.write(7, "x"); return S.read("7"); });
tryIt("list /^[ac]/", function () { return S.list(/^[ac]/).sort(); });
tryIt("list order: a rewritten file moves to the end", function () { S.write("p1", "1"); S.write("p2", "2"); S.write("p1", "x"); return S.list(/^p\d/); });
tryIt("list order: rewriting the same bytes changes nothing", function () { S.write("p2", "2"); return S.list(/^p\d/); });
tryIt("a rewrite into an erased file of the same size keeps it", function () { S.write("q", "\xff\xff"); S.write("q", "ab"); return [S.read("q"), S.getStats().trashCount]; });
print("<<END>>");
