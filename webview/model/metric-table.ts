/**
 * The telemetry of one run, bounded in memory at any run length.
 *
 * Records are appended to columnar typed arrays that grow by doubling up to
 * TABLE_CAPACITY entries. When full, neighbouring entries are merged in
 * pairs, so every entry then covers `span` (a power of two) consecutive
 * records, and later records are folded into the last entry until it is as
 * wide as the others. An entry keeps, per metric, the exact minimum and
 * maximum (and which came first), the sum and the count of finite values:
 * a 1,000,000-step run costs the same memory as a 4,096-step one, the
 * chart's min-max decimation still sees every extreme, and smoothing works
 * from the means. All metrics of a run share the entries (a missing value,
 * such as a full loss not computed that step, is NaN and counts nothing).
 */

import { type SummaryArrays, TABLE_CAPACITY, foldSummary } from '../../src/dashboard-table';
import type { RecordSpan } from '../../src/webview-protocol';

export { TABLE_CAPACITY } from '../../src/dashboard-table';
const INITIAL_CAPACITY = 256;

export interface SavedTable {
  span: number;
  length: number;
  lastCount: number;
  recordCount: number;
  columns: string[];
  /** Base64 of Float64Array: stepStart, stepEnd, timeStart, timeEnd, then per column min, max, sum, valid, lowFirst. */
  arrays: string[];
}

class Column implements SummaryArrays {
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  valid: Uint32Array;
  /** 1 when the entry's minimum came before (or with) its maximum. */
  lowFirst: Uint8Array;

  constructor(capacity: number) {
    this.min = new Float64Array(capacity).fill(Infinity);
    this.max = new Float64Array(capacity).fill(-Infinity);
    this.sum = new Float64Array(capacity);
    this.valid = new Uint32Array(capacity);
    this.lowFirst = new Uint8Array(capacity).fill(1);
  }

  /** A copy of the first `length` entries. */
  slice(length: number): Column {
    const copy = new Column(0);
    copy.min = this.min.slice(0, length);
    copy.max = this.max.slice(0, length);
    copy.sum = this.sum.slice(0, length);
    copy.valid = this.valid.slice(0, length);
    copy.lowFirst = this.lowFirst.slice(0, length);
    return copy;
  }

  grow(capacity: number): void {
    this.min = grown(this.min, capacity, Infinity);
    this.max = grown(this.max, capacity, -Infinity);
    this.sum = grown(this.sum, capacity, 0);
    this.valid = grown(this.valid, capacity, 0);
    this.lowFirst = grown(this.lowFirst, capacity, 1);
  }

  /** Folds a value into entry i (the newest record of that entry). */
  add(i: number, value: number): void {
    if (Number.isFinite(value)) foldSummary(this, i, value, value, value, 1, 1);
  }

  /** Entry `into` becomes entries a and b (a before b) merged; `into` ≤ a. */
  merge(into: number, a: number, b: number): void {
    this.copy(into, a);
    foldSummary(this, into, this.min[b], this.max[b], this.sum[b], this.valid[b], this.lowFirst[b]);
  }

  copy(into: number, from: number): void {
    this.min[into] = this.min[from];
    this.max[into] = this.max[from];
    this.lowFirst[into] = this.lowFirst[from];
    this.sum[into] = this.sum[from];
    this.valid[into] = this.valid[from];
  }

  clear(from: number, to: number): void {
    this.min.fill(Infinity, from, to);
    this.max.fill(-Infinity, from, to);
    this.sum.fill(0, from, to);
    this.valid.fill(0, from, to);
    this.lowFirst.fill(1, from, to);
  }
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(array: T, capacity: number, fill: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity);
  bigger.set(array);
  bigger.fill(fill, array.length);
  return bigger;
}

export class MetricTable {
  /** Records per entry (the last entry may hold fewer: lastCount). */
  span = 1;
  length = 0;
  lastCount = 0;
  recordCount = 0;
  stepStart: Float64Array;
  stepEnd: Float64Array;
  timeStart: Float64Array;
  timeEnd: Float64Array;
  private columns: Column[];
  private readonly index = new Map<string, number>();

