/**
 * Shared test harness for the codec: a tiny line protocol that drives any codec
 * implementation (the Espruino bundle in the sandbox, the TypeScript source under
 * a bounds-checking shim, and — through driver.lua — the Lua bundle), plus the
 * translation of mqtt-packet objects into commands and expected result lines.
 *
 * Commands (strings are hex, "_" = empty, "-" = absent):
 *   D <cap> <chunk> <hex>        decode with a fresh reader of capacity cap, in chunks of `chunk` bytes (0 = one chunk)
 *   E <cap> connect <cid> <clean> <keepAlive> <user> <pass> <willTopic> <willMsg> <willQos> <willRetain>
 *   E <cap> connack <sessionPresent> <code>
 *   E <cap> publish <topic> <payload> <qos> <retain> <dup> <id>
 *   E <cap> ack <type> <id>  |  E <cap> empty <type>
 *   E <cap> subscribe <id> <filter> <qos> ...  |  E <cap> suback <id> <code> ...  |  E <cap> unsubscribe <id> <filter> ...
 *   M <filter> <topic>  → 1/0      T <topic> / F <filter> → check code
 * Each command yields exactly one output line.
 */
import mqttPacket from "mqtt-packet";

export type Codec = any;

/** Byte string (latin1) <-> hex token. */
export const hex = (s: string): string => (s.length === 0 ? "_" : Buffer.from(s, "latin1").toString("hex"));
export const unhex = (h: string): string => (h === "_" ? "" : Buffer.from(h, "hex").toString("latin1"));
/** A JS (Unicode) string as the byte string of its UTF-8 encoding. */
export const utf8 = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
const bin = (b: Buffer | string): string => (typeof b === "string" ? utf8(b) : b.toString("latin1"));

/** How a field shows in a result line: "-" absent, hex up to 64 bytes, else #length:byte-sum. */
export function fmt(s: string | null): string {
  if (s === null) return "-";
  if (s.length <= 64) return Buffer.from(s, "latin1").toString("hex");
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s.charCodeAt(i);
  return `#${s.length}:${sum}`;
}

/** The result line for the reader's current status. Mirrors describe() in driver.lua. */
export function describe(r: any): string {
  const p = r.packet;
  const f = (off: number, len: number) => fmt(len < 0 ? null : r.str(off, len));
  if (r.status < 0) {
    return r.status === -20 ? `ERR-20 size=${p.length} type=${p.type} topic=${f(p.topicOff, p.topicLen)}` : `ERR${r.status}`;
  }
  const t = p.type;
  switch (t) {
    case 1:
      return `CONNECT clean=${+p.cleanSession} ka=${p.keepAlive} cid=${f(p.clientIdOff, p.clientIdLen)} will=${f(p.topicOff, p.topicLen)} wmsg=${f(p.payloadOff, p.payloadLen)} wq=${p.qos} wr=${+p.retain} user=${f(p.usernameOff, p.usernameLen)} pass=${f(p.passwordOff, p.passwordLen)}`;
    case 2:
      return `CONNACK sp=${+p.sessionPresent} rc=${p.returnCode}`;
    case 3:
      return `PUBLISH q=${p.qos} r=${+p.retain} d=${+p.dup} id=${p.id} topic=${f(p.topicOff, p.topicLen)} payload=${f(p.payloadOff, p.payloadLen)}`;
    case 8:
    case 10: {
      let s = `${t === 8 ? "SUBSCRIBE" : "UNSUBSCRIBE"} id=${p.id}`;
      for (let i = 0; i < p.count; i++) {
        const o = r.filterAt(i);
        s += ` ${f(o, p.itemLen)}${t === 8 ? ":" + p.itemQos : ""}`;
      }
      return s;
    }
    case 9: {
      let s = `SUBACK id=${p.id}`;
      for (let i = 0; i < p.count; i++) s += ` ${r.codeAt(i)}`;
      return s;
    }
    default:
      return `${NAMES[t]}${t >= 4 && t <= 11 ? " id=" + p.id : ""}`;
  }
}

