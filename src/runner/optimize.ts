/** Optimizer runs and critical-point analysis in the sandbox (the parent side). */
import type { CriticalPointReport } from '../core/analysis';
import type { ErrorReport } from '../core/errors';
import { ThinnedHistory } from '../core/history';
import type { StepRecord, TensorRates, TrainResult } from '../core/optim/train';
import type { Hyperparameters } from '../core/optim/optimizer';
import type { AnalyzeRequest, OptimizeRequest, ProblemSource, WorkerToParent } from '../protocol';
import { DEFAULT_LIMITS, type RunnerLimits, type SupervisionEvents, supervise } from './supervisor';

export type SurfaceMessage = Extract<WorkerToParent, { type: 'surface' }>;

export interface OptimizeEvents extends SupervisionEvents {
  onRecords?: (run: string, records: StepRecord[]) => void;
  onTrained?: (result: TrainResult) => void;
  onRunStarted?: (started: Extract<WorkerToParent, { type: 'runStarted' }>) => void;
  onPaused?: (run: string, step: number) => void;
  onResumed?: (run: string) => void;
  onHyperparametersChanged?: (run: string, step: number, values: Hyperparameters) => void;
  onSurface?: (surface: SurfaceMessage) => void;
  onRates?: (requestId: number, rates: TensorRates | null, error: string | null) => void;
  /**
   * Which records the results' `steps` keep: all (the default), none (the caller took them from
   * onRecords: a long run then holds no history), or an evenly thinned sample of at most this many.
   */
  keepRecords?: 'all' | 'none' | number;
}

export interface SandboxOutcome {
  /** Why the request ended early: the file did not load, the request was refused, or the process was stopped. */
  error: ErrorReport | null;
  /** The error was in loading or naming the problem: nothing ran. */
  nothingRan: boolean;
  cancelled: boolean;
}

function listOf<T>(): { add(item: T): void; items(): T[] } {
  const items: T[] = [];
  return { add: (item) => items.push(item), items: () => items };
}

export function describeSource(source: ProblemSource): string {
  return 'builtin' in source ? `builtin:${source.builtin}` : source.file;
}

async function request(
  message: OptimizeRequest | AnalyzeRequest,
  limits: RunnerLimits,
  events: OptimizeEvents,
  collect: { trained: TrainResult[]; analysis: CriticalPointReport | null },
): Promise<SandboxOutcome> {
  let refusal: ErrorReport | null = null;
  let loaded = 'builtin' in message.source;
  /** A step was taken: something ran, whatever stopped it. */
  let stepped = false;
  const keep = events.keepRecords ?? 'all';
  // The worker streams records and keeps none; what the results keep of them is gathered here.
  const kept = new Map<string, { add(record: StepRecord): void; items(): StepRecord[] }>();
  const keeper = (run: string) => {
    let records = kept.get(run);
    if (!records) {
      records = typeof keep === 'number' ? new ThinnedHistory<StepRecord>(keep) : listOf<StepRecord>();
      kept.set(run, records);
    }
    return records;
  };
  const outcome = await supervise(message, describeSource(message.source), limits, events, (reply) => {
    switch (reply.type) {
      case 'loaded':
        loaded = true;
        break;
      case 'loadError':
      case 'refused':
        refusal = reply.error;
        break;
      case 'records':
        stepped = true;
        events.onRecords?.(reply.run, reply.records);
        if (keep !== 'none') for (const record of reply.records) keeper(reply.run).add(record);
        break;
      case 'trained': {
        const result = { ...reply.result, steps: keep === 'none' ? [] : keeper(reply.result.optimizer).items() };
        kept.delete(reply.result.optimizer);
        collect.trained.push(result);
        events.onTrained?.(result);
        break;
      }
      case 'runStarted':
        events.onRunStarted?.(reply);
        break;
      case 'paused':
        events.onPaused?.(reply.run, reply.step);
        break;
      case 'resumed':
        events.onResumed?.(reply.run);
        break;
      case 'hyperparametersChanged':
        events.onHyperparametersChanged?.(reply.run, reply.step, reply.values);
        break;
      case 'surface':
        events.onSurface?.(reply);
        break;
      case 'rates':
        events.onRates?.(reply.requestId, reply.rates, reply.error);
        break;
      case 'analysis':
        collect.analysis = reply.report;
        break;
    }
  });
  const error = refusal ?? outcome.interrupted?.reason ?? null;
  return { error, nothingRan: error !== null && (!loaded || (!stepped && collect.trained.length === 0)), cancelled: outcome.cancelled };
}

export async function optimizeSource(
  message: Omit<OptimizeRequest, 'type' | 'timeoutMs' | 'memoryMb'>,
  limits: RunnerLimits = DEFAULT_LIMITS,
  events: OptimizeEvents = {},
): Promise<SandboxOutcome & { results: TrainResult[] }> {
  const collect = { trained: [] as TrainResult[], analysis: null };
  const outcome = await request({ ...message, type: 'optimize', timeoutMs: limits.timeoutSeconds * 1000, memoryMb: limits.memoryMb }, limits, events, collect);
  return { ...outcome, results: collect.trained };
}

export async function analyzeSource(
  message: Omit<AnalyzeRequest, 'type' | 'timeoutMs' | 'memoryMb'>,
  limits: RunnerLimits = DEFAULT_LIMITS,
  events: OptimizeEvents = {},
): Promise<SandboxOutcome & { report: CriticalPointReport | null; run: TrainResult | null }> {
  const collect: { trained: TrainResult[]; analysis: CriticalPointReport | null } = { trained: [], analysis: null };
  const outcome = await request({ ...message, type: 'analyze', timeoutMs: limits.timeoutSeconds * 1000, memoryMb: limits.memoryMb }, limits, events, collect);
  return { ...outcome, nothingRan: collect.analysis === null, report: collect.analysis, run: collect.trained[0] ?? null };
}
