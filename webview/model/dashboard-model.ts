/**
 * Everything the dashboard shows, updated by host messages and saved with
 * setState. `apply` reports what changed, so only the affected views redraw.
 */
import type {
  CheckReport,
  CriticalPointMessage,
  DashboardConfig,
  EffectiveLrBody,
  HostToWebview,
  LossSurface,
} from '../../src/webview-protocol';
import { RunModel, type SavedRun } from './run';

/** Older runs are dropped beyond this many (a compare group is rarely more than eight). */
export const MAX_RUNS = 16;
const MAX_CHECK_FILES = 8;
const MAX_CRITICAL_REPORTS = 8;
/** What is saved with setState: the decimated series, never the raw telemetry. */
export const SAVED_ENTRIES_PER_SERIES = 512;
export const SAVED_TRAJECTORY_POINTS = 1024;
const SAVED_RUNS = 8;

export const Changed = {
  none: 0,
  runs: 1 << 0,
  series: 1 << 1,
  markers: 1 << 2,
  surface: 1 << 3,
  critical: 1 << 4,
  check: 1 << 5,
  elements: 1 << 6,
  mode: 1 << 7,
  all: (1 << 8) - 1,
} as const;

export type LastResult = { kind: 'check'; file: string } | { kind: 'run'; runId: string } | null;

export interface SavedDashboard {
  version: 1;
  mode: DashboardConfig['mode'];
  runs: SavedRun[];
  focusedRunId: string | null;
  surfaces: LossSurface[];
  critical: CriticalPointMessage[];
  checks: CheckReport[];
  lastResult: LastResult;
}

export class DashboardModel {
  mode: DashboardConfig['mode'] = 'panel';
  readonly runs = new Map<string, RunModel>();
  focusedRunId: string | null = null;
  readonly surfaces = new Map<string, LossSurface>();
  /** Oldest first. */
  critical: CriticalPointMessage[] = [];
  /** By file, the most recent last. */
  readonly checks = new Map<string, CheckReport>();
  lastResult: LastResult = null;

  get focusedRun(): RunModel | null {
    return (this.focusedRunId !== null && this.runs.get(this.focusedRunId)) || null;
  }

  /** The focused run and the runs compared with it. */
  get visibleRuns(): RunModel[] {
    const focused = this.focusedRun;
    if (!focused) return [];
    const group = focused.meta.compareGroup;
    return group === null ? [focused] : [...this.runs.values()].filter((run) => run.meta.compareGroup === group);
  }

  /** The critical-point report for the focused run, or the newest one. */
  get criticalReport(): CriticalPointMessage | null {
    return this.critical.findLast((entry) => entry.runId === this.focusedRunId) ?? this.critical.at(-1) ?? null;
  }

  apply(message: HostToWebview): number {
    switch (message.type) {
      case 'config':
        if (this.mode === message.mode) return Changed.none;
        this.mode = message.mode;
        return Changed.mode;
      case 'runStarted': {
        if (this.runs.has(message.runId)) return Changed.none;
        this.runs.set(message.runId, new RunModel(message));
        while (this.runs.size > MAX_RUNS) this.runs.delete(this.runs.keys().next().value!);
        this.focusedRunId = message.runId;
        this.lastResult = { kind: 'run', runId: message.runId };
        return Changed.runs | Changed.series | Changed.surface | Changed.elements;
      }
      case 'records': {
        const run = this.runs.get(message.runId);
        return run?.ingest(message) ? Changed.series | Changed.surface | Changed.elements : Changed.none;
      }
      case 'recordSpans': {
        const run = this.runs.get(message.runId);
        return run?.ingestSpans(message) ? Changed.series | Changed.surface | Changed.elements : Changed.none;
      }
      case 'runEnded': {
        const run = this.runs.get(message.runId);
        if (!run) return Changed.none;
        run.ended = message;
        this.lastResult = { kind: 'run', runId: message.runId };
        return Changed.runs;
      }
      case 'runStatus': {
        const run = this.runs.get(message.runId);
        const dropped = message.dropped ?? run?.dropped ?? 0;
        if (!run || (run.paused === message.paused && run.dropped === dropped)) return Changed.none;
        run.paused = message.paused;
        run.dropped = dropped;
        return Changed.runs;
      }
      case 'hyperparametersChanged':
        return this.runs.get(message.runId)?.addMarker(message) ? Changed.markers | Changed.runs : Changed.none;
      case 'lossSurface':
        this.surfaces.set(message.problem, message);
        return Changed.surface;
      case 'criticalPoint':
        this.critical = [...this.critical.filter((entry) => entry.runId !== message.runId || entry.report.name !== message.report.name), message]
          .slice(-MAX_CRITICAL_REPORTS);
        return Changed.critical;
      case 'checkReport':
        this.checks.delete(message.file);
        this.checks.set(message.file, message);
        while (this.checks.size > MAX_CHECK_FILES) this.checks.delete(this.checks.keys().next().value!);
        this.lastResult = { kind: 'check', file: message.file };
        return Changed.check;
      case 'response':
        return Changed.none;
    }
  }

  /** A tensor's rates the dashboard asked for (requestEffectiveLr's answer). */
  receiveRates(body: EffectiveLrBody): number {
    const run = this.runs.get(body.runId);
    if (!run) return Changed.none;
    run.elementRates.set(body.tensor, {
      step: body.step,
      values: Float64Array.from(body.values),
      grad: body.grad ? Float64Array.from(body.grad) : null,
      accumulator: body.accumulator ? Float64Array.from(body.accumulator) : null,
      source: 'requested',
    });
    return Changed.elements;
  }

  save(): SavedDashboard {
    const newest = [...this.runs.values()].slice(-SAVED_RUNS);
    const kept = new Set([...newest, ...this.visibleRuns]);
    return {
      version: 1,
      mode: this.mode,
      runs: [...this.runs.values()].filter((run) => kept.has(run)).map((run) => run.save(SAVED_ENTRIES_PER_SERIES, SAVED_TRAJECTORY_POINTS)),
      focusedRunId: this.focusedRunId,
      surfaces: [...this.surfaces.values()],
      critical: this.critical,
      checks: [...this.checks.values()],
      lastResult: this.lastResult,
    };
  }

  static restore(saved: SavedDashboard | undefined): DashboardModel {
    const model = new DashboardModel();
    if (saved?.version !== 1) return model;
    model.mode = saved.mode;
    for (const run of saved.runs) model.runs.set(run.meta.runId, RunModel.restore(run));
    model.focusedRunId = saved.focusedRunId;
    for (const surface of saved.surfaces) model.surfaces.set(surface.problem, surface);
    model.critical = saved.critical;
    for (const check of saved.checks) model.checks.set(check.file, check);
    model.lastResult = saved.lastResult;
    return model;
  }
}
