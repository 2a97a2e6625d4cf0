// Probe: process.memory() fields. Only names, types and invariants are printed: the
// block counts and block size (18 bytes on the Linux build, 14 on ESP32) differ by build.
print("probe memory");
var m = process.memory();
print("fields", Object.keys(m).join(","));
print("types", Object.keys(m).map(function (k) { return typeof m[k]; }).join(","));
print("free + usage = total", m.free + m.usage === m.total);
// rx/tx totals are the board's buffer sizes (ESP32: 4096/256; Linux: 1024/256)
print("rx fields used,total", typeof m.rx.used, typeof m.rx.total);
print("tx fields used,total", typeof m.tx.used, typeof m.tx.total);
var n = process.memory(false);
print("memory(false) fields", Object.keys(n).join(","));
var before = process.memory().usage;
var keep = [];
for (var i = 0; i < 100; i++) keep.push(i);
var after = process.memory().usage;
print("a 100-element array costs blocks", after - before >= 100);
keep = undefined;
// (the globals made since `before` stay: compare with the array's cost only)
print("and gives them back", after - process.memory().usage > 90);
print("<<END>>");
