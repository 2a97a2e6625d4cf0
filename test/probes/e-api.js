// Probe: E.CRC32, E.toString, E.toUint8Array, btoa/atob, require, and their bad-argument errors.
print("probe e-api");
function tryIt(label, f) {
  try { print(label, JSON.stringify(f())); } catch (e) { print(label, "threw", "" + e); }
}
tryIt("CRC32 string", function () { return E.CRC32("hello"); });
tryIt("CRC32 empty", function () { return E.CRC32(""); });
tryIt("CRC32 Uint8Array", function () { return E.CRC32(new Uint8Array([1, 2, 3])); });
tryIt("CRC32 array", function () { return E.CRC32([1, 2, 3]); });
tryIt("CRC32 high bytes", function () { return E.CRC32("\xff\x80\x00"); });
tryIt("CRC32()", function () { return E.CRC32(); });
tryIt("CRC32(5)", function () { return E.CRC32(5); });
tryIt("toString mixed", function () { return E.toString(65, [66, 67], new Uint8Array([68]), {data: "E", count: 2}); });
tryIt("toString()", function () { return E.toString(); });
tryIt("toString(300)", function () { return E.toString(300); });
tryIt("toString(true)", function () { return E.toString(true); });
tryIt("toString ArrayBuffer", function () { return E.toString(new Uint8Array([72, 105]).buffer); });
tryIt("toString({})", function () { return E.toString({}); });
tryIt("toUint8Array mixed", function () { var u = E.toUint8Array("a", [300, -1], {data: [1, 2], count: 2}); return [u.length, u[0], u[1], u[2], u[6]]; });
tryIt("toUint8Array()", function () { return E.toUint8Array().length; });
tryIt("toUint8Array is Uint8Array", function () { return E.toUint8Array("x") instanceof Uint8Array; });
tryIt("btoa", function () { return [btoa(""), btoa("a"), btoa("ab"), btoa("\xff\xfe")]; });
tryIt("btoa Uint8Array", function () { return btoa(new Uint8Array([65, 66])); });
tryIt("btoa(123)", function () { return btoa(123); });
tryIt("btoa()", function () { return btoa(); });
tryIt("atob", function () { return [atob(""), atob("YQ=="), atob("YWI"), atob("Y Q==")]; });
tryIt("atob()", function () { return atob(); });
tryIt("require missing", function () { return require("nope"); });
tryIt("require(5)", function () { return require(5); });
print("<<END>>");
