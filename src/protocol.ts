/**
 * Typed messages between the processes of GradLens. Worker messages flow
 * from the sandboxed runner process to its parent (CLI or extension host).
 */
import type { CriticalPointReport } from './core/analysis';
import type { CheckOptions, CheckResult } from './core/gradcheck';
import type { Hyperparameters } from './core/optim/optimizer';
import type { StepRecord, TrainOptions, TrainResult } from './core/optim/train';

export interface DiscoveredProblem {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  /** 1-based line of the export, or null when it cannot be told. */
  line: number | null;
}

/** A problem file, or a built-in problem (`builtin:rosenbrock`) with its options. */
export type ProblemSource = { file: string } | { builtin: string; options: Record<string, unknown> };

/** Parent → worker: check these problems of one file. */
export interface CheckRequest {
  type: 'check';
  file: string;
  options: Partial<CheckOptions>;
  /** Only these problems (by export name); all when null. */
  only: string[] | null;
  /** Problems already reported by an earlier worker for this file (after a crash or time-out). */
  skip: string[];
  /** Per-problem time limit: the runner's watchdog locates a hang in user code when it is reached. */
  timeoutMs: number;
}

export interface OptimizerRun {
  /** A label unique within the request: the optimizer or preset name. */
  name: string;
  hyperparameters: Hyperparameters;
}

/** Parent → worker: step optimizers on one problem, then optionally analyze where they ended. */
export interface OptimizeRequest {
  type: 'optimize';
  source: ProblemSource;
  /** Export name; null: the file's only scalar problem. */
  problem: string | null;
  runs: OptimizerRun[];
  train: Omit<TrainOptions, 'signal' | 'onRecord'>;
  timeoutMs: number;
}

/** Parent → worker: analyze the critical point at the start (or after `run`). */
export interface AnalyzeRequest {
  type: 'analyze';
  source: ProblemSource;
  problem: string | null;
  run: OptimizerRun | null;
  train: Omit<TrainOptions, 'signal' | 'onRecord'>;
  timeoutMs: number;
}

export type ParentToWorker = CheckRequest | OptimizeRequest | AnalyzeRequest;

export type WorkerToParent =
  | { type: 'loaded'; file: string; problems: DiscoveredProblem[] }
  | { type: 'loadError'; file: string; message: string }
  /** An activity (checking a problem, an optimizer run) begins: the time limit applies from here. */
  | { type: 'started'; name: string; activity: string }
  | { type: 'done'; name: string }
  | { type: 'progress'; name: string; done: number; total: number }
  | { type: 'result'; result: CheckResult }
  /** Telemetry records of a run, batched. */
  | { type: 'records'; run: string; records: StepRecord[] }
  | { type: 'trained'; result: TrainResult }
  | { type: 'analysis'; report: CriticalPointReport }
  /** The request cannot be carried out (unknown problem, bad option): nothing more will come. */
  | { type: 'refused'; message: string }
  | { type: 'finished' }
  /** User code failed outside any check (an uncaught exception from a timer, say); the worker exits next. */
  | { type: 'fatal'; message: string };
