// Probe: timers — ids, clearing unknown/undefined ids, clear-all, intervals, order.
// Prints a transcript; the same on the real interpreter and the emulator.
// Timer gaps are >= 50 ms so a loaded machine cannot reorder them.
print("probe timers");
function tryIt(label, f) {
  try { print(label, JSON.stringify(f())); } catch (e) { print(label, "threw", "" + e); }
}
var a = setTimeout(function () { print("a fired"); }, 50);
var b = setTimeout(function (x, y) { print("b fired", x, y); }, 100, "x", 2);
print("ids", typeof a, a, b);
tryIt("clearTimeout(unknown id)", function () { return clearTimeout(999); });
tryIt("clearTimeout(undefined)", function () { return clearTimeout(undefined); });
tryIt("clearInterval(undefined)", function () { return clearInterval(undefined); });
tryIt("changeInterval(unknown id)", function () { return changeInterval(999, 10); });
tryIt("setTimeout()", function () { return setTimeout(); });
tryIt("setTimeout(1, 2)", function () { return setTimeout(1, 2); });
var n = 0;
var iv = setInterval(function () {
  n++;
  print("interval", n);
  if (n === 3) {
    clearTimeout(iv); // clearTimeout clears an interval too: one timer list
    stage2();
  }
}, 200);
print("interval id", iv);

function stage2() {
  // every timer is gone now: ids start again from 1
  var c = setTimeout(function () { print("c fired"); stage3(); }, 50);
  print("id after all timers ended", c);
}

function stage3() {
  var d = setTimeout(function () { print("d never fires"); }, 50);
  var e = setInterval(function () { print("e never fires"); }, 60);
  print("ids", d, e);
  clearTimeout(d);
  var f = setTimeout(function () { print("f never fires"); }, 50);
  print("id after clearing the last", f);
  clearTimeout(); // no argument: every timeout and interval goes
  setTimeout(function () { print("after clear-all"); print("<<END>>"); }, 100);
}