  constructor(readonly names: readonly string[], private readonly capacity = TABLE_CAPACITY) {
    const initial = Math.min(INITIAL_CAPACITY, capacity);
    this.stepStart = new Float64Array(initial);
    this.stepEnd = new Float64Array(initial);
    this.timeStart = new Float64Array(initial);
    this.timeEnd = new Float64Array(initial);
    this.columns = names.map(() => new Column(initial));
    names.forEach((name, k) => this.index.set(name, k));
  }

  /** Appends one record: `values[k]` is the value of column k (NaN when absent). */
  append(step: number, seconds: number, values: ArrayLike<number>): void {
    if (this.length === 0 || this.lastCount === this.span) {
      if (this.length === this.capacity) this.compact();
      if (this.length === this.stepStart.length) this.grow(Math.min(this.capacity, this.stepStart.length * 2));
      const i = this.length++;
      this.stepStart[i] = step;
      this.timeStart[i] = seconds;
      this.lastCount = 0;
    }
    const i = this.length - 1;
    this.stepEnd[i] = step;
    this.timeEnd[i] = seconds;
    for (let k = 0; k < this.columns.length; k++) this.columns[k].add(i, values[k]);
    this.lastCount += 1;
    this.recordCount += 1;
  }

  /**
   * Appends records the host folded into one span (RecordSpans): as if they
   * came one by one, provided the span lies within one entry of this table
   * at its new record count, which is how the host cuts them. A span wider
   * than the entries merges the table first; one across an entry's end
   * (a page restored from its saved state counts differently) starts an entry.
   */
  appendSpan(span: RecordSpan): void {
    while (this.span < span.records) this.compact();
    if (this.length === 0 || this.lastCount + span.records > this.span) {
      if (this.length === this.capacity) this.compact();
      if (this.length === 0 || this.lastCount + span.records > this.span) {
        if (this.length === this.stepStart.length) this.grow(Math.min(this.capacity, this.stepStart.length * 2));
        const i = this.length++;
        this.stepStart[i] = span.firstStep;
        this.timeStart[i] = span.firstSeconds;
        this.lastCount = 0;
      }
    }
    const i = this.length - 1;
    this.stepEnd[i] = span.lastStep;
    this.timeEnd[i] = span.lastSeconds;
    span.columns.forEach((summary, k) => {
      if (summary) foldSummary(this.columns[k], i, summary[0], summary[1], summary[2], summary[3], summary[4]);
    });
    this.lastCount += span.records;
    this.recordCount += span.records;
  }

  /** A column's arrays, to read entries without a lookup per value (decimation reads thousands per frame). */
  column(name: string): Readonly<Pick<Column, 'min' | 'max' | 'sum' | 'valid' | 'lowFirst'>> {
    const k = this.index.get(name);
    if (k === undefined) throw new RangeError(`no column ${name}`);
    return this.columns[k];
  }

  /** Min, max and mean of entry i of a column (NaN without values). */
  min(name: string, i: number): number {
    const column = this.column(name);
    return column.valid[i] > 0 ? column.min[i] : NaN;
  }

  max(name: string, i: number): number {
    const column = this.column(name);
    return column.valid[i] > 0 ? column.max[i] : NaN;
  }

  mean(name: string, i: number): number {
    const column = this.column(name);
    return column.valid[i] > 0 ? column.sum[i] / column.valid[i] : NaN;
  }

