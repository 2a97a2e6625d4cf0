// Drives the codec bundle (global `wisp`) on the real Espruino interpreter with the
// command lines of test/codec/harness.ts: one result line per command. It mirrors
// runCommand()/describe() there and test/codec/driver.lua, in the ES5 Espruino runs.
// Loaded from Storage after codec.js; codecRun(file) reads commands from a host file.
var codecRun = (function () {
  var w = wisp;
  var NAMES = ["", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT"];
  // Long tokens come base64-coded ("=...") so Espruino's native atob/btoa do the work.
  function unhex(h) {
    if (h === "_") return "";
    if (h.charAt(0) === "=") return atob(h.substr(1));
    var s = "";
    for (var i = 0; i < h.length; i += 2) s += String.fromCharCode(parseInt(h.substr(i, 2), 16));
    return s;
  }
  function hex(s) {
    if (s.length === 0) return "_";
    if (s.length > 64) return "=" + btoa(s);
    var o = "";
    for (var i = 0; i < s.length; i++) { var c = s.charCodeAt(i); o += (c < 16 ? "0" : "") + c.toString(16); }
    return o;
  }
  function fmt(s) {
    if (s === null) return "-";
    if (s.length <= 64) return hex(s).replace(/^_$/, "");
    return "#" + s.length + ":" + E.sum(E.toUint8Array(s));
  }
  function b(x) { return x ? 1 : 0; }
  function describe(r) {
    var p = r.packet;
    function f(off, len) { return len < 0 ? "-" : fmt(r.str(off, len)); }
    if (r.status < 0) return r.status === -20 ? "ERR-20 size=" + p.length + " type=" + p.type + " topic=" + f(p.topicOff, p.topicLen) : "ERR" + r.status;
    var t = p.type, s, i;
    if (t === 1) return "CONNECT clean=" + b(p.cleanSession) + " ka=" + p.keepAlive + " cid=" + f(p.clientIdOff, p.clientIdLen) + " will=" + f(p.topicOff, p.topicLen) + " wmsg=" + f(p.payloadOff, p.payloadLen) + " wq=" + p.qos + " wr=" + b(p.retain) + " user=" + f(p.usernameOff, p.usernameLen) + " pass=" + f(p.passwordOff, p.passwordLen);
    if (t === 2) return "CONNACK sp=" + b(p.sessionPresent) + " rc=" + p.returnCode;
    if (t === 3) return "PUBLISH q=" + p.qos + " r=" + b(p.retain) + " d=" + b(p.dup) + " id=" + p.id + " topic=" + f(p.topicOff, p.topicLen) + " payload=" + f(p.payloadOff, p.payloadLen);
    if (t === 8 || t === 10) {
      s = NAMES[t] + " id=" + p.id;
      for (i = 0; i < p.count; i++) s += " " + f(r.filterAt(i), p.itemLen) + (t === 8 ? ":" + p.itemQos : "");
      return s;
    }
    if (t === 9) {
      s = "SUBACK id=" + p.id;
      for (i = 0; i < p.count; i++) s += " " + r.codeAt(i);
      return s;
    }
    return NAMES[t] + (t >= 4 && t <= 11 ? " id=" + p.id : "");
  }
  function decodeAll(r, data, chunk) {
    var out = [];
    var step = chunk > 0 ? chunk : Math.max(1, data.length);
    for (var c = 0; c < data.length; c += step) {
      var s = data.substring(c, c + step);
      var pos = 0;
      while (pos < s.length) {
        pos = r.feed(s, pos);
        if (r.status !== 0) out.push(describe(r));
        if (r.status === -2) return out.join(" | ");
      }
    }
    return out.join(" | ");
  }
  function opt(h) { return h === "-" ? null : unhex(h); }
  function run(line) {
    var a = line.split(" ");
    if (a[0] === "D") return decodeAll(w.newReader(+a[1]), unhex(a[3]), +a[2]);
    if (a[0] === "M") return w.topicMatches(unhex(a[1]), unhex(a[2])) ? "1" : "0";
    if (a[0] === "T") return String(w.checkTopic(unhex(a[1])));
    if (a[0] === "F") return String(w.checkFilter(unhex(a[1])));
    var buf = w.newBuffer(+a[1]), k = a[2], n, i;
    if (k === "connect") {
      var o = w.newConnectOptions();
      o.clientId = unhex(a[3]); o.cleanSession = a[4] === "1"; o.keepAlive = +a[5];
      o.username = opt(a[6]); o.password = opt(a[7]); o.willTopic = opt(a[8]);
      o.willMessage = unhex(a[9]); o.willQos = +a[10]; o.willRetain = a[11] === "1";
      n = w.encodeConnect(buf, o);
    } else if (k === "connack") n = w.encodeConnack(buf, a[3] === "1", +a[4]);
    else if (k === "publish") n = w.encodePublish(buf, unhex(a[3]), unhex(a[4]), +a[5], a[6] === "1", a[7] === "1", +a[8]);
    else if (k === "ack") n = w.encodeAck(buf, +a[3], +a[4]);
    else if (k === "empty") n = w.encodeEmpty(buf, +a[3]);
    else if (k === "subscribe") {
      var fs = [], qs = [];
      for (i = 4; i + 1 < a.length; i += 2) { fs.push(unhex(a[i])); qs.push(+a[i + 1]); }
      n = w.encodeSubscribe(buf, +a[3], fs, qs);
    } else if (k === "suback") n = w.encodeSuback(buf, +a[3], a.slice(4).map(Number));
    else if (k === "unsubscribe") n = w.encodeUnsubscribe(buf, +a[3], a.slice(4).map(unhex));
    else throw new Error("bad command " + line);
    return n < 0 ? "ERR" + n : hex(w.bufStr(buf, 0, n));
  }
  return function (file) {
    var lines = require("fs").readFileSync(file).split("\n"), out = [];
    for (var i = 0; i < lines.length; i++) {
      if (lines[i] === "") continue;
      try { out.push(run(lines[i])); } catch (e) { out.push("THROW " + e); }
    }
    return out.join("\n");
  };
})();
