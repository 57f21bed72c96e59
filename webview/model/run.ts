/** One optimizer run as the dashboard keeps it: its description, bounded telemetry, path and markers. */
import type { Hyperparameters } from '../../src/core/optim/optimizer';
import type { Summary } from '../../src/core/optim/telemetry';
import { ALL_PARAMETERS, type Extractor, runColumns } from '../../src/dashboard-table';
import {
  type HyperparametersChanged,
  RECORD_RANGE_LIMIT,
  type RecordRangeBody,
  type RecordSpans,
  type RecordsBatch,
  type RunEnded,
  type RunStarted,
  type StepRecord,
} from '../../src/webview-protocol';
import { MetricTable, type SavedTable } from './metric-table';
import { type SavedTrajectory, Trajectory } from './trajectory';

export { ALL_PARAMETERS, QUANTILES, type Quantile, metric } from '../../src/dashboard-table';

/** A record's position on the 2-D path (NaN without parameters: not drawn). */
function position(record: StepRecord): [number, number] {
  return record.params && record.params.length >= 2 ? [record.params[0], record.params[1]] : [NaN, NaN];
}

/** The per-dimension effective learning rates of one tensor at one step. */
export interface ElementRates {
  step: number;
  values: Float64Array;
  /** The gradient and the optimizer's accumulator of the same step, when the host sent them. */
  grad: Float64Array | null;
  accumulator: Float64Array | null;
  /** From every record (the run's detail tensor), or asked for once (requestEffectiveLr). */
  source: 'live' | 'requested';
}

export type RunStatus = 'running' | 'paused' | 'ended';

export interface SavedRun {
  meta: RunStarted;
  ended: RunEnded | null;
  paused: boolean;
  dropped?: number;
  markers: HyperparametersChanged[];
  lastStep: number;
  separateFullLoss: boolean;
  latest: LatestSummaries | null;
  table: SavedTable;
  trajectory: SavedTrajectory | null;
}

/** The records of a step range at full resolution (one table entry per record). */
export interface ZoomRecords {
  fromStep: number;
  toStep: number;
  table: MetricTable;
}

/** The newest effective-rate summaries (for the histogram), by scope. */
export interface LatestSummaries {
  step: number;
  byScope: Record<string, Summary | null>;
}

export class RunModel {
  readonly table: MetricTable;
  readonly trajectory: Trajectory | null;
  ended: RunEnded | null = null;
  markers: HyperparametersChanged[] = [];
  lastStep = 0;
  /** Mini-batch runs: the full loss differs from the batch loss and gets its own line. */
  separateFullLoss = false;
  latest: LatestSummaries | null = null;
  readonly elementRates = new Map<string, ElementRates>();
  /** As the host last reported (runStatus). */
  paused = false;
  /** An external run: records its script dropped (runStatus). */
  dropped = 0;
  /** Every record of a range a chart is zoomed into, from the host (requestRecords); null: none. */
  zoom: ZoomRecords | null = null;
  private readonly extractors: Extractor[];

  constructor(
    readonly meta: RunStarted,
    saved?: { table: SavedTable; trajectory: SavedTrajectory | null },
  ) {
    const columns = runColumns(meta);
    this.extractors = columns.map(([, extract]) => extract);
    this.table = saved ? MetricTable.restore(saved.table) : new MetricTable(columns.map(([name]) => name));
    this.trajectory = meta.twoDimensional ? (saved?.trajectory ? Trajectory.restore(saved.trajectory) : new Trajectory()) : null;
    if (meta.start && this.trajectory && this.trajectory.length === 0) this.trajectory.push(meta.start[0], meta.start[1]);
  }

  /** Scopes of the effective-rate band: each tensor, and all parameters when there are several. */
  get rateScopes(): string[] {
    if (!this.meta.adaptive) return [];
    const names = this.meta.tensors.map((tensor) => tensor.name);
    return names.length === 1 ? names : [ALL_PARAMETERS, ...names];
  }

  get status(): RunStatus {
    return this.ended ? 'ended' : this.paused ? 'paused' : 'running';
  }

  /** Hyper-parameters in force now: the start values with every confirmed change applied. */
  get hyperparameters(): Hyperparameters {
    return Object.assign({}, this.meta.hyperparameters, ...this.markers.map((marker) => marker.values));
  }

  /** Appends the records after the last one it has (earlier ones are replays); true when any was new. */
  ingest(batch: RecordsBatch): boolean {
    let added = false;
    const values = new Float64Array(this.extractors.length);
    batch.records.forEach((record, k) => {
      if (record.step <= this.lastStep) return;
      for (let c = 0; c < this.extractors.length; c++) values[c] = this.extractors[c](record);
      this.table.append(record.step, batch.seconds[k] ?? NaN, values);
      // A zoom onto the live end of a run goes on filling as records come.
      const zoom = this.zoom;
      if (zoom && record.step <= zoom.toStep && zoom.table.length < RECORD_RANGE_LIMIT && (zoom.table.length === 0 || record.step > zoom.table.stepEnd[zoom.table.length - 1])) {
        zoom.table.append(record.step, batch.seconds[k] ?? NaN, values);
      }
      if (record.fullLoss !== null && record.fullLoss !== record.loss) this.separateFullLoss = true;
      this.trajectory?.push(...position(record), 1);
      this.takeNewest(record);
      added = true;
    });
    return added;
  }

