/**
 * A minimal MQTT framing sniffer for the host side: splits a byte stream into
 * packets and reports each packet's type (and topic, for PUBLISH). `wisp emulate`
 * uses it on what the board sends, so that under the virtual clock a PUBLISH on
 * its way through the broker to the observer holds time still until it arrives.
 * It is not the firmware's codec and validates nothing beyond framing.
 */
export interface SniffedPacket {
  type: number;
  topic?: string;
  bytes: number;
}

export class MqttSniffer {
  private buf = Buffer.alloc(0);
  feed(chunk: string): SniffedPacket[] {
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
      if (!complete) {
        if (i >= 5) this.buf = Buffer.alloc(0); // not MQTT framing: give up on this stream
        break;
      }
      const total = i + 1 + len;
      if (this.buf.length < total) break;
      const type = this.buf[0] >> 4;
      const p: SniffedPacket = { type, bytes: total };
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
