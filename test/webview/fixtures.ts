/**
 * Recordings of the protocol made at test time by the real core: optimizer
 * runs with train() on the built-in problems, the loss surface of a 2-D
 * problem, a critical-point analysis and gradient checks of buggy problems.
 * No number in them is written by hand.
 */
import { analyzeCriticalPoint } from '../../src/core/analysis';
import { checkProblem } from '../../src/core/gradcheck';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import type { Hyperparameters } from '../../src/core/optim/optimizer';
import { type Checkpoint, type TrainOptions, train } from '../../src/core/optim/train';
import { scalarObjective } from '../../src/core/definitions';
import { namedValues } from '../../src/core/tensor';
import { type ScalarDefinition, classifyExport } from '../../src/core/problem';
import { findBuiltin } from '../../src/core/problems';
import type {
  CheckReport,
  CheckedProblem,
  CriticalPointMessage,
  HostToWebview,
  LossSurface,
  RunStarted,
  StepRecord,
} from '../../src/webview-protocol';

/** Records per `records` message, as the host's batching merges them. */
const BATCH = 50;

function builtinDefinition(name: string, options: Record<string, unknown> = {}): ScalarDefinition {
  const builtin = findBuiltin(name);
  if (!builtin) throw new Error(`no built-in problem ${name}`);
  return classifyExport(name, builtin.create(options)) as ScalarDefinition;
}

export interface RunSpec {
  runId: string;
  problem: string;
  problemOptions?: Record<string, unknown>;
  optimizer: string;
  hyperparameters: Hyperparameters;
  steps: number;
  compareGroup?: string | null;
  train?: Partial<TrainOptions>;
  /** Change hyper-parameters after this many steps (the run continues from a checkpoint with the new values). */
  change?: { afterStep: number; values: Hyperparameters };
}

export interface RecordedRun {
  started: RunStarted;
  /** runStarted, records batches, hyperparametersChanged, runEnded: in the order the host would send them. */
  messages: HostToWebview[];
  records: StepRecord[];
}

/** Runs train() and records what the host would send about it. */
export async function recordRun(spec: RunSpec): Promise<RecordedRun> {
  const definition = builtinDefinition(spec.problem, spec.problemOptions);
  const problem = scalarObjective(definition);
  const choice = findOptimizer(spec.optimizer)!;
  const builtin = findBuiltin(spec.problem)!;
  const twoDimensional = problem.layout.size === 2 && builtin.bounds !== undefined;
  const started: RunStarted = {
    type: 'runStarted',
    runId: spec.runId,
    problem: spec.problem,
    optimizer: spec.optimizer,
    hyperparameters: resolveHyperparameters(choice, spec.hyperparameters),
    tensors: problem.layout.tensors.map((tensor) => ({ name: tensor.name, shape: [...tensor.shape] })),
    twoDimensional,
    start: twoDimensional ? [problem.initial[0], problem.initial[1]] : null,
    adaptive: choice.optimizer.adaptive,
    detailTensor: spec.train?.detailTensor ?? null,
    steps: spec.steps,
    compareGroup: spec.compareGroup ?? null,
  };
  const messages: HostToWebview[] = [started];
  const records: StepRecord[] = [];
  let pending: { records: StepRecord[]; seconds: number[] } = { records: [], seconds: [] };
  const flush = () => {
    if (pending.records.length) messages.push({ type: 'records', runId: spec.runId, ...pending });
    pending = { records: [], seconds: [] };
  };
  const clock = performance.now();
  const options: Partial<TrainOptions> = {
    ...spec.train,
    recordParams: twoDimensional,
    onRecord: (record) => {
      records.push(record);
      pending.records.push(record);
      pending.seconds.push((performance.now() - clock) / 1000);
      if (pending.records.length === BATCH) flush();
    },
  };
  const segments: { steps: number; hyper: Hyperparameters }[] = spec.change
    ? [{ steps: spec.change.afterStep, hyper: started.hyperparameters }, { steps: spec.steps, hyper: resolveHyperparameters(choice, { ...spec.hyperparameters, ...spec.change.values }) }]
    : [{ steps: spec.steps, hyper: started.hyperparameters }];
  let checkpoint: Checkpoint | undefined;
  let result;
  for (const [k, segment] of segments.entries()) {
    if (k > 0) {
      flush();
      messages.push({ type: 'hyperparametersChanged', runId: spec.runId, step: checkpoint!.step + 1, values: spec.change!.values });
    }
    result = await train(problem, spec.optimizer, choice.optimizer, segment.hyper, { ...options, steps: segment.steps, resume: checkpoint });
    checkpoint = result.checkpoint;
  }
  flush();
  messages.push({
    type: 'runEnded',
    runId: spec.runId,
    stopped: result!.stopped,
    diverged: result!.diverged,
    failure: null,
    finalParams: namedValues(result!.layout, result!.final.params),
    finalLoss: result!.final.loss,
    finalStep: result!.final.step,
    seconds: (performance.now() - clock) / 1000,
  });
  return { started, messages, records };
}