  /** The seconds at a step, interpolated between entries (for markers on the wall-time axis). */
  secondsAt(step: number): number {
    if (this.length === 0) return 0;
    let low = 0;
    let high = this.length - 1;
    if (step <= this.stepStart[0]) return this.timeStart[0];
    if (step >= this.stepEnd[high]) return this.timeEnd[high];
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (this.stepStart[middle] <= step) low = middle;
      else high = middle;
    }
    const x0 = this.stepStart[low];
    const x1 = this.stepStart[high];
    return this.timeStart[low] + ((step - x0) / (x1 - x0 || 1)) * (this.timeStart[high] - this.timeStart[low]);
  }

  /** The table merged down to at most `entries` entries (on a copy), for saving. */
  save(entries: number): SavedTable {
    const copy = new MetricTable(this.names, this.capacity);
    Object.assign(copy, { span: this.span, length: this.length, lastCount: this.lastCount, recordCount: this.recordCount });
    copy.stepStart = this.stepStart.slice(0, this.length);
    copy.stepEnd = this.stepEnd.slice(0, this.length);
    copy.timeStart = this.timeStart.slice(0, this.length);
    copy.timeEnd = this.timeEnd.slice(0, this.length);
    copy.columns = this.columns.map((column) => column.slice(this.length));
    while (copy.length > entries) copy.compact();
    return copy.saveAll();
  }

  static restore(saved: SavedTable): MetricTable {
    const capacity = Math.max(TABLE_CAPACITY, saved.length);
    const table = new MetricTable(saved.columns, capacity);
    table.grow(Math.max(INITIAL_CAPACITY, saved.length));
    const arrays = saved.arrays.map(decodeFloat64);
    const [stepStart, stepEnd, timeStart, timeEnd] = arrays;
    table.stepStart.set(stepStart);
    table.stepEnd.set(stepEnd);
    table.timeStart.set(timeStart);
    table.timeEnd.set(timeEnd);
    table.columns.forEach((column, k) => {
      const [min, max, sum, valid, lowFirst] = arrays.slice(4 + 5 * k, 9 + 5 * k);
      column.min.set(min);
      column.max.set(max);
      column.sum.set(sum);
      column.valid.set(valid);
      column.lowFirst.set(lowFirst);
    });
    Object.assign(table, { span: saved.span, length: saved.length, lastCount: saved.lastCount, recordCount: saved.recordCount });
    return table;
  }

  private saveAll(): SavedTable {
    const used = <T extends Float64Array | Uint32Array | Uint8Array>(array: T) => encodeFloat64(Float64Array.from(array.subarray(0, this.length)));
    return {
      span: this.span,
      length: this.length,
      lastCount: this.lastCount,
      recordCount: this.recordCount,
      columns: [...this.names],
      arrays: [
        used(this.stepStart),
        used(this.stepEnd),
        used(this.timeStart),
        used(this.timeEnd),
        ...this.columns.flatMap((column) => [used(column.min), used(column.max), used(column.sum), used(column.valid), used(column.lowFirst)]),
      ],
    };
  }

  private grow(capacity: number): void {
    if (capacity <= this.stepStart.length) return;
    this.stepStart = grown(this.stepStart, capacity, 0);
    this.stepEnd = grown(this.stepEnd, capacity, 0);
    this.timeStart = grown(this.timeStart, capacity, 0);
    this.timeEnd = grown(this.timeEnd, capacity, 0);
    for (const column of this.columns) column.grow(capacity);
  }

  /** Pairwise merge: entries 2i and 2i+1 become entry i; the span doubles. */
  private compact(): void {
    const pairs = this.length >> 1;
    for (let i = 0; i < pairs; i++) {
      const a = 2 * i;
      const b = a + 1;
      this.stepStart[i] = this.stepStart[a];
      this.stepEnd[i] = this.stepEnd[b];
      this.timeStart[i] = this.timeStart[a];
      this.timeEnd[i] = this.timeEnd[b];
      for (const column of this.columns) column.merge(i, a, b);
    }
    const odd = this.length % 2 === 1;
    if (odd) {
      // The unpaired newest entry stays as it is, now a partial entry of the doubled span.
      const last = this.length - 1;
      this.stepStart[pairs] = this.stepStart[last];
      this.stepEnd[pairs] = this.stepEnd[last];
      this.timeStart[pairs] = this.timeStart[last];
      this.timeEnd[pairs] = this.timeEnd[last];
      for (const column of this.columns) column.copy(pairs, last);
    } else {
      this.lastCount += this.span;
    }
    const length = pairs + (odd ? 1 : 0);
    for (const column of this.columns) column.clear(length, this.length);
    this.length = length;
    this.span *= 2;
  }
}

function encodeFloat64(values: Float64Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

function decodeFloat64(text: string): Float64Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float64Array(bytes.buffer);
}
