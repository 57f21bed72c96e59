/**
 * A run's records on their way to one dashboard page, folded as the page's
 * table will fold them (src/dashboard-table.ts). While the table keeps every
 * record (its first TABLE_CAPACITY), they go as records; beyond, as spans,
 * each within one entry of the page's table at the record count it will
 * have, so the page ends up with the same entries (every minimum, maximum
 * and mean the charts draw) as from the records one by one, and a post
 * carries at most about TABLE_CAPACITY spans of a run however far the page
 * is behind. Only the newest record goes whole (the page shows the
 * effective-rate histograms and the detail tensor of the latest step).
 */
import type { Summary } from '../../core/optim/telemetry';
import { type Extractor, type SummaryArrays, foldSummary, tableSpan } from '../../dashboard-table';
import type { ColumnSummary, RecordSpan, RecordSpans, RecordsBatch, StepRecord } from '../../webview-protocol';

const NO_HISTOGRAM: Summary['histogram'] = Object.freeze({ edges: [], counts: [], sampled: 0 }) as Summary['histogram'];

/** A record as the page needs it when it is not the newest: without histograms and the detail tensor's vectors. */
export function slimRecord(record: StepRecord): StepRecord {
  const withoutHistogram = (summary: Summary | null): Summary | null => (summary ? { ...summary, histogram: NO_HISTOGRAM } : null);
  return {
    ...record,
    effectiveLr: withoutHistogram(record.effectiveLr),
    effectiveLrByTensor: record.effectiveLrByTensor
      ? Object.fromEntries(Object.entries(record.effectiveLrByTensor).map(([name, summary]) => [name, withoutHistogram(summary)]))
      : null,
    effectiveLrDetail: null,
    gradDetail: null,
    accumulatorDetail: null,
  };
}

interface OpenSpan {
  /** Index of its first record among the run's records in the page's table. */
  first: number;
  records: number;
  firstStep: number;
  lastStep: number;
  firstSeconds: number;
  lastSeconds: number;
  /** Entry k: column k. */
  summary: SummaryArrays;
  separateFullLoss: boolean;
  last: StepRecord;
}

export class PendingRecords {
  private raw: StepRecord[] = [];
  private rawSeconds: number[] = [];
  private spans: OpenSpan[] = [];
  /** Records of each span: a power of two that only grows with the records sent. */
  private width = 1;
  private pending = 0;

  /** `columns`: the run's table columns (runColumns of its runStarted); `sent`: records of the run the page's table holds. */
  constructor(
    readonly runId: string,
    private readonly columns: Extractor[],
    private sent = 0,
  ) {}

  get count(): number {
    return this.pending;
  }

  add(record: StepRecord, seconds: number): void {
    const index = this.sent + this.pending++;
    const width = tableSpan(this.sent + this.pending);
    if (width === 1) {
      this.raw.push(record);
      this.rawSeconds.push(seconds);
      return;
    }
    if (this.raw.length) {
      this.raw.forEach((kept, k) => this.spans.push(this.open(kept, this.rawSeconds[k], this.sent + k)));
      this.raw = [];
      this.rawSeconds = [];
    }
    if (width > this.width) {
      this.width = width;
      this.regroup();
    }
    const last = this.spans.at(-1);
    if (last && Math.floor(last.first / width) === Math.floor(index / width)) this.fold(last, record, seconds);
    else this.spans.push(this.open(record, seconds, index));
  }

  /** What is pending, as one message (the newest record whole), or null; the page then holds it. */
  take(): RecordsBatch | RecordSpans | null {
    if (this.pending === 0) return null;
    let message: RecordsBatch | RecordSpans;
    if (this.raw.length) {
      const records = this.raw.map((record, k) => (k === this.raw.length - 1 ? record : slimRecord(record)));
      message = { type: 'records', runId: this.runId, records, seconds: this.rawSeconds };
    } else {
      message = { type: 'recordSpans', runId: this.runId, spans: this.spans.map(wireSpan), newest: this.spans.at(-1)!.last };
    }
    this.sent += this.pending;
    this.pending = 0;
    this.raw = [];
    this.rawSeconds = [];
    this.spans = [];
    return message;
  }

  private open(record: StepRecord, seconds: number, first: number): OpenSpan {
    const columns = this.columns.length;
    const span: OpenSpan = {
      first,
      records: 0,
      firstStep: record.step,
      lastStep: record.step,
      firstSeconds: seconds,
      lastSeconds: seconds,
      summary: { min: new Float64Array(columns), max: new Float64Array(columns), sum: new Float64Array(columns), valid: new Uint32Array(columns), lowFirst: new Uint8Array(columns) },
      separateFullLoss: false,
      last: record,
    };
    this.fold(span, record, seconds);
    return span;
  }

  private fold(span: OpenSpan, record: StepRecord, seconds: number): void {
    span.records++;
    span.lastStep = record.step;
    span.lastSeconds = seconds;
    span.last = record;
    if (record.fullLoss !== null && record.fullLoss !== record.loss) span.separateFullLoss = true;
    this.columns.forEach((extract, k) => {
      const value = extract(record);
      if (Number.isFinite(value)) foldSummary(span.summary, k, value, value, value, 1, 1);
    });
  }

  /** The spans merged to the current width: neighbours within one width-aligned range become one. */
  private regroup(): void {
    const merged: OpenSpan[] = [];
    for (const span of this.spans) {
      const into = merged.at(-1);
      if (!into || Math.floor(into.first / this.width) !== Math.floor(span.first / this.width)) {
        merged.push(span);
        continue;
      }
      into.records += span.records;
      into.lastStep = span.lastStep;
      into.lastSeconds = span.lastSeconds;
      into.last = span.last;
      into.separateFullLoss ||= span.separateFullLoss;
      const from = span.summary;
      for (let k = 0; k < from.valid.length; k++) foldSummary(into.summary, k, from.min[k], from.max[k], from.sum[k], from.valid[k], from.lowFirst[k]);
    }
    this.spans = merged;
  }
}

function wireSpan(span: OpenSpan): RecordSpan {
  const { min, max, sum, valid, lowFirst } = span.summary;
  const columns: (ColumnSummary | null)[] = [];
  for (let k = 0; k < valid.length; k++) columns.push(valid[k] === 0 ? null : [min[k], max[k], sum[k], valid[k], lowFirst[k] === 1 ? 1 : 0]);
  return {
    records: span.records,
    firstStep: span.firstStep,
    lastStep: span.lastStep,
    firstSeconds: span.firstSeconds,
    lastSeconds: span.lastSeconds,
    columns,
    separateFullLoss: span.separateFullLoss,
    position: span.last.params && span.last.params.length >= 2 ? [span.last.params[0], span.last.params[1]] : null,
  };
}
