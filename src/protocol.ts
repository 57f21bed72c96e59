/**
 * Typed messages between the processes of GradLens. Worker messages flow
 * from the sandboxed runner process to its parent (CLI or extension host).
 */
import type { CheckOptions, CheckResult } from './core/gradcheck';

export interface DiscoveredProblem {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  /** 1-based line of the export, or null when it cannot be told. */
  line: number | null;
}

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

export type ParentToWorker = CheckRequest;

export type WorkerToParent =
  | { type: 'loaded'; file: string; problems: DiscoveredProblem[] }
  | { type: 'loadError'; file: string; message: string }
  | { type: 'started'; name: string }
  | { type: 'progress'; name: string; done: number; total: number }
  | { type: 'result'; result: CheckResult }
  | { type: 'finished' }
  /** User code failed outside any check (an uncaught exception from a timer, say); the worker exits next. */
  | { type: 'fatal'; message: string };
