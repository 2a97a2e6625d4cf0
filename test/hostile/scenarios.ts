/**
 * What a hostile or broken broker does on the board's first connection. Every
 * scenario starts with two readings waiting (QoS 1 "r1", QoS 2 "r2"), so the test can
 * check that nothing unacknowledged is lost; the broker behaves on every later
 * connection (and, where noted, later on the same one).
 *
 * `named`: the result codes of which the board must report at least one (onError or
 * onDisconnect); `drop`: who ends the first connection ("client": the board, as the
 * spec requires for a protocol violation; "server": the script; "none": it goes on).
 */
import { gen, type BrokerConn } from "./broker.ts";

export interface Scenario {
  name: string;
  hostile(c: BrokerConn): Promise<void> | void;
  named: number[];
  drop: "client" | "server" | "none";
  /** ClientConfig fields for this scenario (e.g. a short keep-alive). */
  cfg?: Record<string, number>;
  /** Keep-alive in seconds (default 60). */
  keepAlive?: number;
  /** Payloads the board must have been given (onMessage) on the first connection. */
  messages?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Remaining-length bytes. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A PUBLISH built by hand (type/flags byte, topic bytes, optional id, payload). */
function publishRaw(first: number, topic: number[], id: number | null, payload: string): number[] {
  const body = [topic.length >> 8, topic.length & 255, ...topic, ...(id === null ? [] : [id >> 8, id & 255]), ...Buffer.from(payload)];
  return [first, ...varint(body.length), ...body];
}

const ok = { cmd: "connack", sessionPresent: false, returnCode: 0 };

/** CONNECT in, a good CONNACK out, then `then` (the readings arrive unacknowledged). */
function afterConnack(then: (c: BrokerConn) => Promise<void> | void): (c: BrokerConn) => Promise<void> {
  return async (c) => {
    await c.next("connect");
    c.send(ok);
    await c.next("publish", 2); // r1 and r2 in flight, not acknowledged
    await then(c);
  };
}

const refusal = (rc: number): Scenario => ({
  name: `CONNACK refusal ${rc}`,
  hostile: async (c) => {
    await c.next("connect");
    c.send({ cmd: "connack", sessionPresent: false, returnCode: rc });
  },
  named: [-40 - rc],
  drop: "client",
});

export const SCENARIOS: Scenario[] = [
  ...[1, 2, 3, 4, 5].map(refusal),
  {
    name: "CONNACK of wrong length (3)",
    hostile: async (c) => {
      await c.next("connect");
      c.raw([0x20, 0x03, 0x00, 0x00, 0x00]);
    },
    named: [-6, -17, -2],
    drop: "client",
  },
  {
    name: "CONNACK too short (1)",
    hostile: async (c) => {
      await c.next("connect");
      c.raw([0x20, 0x01, 0x00]);
    },
    named: [-5, -17],
    drop: "client",
  },
  {
    name: "CONNACK with a reserved acknowledge flag",
    hostile: async (c) => {
      await c.next("connect");
      c.raw([0x20, 0x02, 0x02, 0x00]);
    },
    named: [-17],
    drop: "client",
  },
  {
    name: "CONNACK with fixed-header flags set",
    hostile: async (c) => {
      await c.next("connect");
      c.raw([0x21, 0x02, 0x00, 0x00]);
    },
    named: [-4],
    drop: "client",
  },
  {
    name: "CONNACK with an unknown return code (6)",
    hostile: async (c) => {
      await c.next("connect");
      c.raw([0x20, 0x02, 0x00, 0x06]);
    },
    named: [-17],
    drop: "client",
  },
  {
    name: "reserved packet type 0",
    hostile: afterConnack((c) => c.raw([0x00, 0x00])),
    named: [-3],
    drop: "client",
  },
  {
    name: "reserved packet type 15",
    hostile: afterConnack((c) => c.raw([0xf0, 0x00])),
    named: [-3],
    drop: "client",
  },
  {
    name: "PUBLISH with QoS 3",
    hostile: afterConnack((c) => c.raw(publishRaw(0x36, [0x61], 7, "x"))),
    named: [-14],
    drop: "client",
  },
  {
    name: "PUBLISH with a wildcard in the topic",
    hostile: afterConnack((c) => c.raw(publishRaw(0x30, [...Buffer.from("a/+")], null, "x"))),
    named: [-10],
    drop: "client",
  },
  {
    name: "PUBLISH with a topic that is not UTF-8",
    hostile: afterConnack((c) => c.raw(publishRaw(0x30, [0xc3, 0x28], null, "x"))),
    named: [-8],
    drop: "client",
  },
  {
    name: "PUBLISH QoS 1 with packet id 0",
    hostile: afterConnack((c) => c.raw(publishRaw(0x32, [0x61], 0, "x"))),
    named: [-13],
    drop: "client",
  },
  {
    name: "PUBACK with packet id 0",
    hostile: afterConnack((c) => c.raw([0x40, 0x02, 0x00, 0x00])),
    named: [-13],
    drop: "client",
  },
  {
    name: "acknowledgements for unknown packet ids",
    hostile: afterConnack(async (c) => {
      c.send({ cmd: "puback", messageId: 999 });
      c.send({ cmd: "pubcomp", messageId: 997 });
      c.send({ cmd: "pubrec", messageId: 998 });
      await c.next("pubrel"); // answered as the spec asks
      c.behave(false);
    }),
    named: [-61],
    drop: "none",
  },
  {
    name: "a second CONNACK",
    hostile: afterConnack((c) => c.send(ok)),
    named: [-55],
    drop: "client",
  },
  {
    name: "oversized PUBLISH (QoS 1, larger than the RX buffer): reported, skipped, acknowledged",
    hostile: afterConnack(async (c) => {
      c.send({ cmd: "publish", topic: "big", payload: Buffer.alloc(700, 0x41), qos: 1, messageId: 42 });
      c.send({ cmd: "publish", topic: "small", payload: "after", qos: 0 });
      await c.next("puback");
      c.behave(false);
    }),
    named: [-20],
    drop: "none",
    messages: ["after"],
  },
  {
    name: "oversized SUBACK (not a PUBLISH: cannot be skipped)",
    hostile: afterConnack((c) => c.raw([0x90, ...varint(700), 0x00, 0x01, ...new Array(698).fill(0)])),
    named: [-20],
    drop: "client",
  },
  {
    name: "garbage bytes",
    hostile: afterConnack((c) => c.raw([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
    named: [-3, -2, -4],
    drop: "client",
  },
  {
    name: "silence after CONNECT",
    hostile: async (c) => {
      await c.next("connect");
    },
    named: [-51],
    drop: "client",
    cfg: { connectTimeoutMs: 1500 },
  },
  {
    name: "no PINGRESP",
    hostile: afterConnack(() => {}),
    named: [-50],
    drop: "client",
    keepAlive: 1,
    cfg: { pingTimeoutMs: 700 },
  },
  {
    name: "CONNACK dripped one byte a second",
    hostile: async (c) => {
      await c.next("connect");
      for (const b of gen(ok)) {
        c.raw([b]);
        await sleep(1000);
      }
      c.behave(false);
    },
    named: [],
    drop: "none",
    cfg: { connectTimeoutMs: 10000 },
  },
  {
    name: "several packets in one chunk",
    hostile: async (c) => {
      await c.next("connect");
      c.raw(Buffer.concat([gen(ok), gen({ cmd: "publish", topic: "in/a", payload: "m1", qos: 0 }), gen({ cmd: "publish", topic: "in/b", payload: "m2", qos: 1, messageId: 5 })]));
      const r1 = await c.next("publish", 1);
      const r2 = await c.next("publish", 2);
      const q2 = r1.qos === 2 ? r1 : r2;
      const q1 = r1.qos === 1 ? r1 : r2;
      c.raw(Buffer.concat([gen({ cmd: "puback", messageId: q1.messageId }), gen({ cmd: "pubrec", messageId: q2.messageId }), gen({ cmd: "pingresp" })]));
      c.delivered.push(q1.payload.toString());
      await c.next("pubrel");
      c.delivered.push(q2.payload.toString());
      c.raw(gen({ cmd: "pubcomp", messageId: q2.messageId }));
      c.behave(false, false);
    },
    named: [],
    drop: "none",
    messages: ["m1", "m2"],
  },
  {
    name: "connection closed right after CONNACK",
    hostile: async (c) => {
      await c.next("connect");
      c.send(ok);
      c.kill();
    },
    named: [-57],
    drop: "server",
  },
];
