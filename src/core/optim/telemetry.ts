/**
 * Per-step telemetry: one record schema for the CLI, the worker stream and
 * the dashboard. Per-dimension arrays are summarized in O(n) (min, max and
 * quantiles read off a log-spaced histogram) so large problems stay cheap;
 * the full vector of one tensor can be asked for.
 */
import type { Layout } from '../tensor';

export interface Summary {
  min: number;
  max: number;
  /** Approximate quartiles and median (from the histogram, exact to within one bin). */
  q25: number;
  median: number;
  q75: number;
  /** Log-spaced bins between min and max (linear when min ≤ 0): `edges` has one more entry than `counts`. */
  histogram: { edges: number[]; counts: number[] };
}

export const HISTOGRAM_BINS = 32;

export function summarize(values: Float64Array, start = 0, end = values.length, bins = HISTOGRAM_BINS): Summary | null {
  if (end <= start) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const logarithmic = min > 0 && max / min > 10;
  const low = logarithmic ? Math.log(min) : min;
  const high = logarithmic ? Math.log(max) : max;
  const width = (high - low) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = start; i < end; i++) {
    const position = logarithmic ? Math.log(values[i]) : values[i];
    const bin = width > 0 ? Math.min(bins - 1, Math.floor((position - low) / width)) : 0;
    counts[bin]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, k) => (logarithmic ? Math.exp(low + k * width) : low + k * width));
  edges[0] = min;
  edges[bins] = max;
  const total = end - start;
  const quantile = (q: number): number => {
    if (width === 0) return min;
    const target = q * total;
    let seen = 0;
    for (let bin = 0; bin < bins; bin++) {
      if (seen + counts[bin] >= target) {
        const fraction = counts[bin] === 0 ? 0 : (target - seen) / counts[bin];
        const position = low + (bin + fraction) * width;
        return logarithmic ? Math.exp(position) : position;
      }
      seen += counts[bin];
    }
    return max;
  };
  return { min, max, q25: quantile(0.25), median: quantile(0.5), q75: quantile(0.75), histogram: { edges, counts } };
}

/** ‖v‖ over each named tensor of the layout. */
export function normsByTensor(layout: Layout, vector: Float64Array): Record<string, number> {
  const norms: Record<string, number> = {};
  for (const spec of layout.tensors) {
    let sum = 0;
    for (let i = spec.offset; i < spec.offset + spec.size; i++) sum += vector[i] * vector[i];
    norms[spec.name] = Math.sqrt(sum);
  }
  return norms;
}
