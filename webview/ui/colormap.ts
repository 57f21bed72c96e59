/** Colour scales: a perceptual one for magnitudes, and log-scaled positions of values on it. */

// Viridis (van der Walt & Smith, matplotlib), nine stops: readable on light and dark backgrounds, and in grey.
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** The viridis colour at t in [0, 1] as [r, g, b]. */
export function viridisRgb(t: number): [number, number, number] {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(position));
  const f = position - k;
  const [a, b] = [VIRIDIS[k], VIRIDIS[k + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

export function viridis(t: number): string {
  const [r, g, b] = viridisRgb(t);
  return `rgb(${r}, ${g}, ${b})`;
}

/** CSS gradient of the scale, for colour bars. */
export function viridisGradient(): string {
  return `linear-gradient(to right, ${VIRIDIS.map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`).join(', ')})`;
}

/** Where a value sits between low and high on a log scale, in [0, 1]. */
export class LogScale {
  private readonly logLow: number;
  private readonly logSpan: number;

  constructor(readonly low: number, readonly high: number) {
    this.logLow = Math.log10(low);
    this.logSpan = Math.log10(high) - this.logLow || 1;
  }

  /** Over the positive finite values; null when there are none. */
  static of(values: Iterable<number | null>, floor = 0): LogScale | null {
    let low = Infinity;
    let high = -Infinity;
    for (const value of values) {
      if (value === null || !(value > floor) || !Number.isFinite(value)) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
    if (low === Infinity) return null;
    return new LogScale(low, high > low ? high : low * 10);
  }

  /** NaN for a missing value; 0 (the bottom of the scale) for zero. */
  position(value: number): number {
    if (!Number.isFinite(value)) return NaN;
    return value > 0 ? Math.min(1, Math.max(0, (Math.log10(value) - this.logLow) / this.logSpan)) : 0;
  }
}
