/**
 * How the dashboard keeps the telemetry of a run, shared by the page's table
 * (webview/model/metric-table.ts) and the host, which sends a long run's
 * records already folded the way that table folds them (RecordSpans, built
 * by src/extension/dashboard/record-spans.ts): the metric columns of a run,
 * the table's capacity, the width of its entries at a record count, and how
 * values fold into an entry. Pure: imported by the browser bundle too.
 */
import type { Summary } from './core/optim/telemetry';
import type { RunStarted, StepRecord } from './webview-protocol';

/** Entries of a run's table: beyond, neighbouring entries merge in pairs and each covers twice as many records. */
export const TABLE_CAPACITY = 4096;

/**
 * Records per entry of a table holding `records` records: the smallest power
 * of two s with records ≤ TABLE_CAPACITY·s (the table merges its entries in
 * pairs when a record arrives at a full table of full entries).
 */
export function tableSpan(records: number): number {
  let span = 1;
  while (records > TABLE_CAPACITY * span) span *= 2;
  return span;
}

export const QUANTILES = ['min', 'q25', 'median', 'q75', 'max'] as const;
export type Quantile = (typeof QUANTILES)[number];

/** The effective-rate scope of all parameters together (runs with one tensor use that tensor's name). */
export const ALL_PARAMETERS = '*';

export const metric = {
  loss: 'loss',
  fullLoss: 'fullLoss',
  gradNorm: 'gradNorm',
  updateNorm: 'updateNorm',
  updateRatio: 'updateRatio',
  lr: 'lr',
  ratio: (tensor: string) => `ratio:${tensor}`,
  rate: (scope: string, quantile: Quantile) => `rate:${scope}:${quantile}`,
} as const;

export type Extractor = (record: StepRecord) => number;

/** A field of the telemetry CSV exports (the page's table, the host's every record): quoted where CSV needs it. */
function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A number of the CSV exports: empty when there is none (NaN, infinite). */
function csvNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : '';
}

/** The header line of the telemetry CSV exports (without its newline). */
export function csvHeader(names: readonly string[]): string {
  return names.map(csvField).join(',');
}

/** A row of numbers of the telemetry CSV exports (without its newline). */
export function csvRow(values: ArrayLike<number>): string {
  return Array.from(values, csvNumber).join(',');
}

const orNaN = (value: number | null | undefined): number => value ?? NaN;

/** The columns of a run's table, in order: a name and how to read it from a record (NaN: no value that step). */
export function runColumns(meta: Pick<RunStarted, 'tensors' | 'adaptive'>): [string, Extractor][] {
  const columns: [string, Extractor][] = [
    [metric.loss, (record) => record.loss],
    [metric.fullLoss, (record) => orNaN(record.fullLoss)],
    [metric.gradNorm, (record) => record.gradNorm],
    [metric.updateNorm, (record) => record.updateNorm],
    [metric.updateRatio, (record) => record.updateRatio],
    [metric.lr, (record) => record.lr],
  ];
  for (const { name } of meta.tensors) columns.push([metric.ratio(name), (record) => orNaN(record.updateRatioByTensor[name])]);
  if (!meta.adaptive) return columns;
  const single = meta.tensors.length === 1;
  const scopes = single ? [meta.tensors[0].name] : [ALL_PARAMETERS, ...meta.tensors.map((tensor) => tensor.name)];
  for (const scope of scopes) {
    const summaryOf = (record: StepRecord): Summary | null | undefined =>
      scope === ALL_PARAMETERS || single ? record.effectiveLr : record.effectiveLrByTensor?.[scope];
    for (const quantile of QUANTILES) columns.push([metric.rate(scope, quantile), (record) => orNaN(summaryOf(record)?.[quantile])]);
  }
  return columns;
}

/** Per entry i: the exact minimum and maximum of its finite values (and whether the minimum came first), their sum and count. */
export interface SummaryArrays {
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  valid: Uint32Array;
  /** 1 when the entry's minimum came before (or with) its maximum. */
  lowFirst: Uint8Array;
}

/**
 * Folds values that came after entry i's into it: `valid` finite values with
 * these minimum, maximum, sum and order (one value v: v, v, v, 1, 1). On a
 * tie the earlier extreme is kept, as a record-by-record fold keeps it.
 */
export function foldSummary(into: SummaryArrays, i: number, min: number, max: number, sum: number, valid: number, lowFirst: number): void {
  if (valid === 0) return;
  if (into.valid[i] === 0) {
    into.min[i] = min;
    into.max[i] = max;
    into.sum[i] = sum;
    into.valid[i] = valid;
    into.lowFirst[i] = lowFirst;
    return;
  }
  const lowFromEarlier = into.min[i] <= min;
  const highFromEarlier = into.max[i] >= max;
  if (lowFromEarlier !== highFromEarlier) into.lowFirst[i] = lowFromEarlier ? 1 : 0;
  else if (!lowFromEarlier) into.lowFirst[i] = lowFirst;
  if (!lowFromEarlier) into.min[i] = min;
  if (!highFromEarlier) into.max[i] = max;
  into.sum[i] += sum;
  into.valid[i] += valid;
}