const NAMES = ["", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT"];

/** Feed `data` to reader r in chunks; the result lines joined by " | ". Stops after a fatal error. */
export function decodeAll(r: any, data: string, chunk: number): string {
  const out: string[] = [];
  const step = chunk > 0 ? chunk : Math.max(1, data.length);
  for (let c = 0; c < data.length; c += step) {
    const s = data.substring(c, c + step);
    let pos = 0;
    while (pos < s.length) {
      pos = r.feed(s, pos);
      if (r.status !== 0) out.push(describe(r));
      if (r.status === -2) return out.join(" | ");
    }
  }
  return out.join(" | ");
}

/** Run one command line against a codec (its exports object). Mirrors driver.lua. */
export function runCommand(codec: Codec, line: string): string {
  const a = line.split(" ");
  const opt = (h: string): string | null => (h === "-" ? null : unhex(h));
  if (a[0] === "D") return decodeAll(codec.newReader(+a[1]), unhex(a[3]), +a[2]);
  if (a[0] === "M") return codec.topicMatches(unhex(a[1]), unhex(a[2])) ? "1" : "0";
  if (a[0] === "T") return String(codec.checkTopic(unhex(a[1])));
  if (a[0] === "F") return String(codec.checkFilter(unhex(a[1])));
  const b = codec.newBuffer(+a[1]);
  const k = a[2];
  let n: number;
  if (k === "connect") {
    const o = codec.newConnectOptions();
    o.clientId = unhex(a[3]);
    o.cleanSession = a[4] === "1";
    o.keepAlive = +a[5];
    o.username = opt(a[6]);
    o.password = opt(a[7]);
    o.willTopic = opt(a[8]);
    o.willMessage = unhex(a[9]);
    o.willQos = +a[10];
    o.willRetain = a[11] === "1";
    n = codec.encodeConnect(b, o);
  } else if (k === "connack") n = codec.encodeConnack(b, a[3] === "1", +a[4]);
  else if (k === "publish") n = codec.encodePublish(b, unhex(a[3]), unhex(a[4]), +a[5], a[6] === "1", a[7] === "1", +a[8]);
  else if (k === "ack") n = codec.encodeAck(b, +a[3], +a[4]);
  else if (k === "empty") n = codec.encodeEmpty(b, +a[3]);
  else if (k === "subscribe") {
    const fs: string[] = [];
    const qs: number[] = [];
    for (let i = 4; i + 1 < a.length; i += 2) {
      fs.push(unhex(a[i]));
      qs.push(+a[i + 1]);
    }
    n = codec.encodeSubscribe(b, +a[3], fs, qs);
  } else if (k === "suback") n = codec.encodeSuback(b, +a[3], a.slice(4).map(Number));
  else if (k === "unsubscribe") n = codec.encodeUnsubscribe(b, +a[3], a.slice(4).map(unhex));
  else throw new Error(`bad command ${line}`);
  return n < 0 ? `ERR${n}` : hex(codec.bufStr(b, 0, n));
}

// ---- mqtt-packet objects → commands and expected lines ----

/** An mqtt-packet packet object (protocol 3.1.1). */
export type MP = any;

const CMD_TYPE: Record<string, number> = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7,
  subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14,
};

const h = (s: string | null | undefined): string => (s === null || s === undefined ? "-" : hex(s));

/** The encode command that should produce exactly what mqtt-packet generates for `p`. */
export function encodeCommand(p: MP, cap: number): string {
  const t = CMD_TYPE[p.cmd];
  const w = p.will;
  switch (p.cmd) {
    case "connect":
      return `E ${cap} connect ${hex(utf8(p.clientId))} ${+!!p.clean} ${p.keepalive} ${p.username === undefined ? "-" : hex(utf8(p.username))} ${p.password === undefined ? "-" : hex(bin(p.password))} ${w ? hex(utf8(w.topic)) : "-"} ${w ? hex(bin(w.payload)) : "_"} ${w ? w.qos : 0} ${w ? +!!w.retain : 0}`;
    case "connack":
      return `E ${cap} connack ${+!!p.sessionPresent} ${p.returnCode}`;
    case "publish":
      return `E ${cap} publish ${hex(utf8(p.topic))} ${hex(bin(p.payload))} ${p.qos} ${+!!p.retain} ${+!!p.dup} ${p.messageId ?? 0}`;
    case "subscribe":
      return `E ${cap} subscribe ${p.messageId} ${p.subscriptions.map((s: any) => `${hex(utf8(s.topic))} ${s.qos}`).join(" ")}`;
    case "suback":
      return `E ${cap} suback ${p.messageId} ${p.granted.join(" ")}`;
    case "unsubscribe":
      return `E ${cap} unsubscribe ${p.messageId} ${p.unsubscriptions.map((s: string) => hex(utf8(s))).join(" ")}`;
    case "pingreq":
    case "pingresp":
    case "disconnect":
      return `E ${cap} empty ${t}`;
    default:
      return `E ${cap} ack ${t} ${p.messageId}`;
  }
}