  /** Appends spans of records after the last one it has, as its table would have folded those records. */
  ingestSpans(message: RecordSpans): boolean {
    let added = false;
    for (const span of message.spans) {
      if (span.firstStep <= this.lastStep || span.columns.length !== this.extractors.length) continue;
      this.table.appendSpan(span);
      if (span.separateFullLoss) this.separateFullLoss = true;
      if (span.position) this.trajectory?.push(span.position[0], span.position[1], span.records);
      this.lastStep = span.lastStep;
      added = true;
    }
    if (added) this.takeNewest(message.newest);
    return added;
  }

  /** The newest record: the last step, its effective-rate summaries and the detail tensor's rates. */
  private takeNewest(record: StepRecord): void {
    this.lastStep = record.step;
    if (record.effectiveLrByTensor || record.effectiveLr) {
      const byScope: Record<string, Summary | null> = { ...(record.effectiveLrByTensor ?? {}) };
      if (this.meta.tensors.length > 1) byScope[ALL_PARAMETERS] = record.effectiveLr;
      this.latest = { step: record.step, byScope };
    }
    if (record.effectiveLrDetail && this.meta.detailTensor) {
      this.elementRates.set(this.meta.detailTensor, {
        step: record.step,
        values: Float64Array.from(record.effectiveLrDetail),
        grad: record.gradDetail ? Float64Array.from(record.gradDetail) : null,
        accumulator: record.accumulatorDetail ? Float64Array.from(record.accumulatorDetail) : null,
        source: 'live',
      });
    }
  }

  /**
   * Whether the table has a range in full (an entry per record), else how
   * many records it holds at most (entries overlapping it × records per entry).
   */
  recordsIn(fromStep: number, toStep: number): { full: boolean; records: number } {
    const table = this.table;
    if (table.span === 1) return { full: true, records: 0 };
    let entries = 0;
    for (let i = 0; i < table.length; i++) if (table.stepEnd[i] >= fromStep && table.stepStart[i] <= toStep) entries++;
    return { full: false, records: entries * table.span };
  }

  /** The table of the zoom when it holds all of `fromStep`..`toStep`, else null. */
  zoomTableFor(fromStep: number, toStep: number): MetricTable | null {
    const zoom = this.zoom;
    return zoom && zoom.fromStep <= fromStep && zoom.toStep >= Math.min(toStep, this.lastStep) ? zoom.table : null;
  }

  /** Keeps the host's records of a range (requestRecords) for the zoomed charts. */
  setZoomRecords(body: RecordRangeBody): void {
    const names = this.table.names;
    const index = body.columns.map((name) => names.indexOf(name));
    const table = new MetricTable(names, RECORD_RANGE_LIMIT);
    const values = new Float64Array(names.length).fill(NaN);
    for (let k = 0; k < body.steps.length && k < RECORD_RANGE_LIMIT; k++) {
      values.fill(NaN);
      index.forEach((column, c) => {
        if (column >= 0) values[column] = body.values[c][k] ?? NaN;
      });
      table.append(body.steps[k], body.seconds[k], values);
    }
    this.zoom = { fromStep: body.fromStep, toStep: body.toStep, table };
  }

  addMarker(change: HyperparametersChanged): boolean {
    if (this.markers.some((marker) => marker.step === change.step && JSON.stringify(marker.values) === JSON.stringify(change.values))) return false;
    this.markers.push(change);
    this.markers.sort((a, b) => a.step - b.step);
    return true;
  }

  save(tableEntries: number, trajectoryPoints: number): SavedRun {
    return {
      meta: this.meta,
      ended: this.ended,
      paused: this.paused,
      dropped: this.dropped,
      markers: this.markers,
      lastStep: this.lastStep,
      separateFullLoss: this.separateFullLoss,
      latest: this.latest,
      table: this.table.save(tableEntries),
      trajectory: this.trajectory?.save(trajectoryPoints) ?? null,
    };
  }

  static restore(saved: SavedRun): RunModel {
    const run = new RunModel(saved.meta, { table: saved.table, trajectory: saved.trajectory });
    Object.assign(run, { ended: saved.ended, paused: saved.paused, dropped: saved.dropped ?? 0, markers: saved.markers, lastStep: saved.lastStep, separateFullLoss: saved.separateFullLoss, latest: saved.latest });
    return run;
  }
}
