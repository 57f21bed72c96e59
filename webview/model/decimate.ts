/**
 * What the charts draw: a decimated view of at most two points per pixel
 * column, computed from the run's table on every redraw. Chart.js gets
 * only these points (its own decimation plugin is never used: it replaces
 * dataset.data, which fights streamed data).
 */
import type { MetricTable } from './metric-table';

export interface Point {
  x: number;
  y: number;
}

/** A series of entries, each covering records from xStart to xEnd (see MetricTable). NaN: no value. */
export interface EntrySeries {
  readonly length: number;
  xStart(i: number): number;
  xEnd(i: number): number;
  low(i: number): number;
  high(i: number): number;
  /** The minimum came before the maximum. */
  lowFirst(i: number): boolean;
  mean(i: number): number;
  /** Values behind the entry (its weight in means and smoothing). */
  count(i: number): number;
}

export type XAxis = 'step' | 'time';

/** Never more than this many points per series, whatever the canvas width. */
export const MAX_POINTS_PER_SERIES = 4000;

export function columnSeries(table: MetricTable, name: string, axis: XAxis): EntrySeries {
  const starts = axis === 'step' ? table.stepStart : table.timeStart;
  const ends = axis === 'step' ? table.stepEnd : table.timeEnd;
  const { min, max, sum, valid, lowFirst } = table.column(name);
  return {
    length: table.length,
    xStart: (i) => starts[i],
    xEnd: (i) => ends[i],
    low: (i) => (valid[i] > 0 ? min[i] : NaN),
    high: (i) => (valid[i] > 0 ? max[i] : NaN),
    lowFirst: (i) => lowFirst[i] === 1,
    mean: (i) => (valid[i] > 0 ? sum[i] / valid[i] : NaN),
    count: (i) => valid[i],
  };
}

/**
 * TensorBoard's smoothing: a debiased exponential moving average with
 * weight w per record. An entry of n records with mean m is taken as n
 * records of value m, so the result does not depend on how far the table
 * has been merged: last ← last·wⁿ + (1 − wⁿ)·m, shown as last / (1 − w^total).
 */
export function smoothedSeries(source: EntrySeries, weight: number, scratch: Float64Array): EntrySeries {
  let last = 0;
  let total = 0;
  for (let i = 0; i < source.length; i++) {
    const n = source.count(i);
    if (n === 0) {
      scratch[i] = NaN;
      continue;
    }
    const decay = weight ** n;
    last = last * decay + (1 - decay) * source.mean(i);
    total += n;
    const debias = 1 - weight ** total;
    scratch[i] = debias > 0 ? last / debias : source.mean(i);
  }
  const centre = (i: number) => (source.xStart(i) + source.xEnd(i)) / 2;
  const value = (i: number) => scratch[i];
  return { length: source.length, xStart: centre, xEnd: centre, low: value, high: value, lowFirst: () => true, mean: value, count: source.count };
}

/** Reuses the point objects of `out` (charts redraw many times a second). */
class PointWriter {
  count = 0;
  constructor(private readonly out: Point[]) {}

  put(x: number, y: number): void {
    const point = this.out[this.count];
    if (point) {
      point.x = x;
      point.y = y;
    } else {
      this.out.push({ x, y });
    }
    this.count++;
  }

  finish(): Point[] {
    this.out.length = this.count;
    return this.out;
  }
}

/** Before the first entry (buckets left of a zoomed range are negative too). */
const NO_BUCKET = -1;

/** The x range a chart shows (zoomed in); null: the whole series. */
export interface XRange {
  min: number;
  max: number;
}

/**
 * The entries to decimate: all of them, or, zoomed in, those overlapping the
 * range and one more on each side, so the lines run on to the chart's edges.
 */
function entriesIn(series: EntrySeries, range: XRange | null): { first: number; end: number } {
  const n = series.length;
  if (!range || n === 0) return { first: 0, end: n };
  let first = 0;
  let high = n;
  while (first < high) {
    const middle = (first + high) >> 1;
    if (series.xEnd(middle) < range.min) first = middle + 1;
    else high = middle;
  }
  let end = first;
  high = n;
  while (end < high) {
    const middle = (end + high) >> 1;
    if (series.xStart(middle) <= range.max) end = middle + 1;
    else high = middle;
  }
  return { first: Math.max(0, first - 1), end: Math.min(n, end + 1) };
}