/** The line our decoder must print for mqtt-packet object `p`. */
export function expectedLine(p: MP): string {
  const t = CMD_TYPE[p.cmd];
  const w = p.will;
  const u = (s: string | undefined) => (s === undefined ? "-" : fmt(utf8(s)));
  switch (p.cmd) {
    case "connect":
      return `CONNECT clean=${+!!p.clean} ka=${p.keepalive} cid=${fmt(utf8(p.clientId))} will=${w ? fmt(utf8(w.topic)) : "-"} wmsg=${w ? fmt(bin(w.payload)) : "-"} wq=${w ? w.qos : 0} wr=${w ? +!!w.retain : 0} user=${u(p.username)} pass=${p.password === undefined ? "-" : fmt(bin(p.password))}`;
    case "connack":
      return `CONNACK sp=${+!!p.sessionPresent} rc=${p.returnCode}`;
    case "publish":
      return `PUBLISH q=${p.qos} r=${+!!p.retain} d=${+!!p.dup} id=${p.qos > 0 ? p.messageId : 0} topic=${fmt(utf8(p.topic))} payload=${fmt(bin(p.payload))}`;
    case "subscribe":
      return `SUBSCRIBE id=${p.messageId}${p.subscriptions.map((s: any) => ` ${fmt(utf8(s.topic))}:${s.qos}`).join("")}`;
    case "suback":
      return `SUBACK id=${p.messageId}${p.granted.map((c: number) => ` ${c}`).join("")}`;
    case "unsubscribe":
      return `UNSUBSCRIBE id=${p.messageId}${p.unsubscriptions.map((s: string) => ` ${fmt(utf8(s))}`).join("")}`;
    default:
      return `${NAMES[t]}${t >= 4 && t <= 11 ? " id=" + p.messageId : ""}`;
  }
}

/** What mqtt-packet generates for `p`, as a byte string. */
export function generate(p: MP): string {
  return (mqttPacket.generate(p, { protocolVersion: 4 }) as Buffer).toString("latin1");
}

/** Parse bytes with mqtt-packet; returns the packets (throws on its errors). */
export function mqttParse(bytes: string): MP[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: MP[] = [];
  const errs: Error[] = [];
  parser.on("packet", (p: MP) => out.push(p));
  parser.on("error", (e: Error) => errs.push(e));
  parser.parse(Buffer.from(bytes, "latin1"));
  if (errs.length > 0) throw errs[0];
  return out;
}

/** One vector: an mqtt-packet object with its wire bytes and our expected lines. */
export interface Vector {
  name: string;
  packet: MP;
  bytes: string;
  encode: string; // command
  decode: string; // command
  expect: string; // decode result line
}

/** Capacity large enough for a packet of n bytes (the body is at most n - 2). */
export const capFor = (n: number) => Math.max(8, n);

export function vector(name: string, p: MP): Vector {
  const bytes = generate(p);
  const cap = capFor(bytes.length);
  return { name, packet: p, bytes, encode: encodeCommand(p, cap), decode: `D ${cap} 0 ${hex(bytes)}`, expect: expectedLine(p) };
}

const pl = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
};

