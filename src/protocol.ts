/**
 * Typed messages between the processes of GradLens. Worker messages flow
 * from the sandboxed runner process to its parent (CLI or extension host).
 */
import type { CriticalPointReport } from './core/analysis';
import type { ErrorReport } from './core/errors';
import type { CheckOptions, CheckResult, Evaluations } from './core/gradcheck';
import type { Hyperparameters } from './core/optim/optimizer';
import type { StepRecord, TensorRates, TrainOptions, TrainResult } from './core/optim/train';

export interface DiscoveredProblem {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  /** 1-based line of the export, or null when it cannot be told. */
  line: number | null;
  /** A scalar problem with `hvp`: its second-order check (gradgradcheck) can run. */
  secondOrder: boolean;
}

/** A problem file, or a built-in problem (`builtin:rosenbrock`) with its options. */
export type ProblemSource =
  /** `python`: the interpreter for a .py file (else $GRADLENS_PYTHON, else the default of runner/python/prestart.ts). */
  | { file: string; python?: string }
  | { builtin: string; options: Record<string, unknown> };

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
  /** The memory limit of a Python interpreter the request starts (the runner's own heap limit is set when it is started). */
  memoryMb: number;
  /** The interpreter of a .py file (else $GRADLENS_PYTHON, else the default of runner/python/prestart.ts). */
  python: string | null;
  /** Processes a costly full or sparse check may use in all (this one and its helpers); 1: this one only. */
  jobs: number;
  /** Under the editor's debugger: a Python file's interpreter waits for debugpy's client before importing it. */
  debug?: boolean;
}

export interface OptimizerRun {
  /** A label unique within the request: the optimizer or preset name. */
  name: string;
  hyperparameters: Hyperparameters;
}

/** Training options as they travel to the worker (the callbacks stay behind; the worker keeps no records: it streams them). */
export type RequestTrainOptions = Omit<TrainOptions, 'signal' | 'onRecord' | 'gate' | 'keepRecords' | 'locateError'>;

/** Parent → worker: step optimizers on one problem, then optionally analyze where they ended. */
export interface OptimizeRequest {
  type: 'optimize';
  source: ProblemSource;
  /** Export name; null: the file's only scalar problem. */
  problem: string | null;
  runs: OptimizerRun[];
  train: RequestTrainOptions;
  timeoutMs: number;
  /** The memory limit of a Python interpreter the request starts (the runner's own heap limit is set when it is started). */
  memoryMb: number;
  /** Start here instead of the problem's own params (flat, in layout order), e.g. a point clicked on the contour plot. */
  start?: number[] | null;
  /**
   * The dashboard's request: for 2-D problems, also send the loss on an n × n
   * grid (the contour plot); records then carry params only for 2-D problems
   * (trajectories), whatever train.recordParams says.
   */
  surface?: { resolution: number } | null;
}

/**
 * Parent → worker, during an optimize request (the dashboard's controls).
 * `step` runs one step of a paused run; `stop` ends the current run with
 * its result ('cancelled'), the rest of the request still runs.
 */
export type RunControlMessage =
  | { type: 'control'; action: 'pause' | 'resume' | 'step' | 'stop' }
  /** Applied before the next step; the worker confirms with 'hyperparametersChanged'. */
  | { type: 'setHyperparameters'; values: Hyperparameters }
  /**
   * Records carry this tensor's full effective learning rates from the next step on; with a
   * requestId, the worker also answers at once with the rates of the latest recorded step ('rates').
   */
  | { type: 'detail'; tensor: string | null; requestId: number | null };

/** Parent → worker: analyze the critical point at the start (or after `run`). */
export interface AnalyzeRequest {
  type: 'analyze';
  source: ProblemSource;
  problem: string | null;
  run: OptimizerRun | null;
  train: RequestTrainOptions;
  timeoutMs: number;
  memoryMb: number;
}

/**
 * Parent → a helper runner process of a check (--jobs): open problem `name` of `file` as the check
 * does (the same options), answer 'helperReady' with its value at the point, then 'evaluate' requests.
 */
