/** fast-check arbitraries for valid MQTT 3.1.1 packets, as mqtt-packet objects. */
import fc from "fast-check";

/** One Unicode character allowed in a topic level: no U+0000, '/', '+', '#', no surrogates. */
const levelChar = fc.oneof(
  fc.constantFrom("a", "b", "z", "0", "-", "_", " ", "$", "é", "€", "😀"),
  fc.integer({ min: 1, max: 0x10ffff })
    .filter((c) => c !== 0x2f && c !== 0x2b && c !== 0x23 && (c < 0xd800 || c > 0xdfff))
    .map((c) => String.fromCodePoint(c)),
);
const level = fc.array(levelChar, { maxLength: 6 }).map((a) => a.join(""));

/** A topic name: non-empty, levels joined by '/'. */
export const topicName = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join("/")).filter((t) => t.length > 0);

/** A topic filter with well-formed '+' and '#'. */
export const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, "#"] : ls).join("/"))
  .filter((f) => f.length > 0);

export const text = fc.array(levelChar, { maxLength: 12 }).map((a) => a.join(""));
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((u) => Buffer.from(u));
const id = fc.integer({ min: 1, max: 65535 });
const qos = fc.constantFrom(0, 1, 2);

const connect = fc
  .record({
    clean: fc.boolean(),
    clientId: text,
    keepalive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic: topicName, payload: bytes(40), qos, retain: fc.boolean() }), { nil: undefined }),
    auth: fc.constantFrom(0, 1, 2),
    username: text,
    password: bytes(20),
  })
  .map((r) => {
    const p: any = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: r.clean, clientId: r.clean || r.clientId !== "" ? r.clientId : "x", keepalive: r.keepalive };
    if (r.will) p.will = r.will;
    if (r.auth > 0) p.username = r.username;
    if (r.auth > 1) p.password = r.password;
    return p;
  });

const publish = fc
  .record({ topic: topicName, payload: bytes(300), qos, retain: fc.boolean(), dup: fc.boolean(), messageId: id })
  .map((r) => ({ cmd: "publish", ...r, dup: r.qos > 0 && r.dup, messageId: r.qos > 0 ? r.messageId : undefined }));

/** Any valid packet of any of the 14 types. */
export const packet: fc.Arbitrary<any> = fc.oneof(
  connect,
  fc.integer({ min: 0, max: 5 }).chain((rc) => fc.record({ cmd: fc.constant("connack"), returnCode: fc.constant(rc), sessionPresent: rc === 0 ? fc.boolean() : fc.constant(false) })),
  publish,
  publish,
  fc.record({ cmd: fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp", "unsuback"), messageId: id }),
  fc.record({ cmd: fc.constant("subscribe"), messageId: id, subscriptions: fc.array(fc.record({ topic: topicFilter, qos }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ cmd: fc.constant("suback"), messageId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 128), { minLength: 1, maxLength: 6 }) }),
  fc.record({ cmd: fc.constant("unsubscribe"), messageId: id, unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 4 }) }),
  fc.record({ cmd: fc.constantFrom("pingreq", "pingresp", "disconnect") }),
);

/** Chunk sizes to cut a stream with (cycled). */
export const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 });

/** A byte-level mutation of a stream: flip, overwrite, insert or delete at a position. */
export const mutations = fc.array(fc.tuple(fc.constantFrom("flip", "set", "insert", "delete"), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });

export function mutate(s: string, ms: [string, number, number][]): string {
  for (const [op, at, v] of ms) {
    if (s.length === 0) return String.fromCharCode(v);
    const i = at % s.length;
    const c = String.fromCharCode(v);
    if (op === "flip") s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << (v & 7))) + s.slice(i + 1);
    else if (op === "set") s = s.slice(0, i) + c + s.slice(i + 1);
    else if (op === "insert") s = s.slice(0, i) + c + s.slice(i);
    else s = s.slice(0, i) + s.slice(i + 1);
  }
  return s;
}
