/**
 * A minimal MQTT framing sniffer for the host side: splits a byte stream into
 * packets and reports each packet's type (and topic, for PUBLISH). The socket
 * layer uses it on what the board sends so the virtual clock knows when a reply
 * is due; `wisp emulate` uses it to hold time while a PUBLISH travels through the
 * broker to the observer. It is not the firmware's codec and validates nothing
 * beyond framing; a stream that does not look like MQTT is left alone.
 */
export interface SniffedPacket {
  type: number;
  /** The fixed header's first byte (type and flags). */
  first: number;
  topic?: string;
  bytes: number;
}

export class MqttSniffer {
  private buf = Buffer.alloc(0);
  /** Set once the stream does not look like MQTT 3.1.1 framing. */
  notMqtt = false;
  feed(chunk: string): SniffedPacket[] {
    if (this.notMqtt) return [];
    this.buf = Buffer.concat([this.buf, Buffer.from(chunk, "latin1")]);
    const out: SniffedPacket[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      let len = 0;
      let mult = 1;
      let i = 1;
      let complete = false;
      for (; i < 5 && i < this.buf.length; i++) {
        const d = this.buf[i];
        len += (d & 127) * mult;
        mult *= 128;
        if ((d & 128) === 0) {
          complete = true;
          break;
        }
      }
      const t = this.buf[0] >> 4;
      if (t === 0 || t === 15) {
        this.notMqtt = true; // reserved packet types: not MQTT 3.1.1
        this.buf = Buffer.alloc(0);
        break;
      }
      if (!complete) {
        if (i >= 5) {
          this.notMqtt = true;
          this.buf = Buffer.alloc(0);
        }
        break;
      }
      const total = i + 1 + len;
      if (this.buf.length < total) break;
      const type = this.buf[0] >> 4;
      const p: SniffedPacket = { type, first: this.buf[0], bytes: total };
      if (type === 3 && len >= 2) {
        const tl = this.buf.readUInt16BE(i + 1);
        p.topic = this.buf.subarray(i + 3, i + 3 + tl).toString("utf8");
      }
      out.push(p);
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

/** MQTT topic filter match (`+`, `#`), for deciding whether an observer will see a topic. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && !filter.startsWith("$")) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether the peer owes a reply to a packet a client sent: CONNECT (CONNACK),
 * PUBLISH QoS 1/2 (PUBACK/PUBREC), PUBREC (PUBREL), PUBREL (PUBCOMP), SUBSCRIBE
 * (SUBACK), UNSUBSCRIBE (UNSUBACK), PINGREQ (PINGRESP).
 */
export function expectsReply(p: SniffedPacket): boolean {
  switch (p.type) {
    case 1: case 5: case 6: case 8: case 10: case 12: return true;
    case 3: return ((p.first >> 1) & 3) > 0;
    default: return false;
  }
}

/**
 * Whether a packet the broker sent answers one the client sent: CONNACK, PUBACK,
 * PUBREC, PUBREL (answering the client's PUBREC), PUBCOMP, SUBACK, UNSUBACK, PINGRESP.
 */
export function isReply(p: SniffedPacket): boolean {
  switch (p.type) {
    case 2: case 4: case 5: case 6: case 7: case 9: case 11: case 13: return true;
    default: return false;
  }
}
