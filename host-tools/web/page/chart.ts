/**
 * A line chart of one quantity over time on a <canvas>.
 *
 * Hand-drawn rather than a chart package: three small time series need axes, one
 * line and a last-value label, which is a few dozen lines of canvas calls; a chart
 * library would be a new dependency (the project allows none for this) and would
 * have to be bundled for offline use anyway.
 */
export interface Point {
  /** Milliseconds since the epoch. */
  t: number;
  v: number;
}

export class TimeChart {
  private points: Point[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly title: string,
    private readonly unit: string,
    private readonly color: string,
    private readonly maxPoints = 500,
  ) {
    this.draw();
  }

  add(p: Point): void {
    this.points.push(p);
    if (this.points.length > this.maxPoints) this.points.shift();
    this.draw();
  }

  clear(): void {
    this.points = [];
    this.draw();
  }

  get size(): number {
    return this.points.length;
  }

  draw(): void {
    const c = this.canvas;
    const g = c.getContext("2d");
    if (!g) return;
    const w = c.width;
    const h = c.height;
    const left = 52;
    const right = 10;
    const top = 24;
    const bottom = 22;
    g.clearRect(0, 0, w, h);
    g.fillStyle = "#fff";
    g.fillRect(0, 0, w, h);
    g.fillStyle = "#222";
    g.font = "13px sans-serif";
    const last = this.points[this.points.length - 1];
    g.fillText(`${this.title}${last ? `: ${fmt(last.v)} ${this.unit}` : " (no data yet)"}`, left, 16);
    g.strokeStyle = "#bbb";
    g.lineWidth = 1;
    g.strokeRect(left, top, w - left - right, h - top - bottom);
    if (this.points.length === 0) return;
    let lo = Math.min(...this.points.map((p) => p.v));
    let hi = Math.max(...this.points.map((p) => p.v));
    if (hi - lo < 1e-9) {
      lo -= 1;
      hi += 1;
    }
    const pad = (hi - lo) * 0.1;
    lo -= pad;
    hi += pad;
    const t0 = this.points[0].t;
    const t1 = Math.max(last.t, t0 + 1000);
    const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (w - left - right);
    const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
    g.fillStyle = "#555";
    g.font = "11px sans-serif";
    for (const v of [lo + pad, hi - pad]) g.fillText(fmt(v), 4, y(v) + 4);
    g.fillText(new Date(t0).toLocaleTimeString(), left, h - 6);
    const endLabel = new Date(t1).toLocaleTimeString();
    g.fillText(endLabel, w - right - g.measureText(endLabel).width, h - 6);
    g.strokeStyle = this.color;
    g.fillStyle = this.color;
    g.lineWidth = 2;
    g.beginPath();
    this.points.forEach((p, i) => (i === 0 ? g.moveTo(x(p.t), y(p.v)) : g.lineTo(x(p.t), y(p.v))));
    g.stroke();
    for (const p of this.points) {
      g.beginPath();
      g.arc(x(p.t), y(p.v), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3).replace(/\.?0+$/, "");
}
