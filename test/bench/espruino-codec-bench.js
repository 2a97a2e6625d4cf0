// Runs on the real Espruino interpreter, after dist/espruino/codec.js (global `wisp`)
// was loaded from Storage. benchCase(i) times one bench case: wisp's encode into
// the TX buffer, bytes-to-string (bufStr) and decode (reader.feed plus the fields as
// strings, as a client delivering a message needs them), and the same packet
// through a plain string codec (string-building encoder, substr decoder): the
// baseline. Figures are ms per operation; only ratios within one run count.
var benchCase = (function () {
  var w = wisp;
  var tx = w.newBuffer(2048);
  var rd = w.newReader(2048);
  var C = String.fromCharCode;
  var TOPIC = "sensors/abc-1234/temp/x"; // 24 bytes, as in issue 11
  var FILTERS = ["cmd/abc/#", "cfg/+/interval"], QOS = [1, 2];
  var p64 = "", p1k = "";
  for (var i = 0; i < 64; i++) p64 += "x";
  for (i = 0; i < 16; i++) p1k += p64;
  var out = { a: "", b: "", n: 0 };

  // ---- the baseline: a plain string codec, no validation beyond framing
  function sLen(n) {
    var s = "";
    do { var d = n & 127; n >>= 7; s += C(n ? d | 128 : d); } while (n);
    return s;
  }
  function sPublish(topic, payload, qos, id) {
    return C(0x30 | (qos << 1)) + sLen(2 + topic.length + (qos ? 2 : 0) + payload.length) +
      C(topic.length >> 8, topic.length & 255) + topic + (qos ? C(id >> 8, id & 255) : "") + payload;
  }
  function sSubscribe(id, fs, qs) {
    var b = C(id >> 8, id & 255);
    for (var i = 0; i < fs.length; i++) b += C(fs[i].length >> 8, fs[i].length & 255) + fs[i] + C(qs[i]);
    return "\x82" + sLen(b.length) + b;
  }
  function sAck(t, id) { return C(t << 4, 2, id >> 8, id & 255); }
  /** Header, then the body per type; returns the packet type. */
  function sDecode(s) {
    var h = s.charCodeAt(0), p = 1, m = 1, rl = 0, c;
    do { c = s.charCodeAt(p++); rl += (c & 127) * m; m *= 128; } while (c & 128);
    var t = h >> 4, end = p + rl;
    if (t === 3) {
      var tl = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1);
      out.a = s.substr(p + 2, tl); p += 2 + tl;
      if (h & 6) { out.n = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1); p += 2; }
      out.b = s.substr(p, end - p);
    } else if (t === 8) {
      out.n = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1); p += 2;
      while (p < end) { var l = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1); out.a = s.substr(p + 2, l); p += 3 + l; }
    } else out.n = (s.charCodeAt(p) << 8) | s.charCodeAt(p + 1);
    return t;
  }

  // ---- wisp decode: feed, then the fields a client would hand on
  function wDecode(s) {
    rd.feed(s, 0);
    if (rd.status !== w.PACKET_READY) throw new Error("wisp decode: " + rd.status);
    var p = rd.packet;
    if (p.type === 3) { out.a = rd.str(p.topicOff, p.topicLen); out.b = rd.str(p.payloadOff, p.payloadLen); }
    else if (p.type === 8) { for (var i = 0; i < p.count; i++) out.a = rd.str(rd.filterAt(i), p.itemLen); }
    out.n = p.id;
    return p.type;
  }

  var CASES = [
    ["PUBLISH QoS 1, 64 B", function () { return w.encodePublish(tx, TOPIC, p64, 1, false, false, 7); }, function () { return sPublish(TOPIC, p64, 1, 7); }],
    ["PUBLISH QoS 1, 1 KiB", function () { return w.encodePublish(tx, TOPIC, p1k, 1, false, false, 7); }, function () { return sPublish(TOPIC, p1k, 1, 7); }],
    ["SUBSCRIBE, 2 filters", function () { return w.encodeSubscribe(tx, 9, FILTERS, QOS); }, function () { return sSubscribe(9, FILTERS, QOS); }],
    ["PUBACK", function () { return w.encodeAck(tx, w.PUBACK, 300); }, function () { return sAck(4, 300); }],
  ];

  /**
   * ms per call of f: the fastest of 5 rounds of ms/5 each (the machine is shared:
   * the fastest round is the one least disturbed, for wisp and the baseline alike).
   */
  function time(f, ms) {
    var best = 1e9;
    for (var r = 0; r < 5; r++) {
      var n = 0, t0 = getTime(), t;
      do { f(); n++; t = getTime(); } while ((t - t0) * 5000 < ms);
      if ((t - t0) * 1000 / n < best) best = (t - t0) * 1000 / n;
    }
    return best;
  }

  return function (i, ms) {
    var c = CASES[i], enc = c[1], base = c[2];
    var len = enc();
    var wire = w.bufStr(tx, 0, len);
    if (wire !== base()) throw new Error(c[0] + ": wisp and the baseline encode differently");
    if (wDecode(wire) !== sDecode(wire)) throw new Error(c[0] + ": decoders disagree");
    return {
      name: c[0],
      bytes: len,
      encode: time(enc, ms),
      toString: time(function () { w.bufStr(tx, 0, len); }, ms),
      decode: time(function () { wDecode(wire); }, ms),
      baseEncode: time(base, ms),
      baseDecode: time(function () { sDecode(wire); }, ms),
      cases: CASES.length,
    };
  };
})();