/** The loss of a built-in 2-D problem on an n×n grid over its plot window. */
export function lossSurface(name: string, n = 121): LossSurface {
  const builtin = findBuiltin(name)!;
  const problem = builtin.create() as { f(p: { x: number[] }): number };
  const { x, y } = builtin.bounds!;
  const values: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) values.push(problem.f({ x: [x[0] + (i / (n - 1)) * (x[1] - x[0]), y[0] + (j / (n - 1)) * (y[1] - y[0])] }));
  }
  return { type: 'lossSurface', problem: name, x, y, nx: n, ny: n, values, minima: (builtin.minima ?? []).map(([a, b]) => [a, b]) };
}

/** The critical-point analysis of a built-in problem at a point (its start by default). */
export async function criticalPoint(name: string, runId: string | null, point?: number[]): Promise<CriticalPointMessage> {
  return { type: 'criticalPoint', runId, report: await analyzeCriticalPoint(builtinDefinition(name), point) };
}

/** The small spiral MLP with one gradient element's sign flipped: `W2[row,col]` is the wrong one. */
function mlpWithWrongElement(row: number, col: number): object {
  const problem = findBuiltin('mlp')!.create({ pointsPerClass: 8, hidden: 6 }) as unknown as { grad(p: unknown, batch?: number[]): Record<string, number[][]> };
  return {
    ...problem,
    grad: (p: unknown, batch?: number[]) => {
      const gradient = problem.grad(p, batch);
      gradient.W2[row][col] = -gradient.W2[row][col];
      return gradient;
    },
  };
}

/** ReLU as a layer, at inputs that include exact zeros (kinks). */
const RELU_LAYER = {
  inputs: { x: [[0.5, 0, -1.25], [0, 2, -0.5]] },
  forward: (inputs: { x: number[][] }) => inputs.x.map((row) => row.map((value) => Math.max(0, value))),
  backward: (inputs: { x: number[][] }, gradOutput: number[][]) => ({ x: inputs.x.map((row, i) => row.map((value, j) => (value > 0 ? gradOutput[i][j] : 0))) }),
};

/** A problem checked by the real engine, as the runner reports it; with every element's relative error when `elementErrors`. */
async function checked(file: string, name: string, problem: object, elementErrors: boolean): Promise<CheckedProblem> {
  const result = await checkProblem(classifyExport(name, problem)!, { elementErrors });
  return { ...result, error: result.error?.message ?? null, file, line: 1 };
}

export const WRONG_ELEMENT = { tensor: 'W2', row: 2, col: 3, name: 'W2[2,3]' } as const;

/** A check of three problems with per-element errors, and one of a file that only has the worst elements. */
export async function checkReports(): Promise<CheckReport[]> {
  const file = 'examples/dashboard-demo.grad.ts';
  const fallbackFile = 'examples/worst-only.grad.ts';
  return [
    {
      type: 'checkReport',
      file,
      loadError: null,
      problems: [
        await checked(file, 'mlp', findBuiltin('mlp')!.create({ pointsPerClass: 8, hidden: 6 }), true),
        await checked(file, 'mlpSignError', mlpWithWrongElement(WRONG_ELEMENT.row, WRONG_ELEMENT.col), true),
        await checked(file, 'reluAtZero', RELU_LAYER, true),
      ],
    },
    {
      type: 'checkReport',
      file: fallbackFile,
      loadError: null,
      problems: [await checked(fallbackFile, 'mlpSignError', mlpWithWrongElement(WRONG_ELEMENT.row, WRONG_ELEMENT.col), false)],
    },
  ];
}

/** Compare Optimizers on rosenbrock: the classic picture. */
export const COMPARE_RUNS: RunSpec[] = [
  { runId: 'cmp-sgd', problem: 'rosenbrock', optimizer: 'sgd', hyperparameters: { lr: 1e-3 }, steps: 600, compareGroup: 'compare-1' },
  { runId: 'cmp-momentum', problem: 'rosenbrock', optimizer: 'momentum', hyperparameters: { lr: 1e-3 }, steps: 600, compareGroup: 'compare-1' },
  { runId: 'cmp-adagrad', problem: 'rosenbrock', optimizer: 'adagrad', hyperparameters: { lr: 0.5 }, steps: 600, compareGroup: 'compare-1' },
  { runId: 'cmp-rmsprop', problem: 'rosenbrock', optimizer: 'rmsprop', hyperparameters: { lr: 1e-2 }, steps: 600, compareGroup: 'compare-1' },
  { runId: 'cmp-adam', problem: 'rosenbrock', optimizer: 'adam', hyperparameters: { lr: 5e-2 }, steps: 600, compareGroup: 'compare-1' },
];