export interface HelpRequest {
  type: 'help';
  file: string;
  name: string;
  options: Partial<CheckOptions>;
  /** The time limit for loading the file (the check's). */
  timeoutMs: number;
  /** When the check's time is up (ms since the epoch): the helper's limit ends there too. */
  deadline: number;
  memoryMb: number;
  python: string | null;
}

/** Messages of a check shared with helpers; `helper` numbers them within the check. */
export type HelperMessage =
  /** Parent → helper: the perturbed values of these elements (bulk.ts). */
  | { type: 'evaluate'; id: number; indices: number[] }
  /** Parent → check: helper `helper` is ready (its value at the point). */
  | { type: 'helperReady'; helper: number; center: number }
  /** Parent → check: the answer to request `id`. */
  | { type: 'helperValues'; helper: number; id: number; plus: number[]; minus: number[]; evaluations: Evaluations }
  /** Parent → check: request `id` failed, or (id null) the helper ended or never started; its other requests fail with it. */
  | { type: 'helperFailed'; helper: number; id: number | null; error: ErrorReport };

export type ParentToWorker = CheckRequest | OptimizeRequest | AnalyzeRequest | HelpRequest | RunControlMessage | HelperMessage;

/** What a running request receives besides its request: live-run controls, and a shared check's helper messages. */
export type LiveMessage = RunControlMessage | HelperMessage;

export type WorkerToParent =
  | { type: 'loaded'; file: string; problems: DiscoveredProblem[] }
  | { type: 'loadError'; file: string; error: ErrorReport }
  /** An activity (checking a problem, an optimizer run) begins: the time limit applies from here. */
  | { type: 'started'; name: string; activity: string }
  | { type: 'done'; name: string }
  | { type: 'progress'; name: string; done: number; total: number }
  | { type: 'result'; result: CheckResult }
  /** Telemetry records of a run, batched. */
  | { type: 'records'; run: string; records: StepRecord[] }
  | { type: 'trained'; result: TrainResult }
  /** A run begins: its tensors and its starting point (flat, in layout order). */
  | { type: 'runStarted'; run: string; tensors: { name: string; shape: number[] }[]; start: number[] }
  /** A run paused (no time limit while paused) or resumed. */
  | { type: 'paused'; run: string; step: number }
  | { type: 'resumed'; run: string }
  /** The answer to a 'detail' control with a requestId: the tensor's rates, or why there are none. */
  | { type: 'rates'; run: string; requestId: number; rates: TensorRates | null; error: string | null }
  /** New hyper-parameters in force from `step` on. */
  | { type: 'hyperparametersChanged'; run: string; step: number; values: Hyperparameters }
  /** The loss of a 2-D problem on a grid: values[j * resolution + i] = f(x_i, y_j). */
  | { type: 'surface'; x: [number, number]; y: [number, number]; resolution: number; values: number[]; minima: [number, number][] }
  | { type: 'analysis'; report: CriticalPointReport }
  /** The request cannot be carried out (unknown problem, bad option): nothing more will come. */
  | { type: 'refused'; error: ErrorReport }
  /** `exchanges`: round trips with an interpreter (Python problem files). */
  | { type: 'finished'; exchanges: number }
  /** User code failed outside any check (an uncaught exception from a timer, say); the worker exits next. */
  | { type: 'fatal'; error: ErrorReport }
  /** A check asks for `count` helper processes for problem `name` (a costly full or sparse check). */
  | { type: 'helpersWanted'; name: string; count: number }
  /** A check asks helper `helper` for perturbed values (the parent passes it on as 'evaluate'). */
  | { type: 'helperEvaluate'; helper: number; id: number; indices: number[] }
  /** A check is done with its helpers: they are ended. */
  | { type: 'helpersDone'; name: string }
  /** A helper's answers to its parent: ready, values, or a failed evaluation (an ErrorReport described as the check would). */
  | { type: 'ready'; center: number }
  | { type: 'values'; id: number; plus: number[]; minus: number[]; evaluations: Evaluations }
  | { type: 'evaluationFailed'; id: number; error: ErrorReport };