/** Every packet type and flag combination, and the size edges. */
export function allVectors(): Vector[] {
  const v: Vector[] = [];
  // CONNECT: clean x will (none, qos 0..2 x retain) x auth (none, user, user+password)
  let k = 0;
  for (const clean of [true, false]) {
    for (const will of [null, 0, 1, 2].flatMap((q) => (q === null ? [null] : [{ q, r: false }, { q, r: true }]))) {
      for (const auth of [0, 1, 2]) {
        k++;
        const p: MP = {
          cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean,
          clientId: k % 3 === 0 && clean ? "" : k % 3 === 1 ? "wisp-" + k : "képes-" + k,
          keepalive: [0, 60, 65535, 1][k % 4],
        };
        if (will) p.will = { topic: k % 2 === 0 ? "dev/ü/status" : "w", payload: will.q === 1 ? Buffer.alloc(0) : pl(5 + k), qos: will.q, retain: will.r };
        if (auth > 0) p.username = auth === 1 ? "" : "user-é";
        if (auth > 1) p.password = k % 2 === 0 ? Buffer.alloc(0) : pl(9, k);
        v.push(vector(`connect ${k}`, p));
      }
    }
  }
  for (let rc = 0; rc <= 5; rc++) v.push(vector(`connack rc=${rc}`, { cmd: "connack", sessionPresent: false, returnCode: rc }));
  v.push(vector("connack session present", { cmd: "connack", sessionPresent: true, returnCode: 0 }));
  // PUBLISH: qos x retain x dup (dup only with qos > 0)
  for (const qos of [0, 1, 2]) {
    for (const retain of [false, true]) {
      for (const dup of qos === 0 ? [false] : [false, true]) {
        v.push(vector(`publish q${qos} r${+retain} d${+dup}`, { cmd: "publish", topic: "sensors/t", payload: Buffer.from("21.5"), qos, retain, dup, messageId: qos > 0 ? 1 + qos * 1000 : undefined }));
      }
    }
  }
  v.push(vector("publish empty payload", { cmd: "publish", topic: "a", payload: Buffer.alloc(0), qos: 0, retain: true, dup: false }));
  v.push(vector("publish binary payload", { cmd: "publish", topic: "bin", payload: pl(256), qos: 1, retain: false, dup: false, messageId: 65535 }));
  v.push(vector("publish utf-8 topic", { cmd: "publish", topic: "maison/température/€/😀", payload: Buffer.from("x"), qos: 2, retain: false, dup: false, messageId: 1 }));
  v.push(vector("publish 65535-byte topic", { cmd: "publish", topic: "t/".repeat(32767) + "x", payload: Buffer.from("big"), qos: 0, retain: false, dup: false }));
  // remaining-length boundaries: QoS 0, topic "t" (3 bytes of variable header)
  for (const rem of [127, 128, 16383, 16384, 2097151, 2097152]) {
    v.push(vector(`publish remaining length ${rem}`, { cmd: "publish", topic: "t", payload: pl(rem - 3, rem), qos: 0, retain: false, dup: false }));
  }
  for (const cmd of ["puback", "pubrec", "pubrel", "pubcomp", "unsuback"]) {
    for (const id of [1, 0x1234, 65535]) v.push(vector(`${cmd} ${id}`, { cmd, messageId: id }));
  }
  v.push(vector("subscribe one", { cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "a/b", qos: 0 }] }));
  v.push(vector("subscribe several", {
    cmd: "subscribe", messageId: 65535,
    subscriptions: [{ topic: "sensors/+/temp", qos: 1 }, { topic: "#", qos: 2 }, { topic: "$SYS/#", qos: 0 }, { topic: "ü/+", qos: 2 }],
  }));
  v.push(vector("suback codes", { cmd: "suback", messageId: 7, granted: [0, 1, 2, 128] }));
  v.push(vector("suback one", { cmd: "suback", messageId: 1, granted: [128] }));
  v.push(vector("unsubscribe one", { cmd: "unsubscribe", messageId: 9, unsubscriptions: ["a/b"] }));
  v.push(vector("unsubscribe several", { cmd: "unsubscribe", messageId: 300, unsubscriptions: ["+/+", "a/#", "é"] }));
  for (const cmd of ["pingreq", "pingresp", "disconnect"]) v.push(vector(cmd, { cmd }));
  return v;
}

/** A packet as hex: first byte, then the minimal remaining length of `body` (hex), then body. */
export function frame(first: number, body: string): string {
  let n = body.length / 2;
  let out = first.toString(16).padStart(2, "0");
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d += 128;
    out += d.toString(16).padStart(2, "0");
  } while (n > 0);
  return out + body;
}

const s16 = (ascii: string) => (ascii.length / 2).toString(16).padStart(4, "0") + ascii; // hex string with its length
const a = (t: string) => Buffer.from(t, "latin1").toString("hex");
const connectBody = (name: string, level: number, flags: number, rest: string) =>
  s16(a(name)) + level.toString(16).padStart(2, "0") + flags.toString(16).padStart(2, "0") + "003c" + rest;
const PING = "c000";

/**
 * Malformed (and borderline valid) inputs with the exact result lines expected.
 * Every bad packet is followed by a PINGREQ to show the reader resynchronised,
 * except after a malformed remaining length, which is fatal.
 * [name, capacity, hex, expected]
 */
