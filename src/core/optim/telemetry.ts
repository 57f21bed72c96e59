/**
 * Per-step telemetry: one record schema for the CLI, the worker stream and
 * the dashboard. Per-dimension arrays are summarized: min and max exactly,
 * quartiles read off a log-spaced histogram of at most SAMPLE_LIMIT evenly
 * strided elements, so a record costs one cheap pass over n, not a log per
 * element (bench/optim.ts measures it); the full vector of one tensor can be
 * asked for.
 */
import type { Layout } from '../tensor';

export interface Summary {
  min: number;
  max: number;
  /** Approximate quartiles and median (from the histogram: within one bin, of a strided sample when large). */
  q25: number;
  median: number;
  q75: number;
  /**
   * Log-spaced bins between min and max (linear when min ≤ 0): `edges` has one more entry than `counts`.
   * Counts are of the sampled elements; `sampled` says how many (all of them when n ≤ SAMPLE_LIMIT).
   */
  histogram: { edges: number[]; counts: number[]; sampled: number };
}

export const HISTOGRAM_BINS = 32;
/**
 * Each strided sample is a cache miss plus a log: 4,096 of them cost 0.1 ms per summary at n = 100,000,
 * a third of a recorded step's telemetry (bench/optim.ts). 1,024 place a quartile to about 1.4% of the
 * ranks (the binomial standard error), well inside one of the 32 bins it is read from.
 */
export const SAMPLE_LIMIT = 1024;

/** Exact min and max of values[start, end). */
export function range(values: Float64Array, start = 0, end = values.length): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const value = values[i];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return [min, max];
}

/**
 * `known` is the exact [min, max] when the caller has it already (saves a pass).
 * At most `bins` bins, and no more than there are sampled elements (two rates make no
 * 32-bin histogram, and the records of small problems stay cheap); one bin when all are equal.
 */
export function summarize(values: Float64Array, start = 0, end = values.length, known?: [number, number], bins = HISTOGRAM_BINS): Summary | null {
  if (end <= start) return null;
  const [min, max] = known ?? range(values, start, end);
  const stride = Math.max(1, Math.ceil((end - start) / SAMPLE_LIMIT));
  const sampled = Math.ceil((end - start) / stride);
  const { logarithmic, low, high } = binScale(min, max);
  const binCount = high > low ? Math.min(bins, sampled) : 1;
  const width = (high - low) / binCount;
  const counts: number[] = [];
  for (let bin = 0; bin < binCount; bin++) counts.push(0);
  if (binCount === 1) counts[0] = sampled;
  else {
    // Truncation, not Math.floor: positions are ≥ low (min is exact), and a rounding error
    // below it lands in bin 0 either way. The top edge (max itself) goes into the last bin.
    const last = binCount - 1;
    for (let i = start; i < end; i += stride) {
      const bin = (((logarithmic ? Math.log(values[i]) : values[i]) - low) / width) | 0;
      counts[bin < last ? bin : last]++;
    }
  }
  return summaryOfCounts(min, max, counts, sampled);
}

/** Log-spaced bins when the range spans more than a decade of positive values, else linear. */
function binScale(min: number, max: number): { logarithmic: boolean; low: number; high: number } {
  const logarithmic = min > 0 && max / min > 10;
  return { logarithmic, low: logarithmic ? Math.log(min) : min, high: logarithmic ? Math.log(max) : max };
}

/**
 * The summary of a histogram counted by summarize()'s bins (counts.length of them between min and max): its
 * edges and quartiles. gradlens.watch counts in the script and sends only this much (src/core/run-log.ts).
 */
export function summaryOfCounts(min: number, max: number, counts: number[], sampled: number): Summary {
  const { logarithmic, low, high } = binScale(min, max);
  const binCount = counts.length;
  const width = (high - low) / binCount;
  const edges: number[] = [min];
  for (let k = 1; k < binCount; k++) edges.push(logarithmic ? Math.exp(low + k * width) : low + k * width);
  edges.push(max);
  const quantile = (q: number): number => {
    if (binCount === 1) return min;
    const target = q * sampled;
    let seen = 0;
    for (let bin = 0; bin < binCount; bin++) {
      if (seen + counts[bin] >= target) {
        const fraction = counts[bin] === 0 ? 0 : (target - seen) / counts[bin];
        const position = low + (bin + fraction) * width;
        return logarithmic ? Math.exp(position) : position;
      }
      seen += counts[bin];
    }
    return max;
  };
  return { min, max, q25: quantile(0.25), median: quantile(0.5), q75: quantile(0.75), histogram: { edges, counts, sampled } };
}

/** Per tensor: Σθ², Σ(Δθ)², Σg² and the exact range of the effective rates (overall norms follow by summing). */
export interface StepStatistics {
  before: number[];
  update: number[];
  grad: number[];
  /** [min, max] of `effective` per tensor; empty when there are no effective rates. */
  effectiveRange: [number, number][];
  /** Σv² of the rule's momentum buffer or first moment over the whole vector, in index order (‖v‖²); null when it keeps none. */
  velocity: number | null;
}

/**
 * The statistics of a recorded step in one read of each vector instead of one
 * pass per statistic: V8 spends most of such a loop on loading and
 * bounds-checking each typed-array element, so the passes, not the
 * arithmetic, are the cost (bench/optim.ts).
 */
export function stepStatistics(
  layout: Layout,
  before: Float64Array,
  after: Float64Array,
  grad: Float64Array,
  effective: Float64Array | null,
  velocity: Float64Array | null,
): StepStatistics {
  const statistics: StepStatistics = { before: [], update: [], grad: [], effectiveRange: [], velocity: null };
  // One running sum across the tensors: the same additions, in the same order, as a plain Σv² over the vector.
  let velocitySquares = 0;
  for (const spec of layout.tensors) {
    let parameter = 0;
    let change = 0;
    let gradient = 0;
    let low = Infinity;
    let high = -Infinity;
    const end = spec.offset + spec.size;
    for (let i = spec.offset; i < end; i++) {
      const value = before[i];
      const delta = after[i] - value;
      const g = grad[i];
      parameter += value * value;
      change += delta * delta;
      gradient += g * g;
      // `!== null`, not truthiness: see StepContext.effectiveLearningRate.
      if (effective !== null) {
        const rate = effective[i];
        if (rate < low) low = rate;
        if (rate > high) high = rate;
      }
      if (velocity !== null) velocitySquares += velocity[i] * velocity[i];
    }
    statistics.before.push(parameter);
    statistics.update.push(change);
    statistics.grad.push(gradient);
    if (effective !== null) statistics.effectiveRange.push([low, high]);
  }
  if (velocity !== null) statistics.velocity = velocitySquares;
  return statistics;
}
