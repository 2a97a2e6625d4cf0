/**
 * Battery model and the ADC that reads it.
 *
 * State of charge = initialPercent - (mAh drawn so far, from the energy meter) /
 * capacityMah * 100. The cell voltage is interpolated from the board's
 * [volts, percent] curve. Tests may pin the voltage (`setVoltage`) or the
 * charge (`setPercent`) to script a flat or failing battery.
 *
 * ADC: `analogRead(pin)` on the board's ADC pin returns, as Espruino does, a
 * number in 0..1: the pin voltage (battery through the divider,
 * Vbat * Rbottom / (Rtop + Rbottom)) over the full-scale voltage `adc.refVolts`
 * (3.3 V for an ESP32 ADC1 pin at 11 dB attenuation, the setting Espruino uses),
 * clamped to 0..1 and quantised to `adc.bits` (12) bits. Other pins read 0.
 */
import type { AdcConfig, BatteryConfig } from "./board.ts";

export class BatteryModel {
  private pinnedVolts: number | null = null;
  private percentOffset = 0;
  charging = false;

  constructor(
    readonly config: BatteryConfig,
    private readonly usedMah: () => number,
  ) {}

  percent(): number {
    if (this.pinnedVolts !== null) return voltsToPercent(this.config.curve, this.pinnedVolts);
    const p = this.config.initialPercent + this.percentOffset - (this.usedMah() / this.config.capacityMah) * 100;
    return Math.max(0, Math.min(100, p));
  }

  volts(): number {
    if (this.pinnedVolts !== null) return this.pinnedVolts;
    return percentToVolts(this.config.curve, this.percent());
  }

  /** Pin the cell voltage (null: follow the charge again). */
  setVoltage(v: number | null): void {
    this.pinnedVolts = v;
  }

  /** Set the present charge in percent (the meter keeps draining from there). */
  setPercent(p: number): void {
    this.pinnedVolts = null;
    this.percentOffset = 0;
    this.percentOffset = p - this.percent();
  }
}

/** Curve is sorted by volts ascending, percent non-decreasing. */
export function percentToVolts(curve: [number, number][], pct: number): number {
  if (pct <= curve[0][1]) return curve[0][0];
  for (let i = 1; i < curve.length; i++) {
    const [v1, p1] = curve[i];
    const [v0, p0] = curve[i - 1];
    if (pct <= p1) return p1 === p0 ? v1 : v0 + ((pct - p0) / (p1 - p0)) * (v1 - v0);
  }
  return curve[curve.length - 1][0];
}

export function voltsToPercent(curve: [number, number][], v: number): number {
  if (v <= curve[0][0]) return curve[0][1];
  for (let i = 1; i < curve.length; i++) {
    const [v1, p1] = curve[i];
    const [v0, p0] = curve[i - 1];
    if (v <= v1) return p0 + ((v - v0) / (v1 - v0)) * (p1 - p0);
  }
  return curve[curve.length - 1][1];
}

/** Pin voltage -> Espruino analogRead() value. */
export function adcReading(adc: AdcConfig, batteryVolts: number): number {
  const pinVolts = (batteryVolts * adc.dividerBottomOhms) / (adc.dividerTopOhms + adc.dividerBottomOhms);
  const full = (1 << adc.bits) - 1;
  const x = Math.max(0, Math.min(1, pinVolts / adc.refVolts));
  return Math.round(x * full) / full;
}

/** What firmware computes back from a reading: battery volts. */
export function readingToBatteryVolts(adc: AdcConfig, reading: number): number {
  return (reading * adc.refVolts * (adc.dividerTopOhms + adc.dividerBottomOhms)) / adc.dividerBottomOhms;
}
