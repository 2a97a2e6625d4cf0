// Probe: net sockets against the test's line-echo server on 127.0.0.1:PROBE_PORT (the
// test puts `var PROBE_PORT = n, PROBE_CLOSED_PORT = m;` before this file). The server answers each line L
// with "echo:L" (but says nothing to "quiet:..." lines), and closes the connection
// when it gets the line "bye"; "big" gets 1500 bytes and a newline. Data is
// printed by whole lines: TCP may split or join chunks differently on each run.
print("probe sockets");
var net = require("net");
function lines(tag, s) {
  var buf = "";
  s.on("data", function (d) {
    buf += d;
    var i;
    while ((i = buf.indexOf("\n")) >= 0) { print(tag, "line", buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
  s.on("end", function () { print(tag, "end"); });
  s.on("error", function (e) { print(tag, "error", JSON.stringify(e)); });
}
try {
  net.connect({host: "no-such-host.invalid", port: 80}, function () { print("unknown host connected?"); });
  print("unknown host did not throw");
} catch (e) {
  print("unknown host throws", "" + e);
}
// PROBE_CLOSED_PORT has no listener: connect() blocks on Espruino, so the refusal is
// printed ("ERROR: Connect failed ...") and thrown before net.connect returns
try {
  net.connect({host: "127.0.0.1", port: PROBE_CLOSED_PORT}, function () { print("refused connected?"); });
  print("refused did not throw");
} catch (e) {
  print("refused throws", "" + e);
}
var a = net.connect({host: "127.0.0.1", port: PROBE_PORT}, function (x) {
  print("a connect callback, gets the socket:", x === a);
  print("a write in callback returns", a.write("two\n"));
});
lines("a", a);
a.on("close", function (hadError) { print("a close", hadError); stage2(); });
print("a write before connect returns", a.write("quiet:one\n"));
var seen = 0;
a.on("data", function () { if (++seen === 1) a.write("bye\n"); });

function stage2() {
  var b = net.connect({host: "127.0.0.1", port: PROBE_PORT}, function () {
    print("b end returns", b.end("quiet:last\n"));
    try { b.write("more\n"); print("b write after end did not throw"); } catch (e) { print("b write after end throws", "" + e); }
  });
  lines("b", b);
  b.on("close", function (hadError) { print("b close", hadError); stageBig(); });
}

function stageBig() {
  // the server answers "big" with 1500 bytes and a newline in one write: 'data'
  // events carry at most 536 bytes each (one read per pass of the idle loop)
  var d = net.connect({host: "127.0.0.1", port: PROBE_PORT}, function () { d.write("big\n"); });
  var sizes = [], total = 0;
  d.on("data", function (x) {
    sizes.push(x.length);
    total += x.length;
    if (total === 1501) { print("big reply in data events of", sizes.join(",")); d.end(); }
  });
  d.on("close", function () { stage3(); });
}

function stage3() {
  var c = net.connect({host: "127.0.0.1", port: PROBE_PORT}, function () {
    c.write("kept\n");
  });
  lines("c", c);
  var got = "";
  c.on("data", function (d) {
    got += d;
    // "kept" left when the event loop ran (its echo is here); now write "lost" and stop
    // in the same call: the queued "lost" never leaves. On the emulator
    // ESP32.deepSleep ends the run; on the Linux build (no ESP32 module) the test
    // kills the interpreter when it sees <<END>>, during the busy wait.
    if (got.indexOf("echo:kept\n") < 0) return;
    c.write("lost\n");
    print("<<END>>");
    if (typeof ESP32 !== "undefined") ESP32.deepSleep(60e6);
    else { var t0 = Date.now(); while (Date.now() - t0 < 20000); }
  });
}