/**
 * The bucket of an x among `requested` equal ranges spanning the range shown
 * (the whole non-empty series when not zoomed; capped so no series exceeds
 * MAX_POINTS_PER_SERIES). Zoomed in, the neighbours outside get buckets of their own.
 */
function bucketIndex(series: EntrySeries, requested: number, range: XRange | null): (x: number) => number {
  const buckets = Math.max(1, Math.min(Math.floor(requested), (MAX_POINTS_PER_SERIES >> 1) - 2));
  const x0 = range ? range.min : series.xStart(0);
  const width = (range ? range.max : series.xEnd(series.length - 1)) - x0 || 1;
  if (!range) return (x) => Math.min(buckets - 1, Math.floor(((x - x0) / width) * buckets));
  return (x) => (x < x0 ? -2 : x > x0 + width ? buckets : Math.min(buckets - 1, Math.floor(((x - x0) / width) * buckets)));
}

/**
 * Min-max decimation into `buckets` equal x-ranges (one per pixel column):
 * each bucket contributes its lowest and highest value, in the order they
 * occurred, so spikes and the extremes of the whole series are always drawn.
 * At most 2·buckets points (never more than MAX_POINTS_PER_SERIES). Zoomed
 * in (`range`), the buckets span the range shown: the same resolution as
 * the whole series had, for the entries in view.
 */
export function decimateMinMax(series: EntrySeries, requestedBuckets: number, out: Point[], range: XRange | null = null): Point[] {
  const writer = new PointWriter(out);
  const { first: start, end: n } = entriesIn(series, range);
  if (n <= start) return writer.finish();
  const bucketOf = bucketIndex(series, requestedBuckets, range);
  let bucket = NO_BUCKET;
  let lowX = 0;
  let lowY = 0;
  let highX = 0;
  let highY = 0;
  let firstX = 0;
  let lastX = 0;
  const flush = () => {
    if (bucket === NO_BUCKET) return;
    if (lowY === highY) {
      // A flat stretch: its two ends, so a constant series still reaches the last step.
      writer.put(firstX, lowY);
      if (lastX !== firstX) writer.put(lastX, lowY);
    } else if (lowX <= highX) {
      writer.put(lowX, lowY);
      writer.put(highX, highY);
    } else {
      writer.put(highX, highY);
      writer.put(lowX, lowY);
    }
  };
  for (let i = start; i < n; i++) {
    const low = series.low(i);
    if (Number.isNaN(low)) continue;
    const high = series.high(i);
    const first = series.lowFirst(i);
    const start = series.xStart(i);
    const end = series.xEnd(i);
    const b = bucketOf(start);
    if (b !== bucket) {
      flush();
      bucket = b;
      lowY = low;
      highY = high;
      lowX = first ? start : end;
      highX = first ? end : start;
      firstX = start;
      lastX = end;
      continue;
    }
    lastX = end;
    if (low < lowY) {
      lowY = low;
      lowX = first ? start : end;
    }
    if (high > highY) {
      highY = high;
      highX = first ? end : start;
    }
  }
  flush();
  return writer.finish();
}

export type Reduction = 'min' | 'max' | 'mean';

/**
 * One point per bucket, at the bucket's first x: the lowest, highest or
 * (count-weighted) mean value. Series decimated this way over the same table
 * share their x positions, which is what a filled quantile band needs.
 */
export function decimateEnvelope(series: EntrySeries, requestedBuckets: number, reduction: Reduction, out: Point[], range: XRange | null = null): Point[] {
  const writer = new PointWriter(out);
  const { first: start, end: n } = entriesIn(series, range);
  if (n <= start) return writer.finish();
  const bucketOf = bucketIndex(series, requestedBuckets, range);
  let bucket = NO_BUCKET;
  let x = 0;
  let value = 0;
  let weight = 0;
  const flush = () => {
    if (bucket !== NO_BUCKET) writer.put(x, reduction === 'mean' ? value / weight : value);
  };
  for (let i = start; i < n; i++) {
    const count = series.count(i);
    if (count === 0) continue;
    const b = bucketOf(series.xStart(i));
    const entryValue = reduction === 'min' ? series.low(i) : reduction === 'max' ? series.high(i) : series.mean(i) * count;
    if (b !== bucket) {
      flush();
      bucket = b;
      x = series.xStart(i);
      value = entryValue;
      weight = count;
      continue;
    }
    if (reduction === 'min') value = Math.min(value, entryValue);
    else if (reduction === 'max') value = Math.max(value, entryValue);
    else value += entryValue;
    weight += count;
  }
  flush();
  return writer.finish();
}