export const MALFORMED: [string, number, string, string][] = [
  ["packet type 0", 64, "0000" + PING, "ERR-3 | PINGREQ"],
  ["packet type 15", 64, "f00100" + PING, "ERR-3 | PINGREQ"],
  ["PUBREL with flags 0", 64, frame(0x60, "0001") + PING, "ERR-4 | PINGREQ"],
  ["SUBSCRIBE with flags 0", 64, frame(0x80, "0001" + s16("61") + "00") + PING, "ERR-4 | PINGREQ"],
  ["UNSUBSCRIBE with flags 3", 64, frame(0xa3, "0001" + s16("61")) + PING, "ERR-4 | PINGREQ"],
  ["PUBACK with flags 2", 64, frame(0x42, "0001") + PING, "ERR-4 | PINGREQ"],
  ["PINGREQ with flags 1", 64, "c100" + PING, "ERR-4 | PINGREQ"],
  ["CONNACK with flags 8", 64, frame(0x28, "0000") + PING, "ERR-4 | PINGREQ"],
  ["PUBLISH QoS 3", 64, frame(0x36, s16("61") + "0001") + PING, "ERR-14 | PINGREQ"],
  ["PUBLISH DUP with QoS 0", 64, frame(0x38, s16("61")) + PING, "ERR-4 | PINGREQ"],
  ["PUBLISH topic runs past the packet", 64, frame(0x30, "000561") + PING, "ERR-5 | PINGREQ"],
  ["PUBLISH QoS 1 without packet id", 64, frame(0x32, s16("61")) + PING, "ERR-5 | PINGREQ"],
  ["PUBLISH QoS 1 with packet id 0", 64, frame(0x32, s16("61") + "0000") + PING, "ERR-13 | PINGREQ"],
  ["PUBLISH empty topic", 64, frame(0x30, "0000") + PING, "ERR-11 | PINGREQ"],
  ["PUBLISH topic with +", 64, frame(0x30, s16("612f2b")) + PING, "ERR-10 | PINGREQ"],
  ["PUBLISH topic with #", 64, frame(0x30, s16("23")) + PING, "ERR-10 | PINGREQ"],
  ["PUBLISH topic with U+0000", 64, frame(0x30, s16("6100")) + PING, "ERR-9 | PINGREQ"],
  ["UTF-8 overlong C0 80", 64, frame(0x30, s16("c080")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 overlong C1 BF", 64, frame(0x30, s16("c1bf")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 overlong E0 80 80", 64, frame(0x30, s16("e08080")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 overlong E0 9F BF (U+07FF)", 64, frame(0x30, s16("e09fbf")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 U+0080 and U+0800 are fine", 64, frame(0x30, s16("c280e0a080")), "PUBLISH q=0 r=0 d=0 id=0 topic=c280e0a080 payload="],
  ["UTF-8 overlong F0 8F BF BF", 64, frame(0x30, s16("f08fbfbf")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 surrogate ED A0 80", 64, frame(0x30, s16("eda080")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 surrogate U+DFFF", 64, frame(0x30, s16("edbfbf")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 U+D7FF and U+E000 are fine", 64, frame(0x30, s16("ed9fbfee8080")), "PUBLISH q=0 r=0 d=0 id=0 topic=ed9fbfee8080 payload="],
  ["UTF-8 above U+10FFFF", 64, frame(0x30, s16("f4908080")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 lead byte F5", 64, frame(0x30, s16("f5808080")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 lone continuation byte", 64, frame(0x30, s16("618062")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 sequence cut by the string end", 64, frame(0x30, s16("61e282")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 bad continuation", 64, frame(0x30, s16("e228a1")) + PING, "ERR-8 | PINGREQ"],
  ["UTF-8 4-byte, U+FFFF and U+10FFFF are fine", 64, frame(0x30, s16("f09f9880efbfbff48fbfbf")), "PUBLISH q=0 r=0 d=0 id=0 topic=f09f9880efbfbff48fbfbf payload="],
  ["PUBACK with a trailing byte", 64, frame(0x40, "000100") + PING, "ERR-6 | PINGREQ"],
  ["PUBACK too short", 64, frame(0x40, "00") + PING, "ERR-5 | PINGREQ"],
  ["PUBCOMP with packet id 0", 64, frame(0x70, "0000") + PING, "ERR-13 | PINGREQ"],
  ["UNSUBACK empty", 64, frame(0xb0, "") + PING, "ERR-5 | PINGREQ"],
  ["CONNACK reserved bit", 64, frame(0x20, "0200") + PING, "ERR-17 | PINGREQ"],
  ["CONNACK return code 6", 64, frame(0x20, "0006") + PING, "ERR-17 | PINGREQ"],
  ["CONNACK session present with refusal", 64, frame(0x20, "0105") + PING, "ERR-17 | PINGREQ"],
  ["CONNACK three bytes", 64, frame(0x20, "000000") + PING, "ERR-6 | PINGREQ"],
  ["PINGRESP with a body", 64, frame(0xd0, "00") + PING, "ERR-6 | PINGREQ"],
  ["DISCONNECT with a body", 64, frame(0xe0, "0000") + PING, "ERR-6 | PINGREQ"],
  ["CONNECT MQIsdp level 3", 64, frame(0x10, connectBody("MQIsdp", 3, 2, s16("61"))) + PING, "ERR-15 | PINGREQ"],
  ["CONNECT level 5", 64, frame(0x10, connectBody("MQTT", 5, 2, s16("61"))) + PING, "ERR-15 | PINGREQ"],
  ["CONNECT name mqtt", 64, frame(0x10, connectBody("mqtt", 4, 2, s16("61"))) + PING, "ERR-15 | PINGREQ"],
  ["CONNECT reserved flag", 64, frame(0x10, connectBody("MQTT", 4, 3, s16("61"))) + PING, "ERR-16 | PINGREQ"],
  ["CONNECT will QoS without will", 64, frame(0x10, connectBody("MQTT", 4, 0x0a, s16("61"))) + PING, "ERR-16 | PINGREQ"],
  ["CONNECT will retain without will", 64, frame(0x10, connectBody("MQTT", 4, 0x22, s16("61"))) + PING, "ERR-16 | PINGREQ"],
  ["CONNECT password without username", 64, frame(0x10, connectBody("MQTT", 4, 0x42, s16("61") + s16("70"))) + PING, "ERR-16 | PINGREQ"],
  ["CONNECT will QoS 3", 64, frame(0x10, connectBody("MQTT", 4, 0x1e, s16("61") + s16("77") + s16(""))) + PING, "ERR-14 | PINGREQ"],
  ["CONNECT client id cut short", 64, frame(0x10, connectBody("MQTT", 4, 2, "000561")) + PING, "ERR-5 | PINGREQ"],
  ["CONNECT username missing", 64, frame(0x10, connectBody("MQTT", 4, 0x82, s16("61"))) + PING, "ERR-5 | PINGREQ"],
  ["CONNECT will topic with wildcard", 64, frame(0x10, connectBody("MQTT", 4, 0x06, s16("61") + s16("2b") + s16(""))) + PING, "ERR-10 | PINGREQ"],
  ["SUBSCRIBE without filters", 64, frame(0x82, "0001") + PING, "ERR-19 | PINGREQ"],
  ["SUBSCRIBE QoS 3", 64, frame(0x82, "0001" + s16("61") + "03") + PING, "ERR-14 | PINGREQ"],
  ["SUBSCRIBE reserved bits in QoS byte", 64, frame(0x82, "0001" + s16("61") + "41") + PING, "ERR-14 | PINGREQ"],
  ["SUBSCRIBE QoS byte missing", 64, frame(0x82, "0001" + s16("61")) + PING, "ERR-5 | PINGREQ"],
  ["SUBSCRIBE packet id 0", 64, frame(0x82, "0000" + s16("61") + "00") + PING, "ERR-13 | PINGREQ"],
  ["SUBSCRIBE filter a#", 64, frame(0x82, "0001" + s16("6123") + "00") + PING, "ERR-12 | PINGREQ"],
  ["SUBSCRIBE filter a/#/b", 64, frame(0x82, "0001" + s16("612f232f62") + "00") + PING, "ERR-12 | PINGREQ"],
  ["SUBSCRIBE filter +a", 64, frame(0x82, "0001" + s16("2b61") + "00") + PING, "ERR-12 | PINGREQ"],
  ["SUBSCRIBE filter a/b+", 64, frame(0x82, "0001" + s16("612f622b") + "00") + PING, "ERR-12 | PINGREQ"],
  ["SUBSCRIBE empty filter", 64, frame(0x82, "0001" + s16("") + "00") + PING, "ERR-11 | PINGREQ"],
  ["SUBSCRIBE second filter bad", 64, frame(0x82, "0001" + s16("61") + "01" + s16("2323") + "00") + PING, "ERR-12 | PINGREQ"],
  ["UNSUBSCRIBE without filters", 64, frame(0xa2, "0001") + PING, "ERR-19 | PINGREQ"],
  ["UNSUBSCRIBE filter cut short", 64, frame(0xa2, "0001" + "0003" + "61") + PING, "ERR-5 | PINGREQ"],
  ["SUBACK code 3", 64, frame(0x90, "000100" + "03") + PING, "ERR-18 | PINGREQ"],
  ["SUBACK code 0x81", 64, frame(0x90, "0001" + "81") + PING, "ERR-18 | PINGREQ"],
  ["SUBACK without codes", 64, frame(0x90, "0001") + PING, "ERR-5 | PINGREQ"],
  ["remaining length of 5 bytes (fatal)", 64, "30ffffffff01" + PING, "ERR-2"],
  ["remaining length non-minimal 80 00 (fatal)", 64, "c08000" + PING, "ERR-2"],
  ["remaining length non-minimal 3 bytes (fatal)", 64, "30ff8000" + PING, "ERR-2"],
  ["remaining length 268435455 is framed, then too large", 8, "c0ffffff7f", ""],
  ["PUBLISH larger than RX, topic fits", 8, frame(0x32, s16("6162") + "0007" + "00".repeat(20)) + PING, "ERR-20 size=28 type=3 topic=6162 | PINGREQ"],
  ["PUBLISH larger than RX, topic does not fit", 4, frame(0x30, s16("616263") + "11") + PING, "ERR-20 size=8 type=3 topic=- | PINGREQ"],
  ["SUBSCRIBE larger than RX", 4, frame(0x82, "0001" + s16("6162") + "00") + PING, "ERR-20 size=9 type=8 topic=- | PINGREQ"],
  ["packet exactly the RX size", 5, frame(0x30, s16("616263")) + PING, "PUBLISH q=0 r=0 d=0 id=0 topic=616263 payload= | PINGREQ"],
  ["RX capacity 0 still frames", 0, frame(0x40, "0001") + PING, "ERR-20 size=4 type=4 topic=- | PINGREQ"],
];

const x = (s: string) => hex(utf8(s));

/** Encoder argument checks: [name, command, expected result]. */
export const ENCODE_ERRORS: [string, string, string][] = [
  ["publish QoS 3", `E 64 publish ${x("a")} _ 3 0 0 1`, "ERR-14"],
  ["publish QoS -1", `E 64 publish ${x("a")} _ -1 0 0 1`, "ERR-14"],
  ["publish QoS 1 with id 0", `E 64 publish ${x("a")} _ 1 0 0 0`, "ERR-13"],
  ["publish QoS 2 with id 65536", `E 64 publish ${x("a")} _ 2 0 0 65536`, "ERR-13"],
  ["publish QoS 0 ignores the id", `E 64 publish ${x("a")} _ 0 0 0 0`, "3003000161"],
  ["publish DUP with QoS 0", `E 64 publish ${x("a")} _ 0 0 1 0`, "ERR-4"],
  ["publish topic with +", `E 64 publish ${x("a/+")} _ 0 0 0 0`, "ERR-10"],
  ["publish topic with #", `E 64 publish ${x("#")} _ 0 0 0 0`, "ERR-10"],
  ["publish empty topic", `E 64 publish _ _ 0 0 0 0`, "ERR-11"],
  ["publish topic with U+0000", `E 64 publish 6100 _ 0 0 0 0`, "ERR-9"],
  ["publish topic not UTF-8", `E 64 publish 61ff _ 0 0 0 0`, "ERR-8"],
  ["publish topic of 65536 bytes", `E 70000 publish ${"61".repeat(65536)} _ 0 0 0 0`, "ERR-7"],
  ["publish one byte too big for the buffer", `E 5 publish ${x("a")} 62 0 0 0 0`, "ERR-1"],
  ["publish exactly fills the buffer", `E 6 publish ${x("a")} 62 0 0 0 0`, "300400016162"],
  ["connect password without username", `E 64 connect ${x("c")} 1 60 - 70 - _ 0 0`, "ERR-16"],
  ["connect keep-alive 65536", `E 64 connect ${x("c")} 1 65536 - - - _ 0 0`, "ERR-21"],
  ["connect keep-alive -1", `E 64 connect ${x("c")} 1 -1 - - - _ 0 0`, "ERR-21"],
  ["connect will QoS 3", `E 64 connect ${x("c")} 1 60 - - ${x("w")} _ 3 0`, "ERR-14"],
  ["connect will topic with wildcard", `E 64 connect ${x("c")} 1 60 - - ${x("w/#")} _ 1 0`, "ERR-10"],
  ["connect client id not UTF-8", `E 64 connect c0af 1 60 - - - _ 0 0`, "ERR-8"],
  ["connect username with U+0000", `E 64 connect ${x("c")} 1 60 00 - - _ 0 0`, "ERR-9"],
  ["connect will QoS ignored without a will", `E 64 connect _ 1 0 - - - _ 2 1`, "100c00044d515454040200000000"],
  ["connect too big for the buffer", `E 13 connect ${x("c")} 1 0 - - - _ 0 0`, "ERR-1"],
  ["connack return code 6", "E 8 connack 0 6", "ERR-21"],
  ["connack session present with refusal", "E 8 connack 1 2", "ERR-17"],
  ["ack of type PUBLISH", "E 8 ack 3 1", "ERR-3"],
  ["ack of type PINGREQ", "E 8 ack 12 1", "ERR-3"],
  ["ack with id 0", "E 8 ack 4 0", "ERR-13"],
  ["ack in a 3-byte buffer", "E 3 ack 4 1", "ERR-1"],
  ["empty of type PUBACK", "E 8 empty 4", "ERR-3"],
  ["empty in a 1-byte buffer", "E 1 empty 12", "ERR-1"],
  ["subscribe without filters", "E 64 subscribe 1", "ERR-19"],
  ["subscribe with id 0", `E 64 subscribe 0 ${x("a")} 0`, "ERR-13"],
  ["subscribe QoS 3", `E 64 subscribe 1 ${x("a")} 3`, "ERR-14"],
  ["subscribe bad filter", `E 64 subscribe 1 ${x("a")} 0 ${x("a/#/b")} 1`, "ERR-12"],
  ["subscribe empty filter", `E 64 subscribe 1 _ 0`, "ERR-11"],
  ["suback code 3", "E 64 suback 1 0 3", "ERR-18"],
  ["suback without codes", "E 64 suback 1", "ERR-19"],
  ["unsubscribe without filters", "E 64 unsubscribe 1", "ERR-19"],
  ["unsubscribe bad filter", `E 64 unsubscribe 1 ${x("+a")}`, "ERR-12"],
  ["unsubscribe with id 65536", `E 64 unsubscribe 65536 ${x("a")}`, "ERR-13"],
];

/** topicMatches(filter, topic): [filter, topic, matches]. Spec section 4.7 examples and edges. */
export const MATCHES: [string, string, boolean][] = [
  ["sport/tennis/player1/#", "sport/tennis/player1", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
  ["sport/tennis/player1/#", "sport/tennis/player2", false],
  ["sport/#", "sport", true],
  ["sport/#", "sports", false],
  ["sport/#", "sport/", true],
  ["#", "a", true],
  ["#", "/", true],
  ["#", "a/b/c", true],
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/tennis/+", "sport/tennis/player1/ranking", false],
  ["sport/tennis/+", "sport/tennis", false],
  ["sport/+", "sport", false],
  ["sport/+", "sport/", true],
  ["+/+", "/finance", true],
  ["/+", "/finance", true],
  ["+", "/finance", false],
  ["+", "finance", true],
  ["+/tennis/#", "sport/tennis/player1/ranking", true],
  ["+/#", "a", true],
  ["a/+/b", "a//b", true],
  ["a//b", "a//b", true],
  ["a/b", "a/b/", false],
  ["a/b/", "a/b", false],
  ["a/b", "a/bc", false],
  ["a/bc", "a/b", false],
  ["ACCOUNTS", "Accounts", false],
  ["é/+", "é/ü", true],
  ["#", "$SYS", false],
  ["#", "$SYS/broker/load", false],
  ["+/monitor/Clients", "$SYS/monitor/Clients", false],
  ["$SYS/#", "$SYS/monitor/Clients", true],
  ["$SYS/#", "$SYS", true],
  ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
  ["a/+", "a/$b", true],
];

/** checkTopic / checkFilter: [kind, string (JS text), expected code]. */
export const CHECKS: ["T" | "F", string, number][] = [
  ["T", "a", 0],
  ["T", "/", 0],
  ["T", "température/€", 0],
  ["T", "$SYS/x", 0],
  ["T", "", -11],
  ["T", "a/+", -10],
  ["T", "a/#", -10],
  ["T", "a+b", -10],
  ["T", "a\u0000", -9],
  ["T", "t".repeat(65535), 0],
  ["T", "t".repeat(65536), -7],
  ["F", "#", 0],
  ["F", "+", 0],
  ["F", "a/#", 0],
  ["F", "+/+/#", 0],
  ["F", "/#", 0],
  ["F", "a//+/", 0],
  ["F", "", -11],
  ["F", "a#", -12],
  ["F", "#/a", -12],
  ["F", "##", -12],
  ["F", "a/+b", -12],
  ["F", "++", -12],
  ["F", "a/b+", -12],
  ["F", "a\u0000/#", -9],
];
