/**
 * When to try the broker again. Ordinary failures back off from backoffMinMs,
 * doubling to backoffMaxMs. Refusals, suspected take-overs and repeated protocol
 * errors ("strikes") go on doubling from backoffMaxMs up to backoffCeilingMs: the
 * client never gives up by itself, it only asks less often. Each delay is 50..100 %
 * of the bound (jitter), so a fleet does not reconnect in step.
 */
export class Backoff {
  /** Ordinary failures in a row. */
  attempt = 0;
  /** Rounds of the longer back-off since the last healthy connection. */
  strikes = 0;
  /** Connections in a row that failed soon after CONNACK or on a protocol error; how many were protocol errors. */
  faults = 0;
  protoFaults = 0;

  /** A connection lasted: start from the bottom again. */
  reset(): void {
    this.attempt = 0;
    this.strikes = 0;
    this.faults = 0;
    this.protoFaults = 0;
  }

  /** A connection failed soon after CONNACK, or on a protocol error. Returns the faults in a row. */
  fault(proto: boolean): number {
    this.faults++;
    if (proto) this.protoFaults++;
    return this.faults;
  }

  /** The next delay in ms; `severe` starts or continues the longer back-off. */
  next(severe: boolean, minMs: number, maxMs: number, ceilingMs: number, random: number): number {
    let d = minMs;
    let cap = maxMs;
    let n = this.attempt;
    if (severe || this.strikes > 0) {
      d = maxMs;
      cap = ceilingMs > d ? ceilingMs : d;
      n = this.strikes;
      if (severe) this.strikes++;
    } else {
      this.attempt++;
    }
    for (let i = 0; i < n && d < cap; i++) d = d * 2;
    if (d > cap) d = cap;
    return Math.floor(d * 0.5 + random * d * 0.5);
  }
}
