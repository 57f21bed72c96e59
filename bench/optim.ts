/**
 * GradLens optimizer benchmark (`npm run bench:optim`; `node out/bench/optim.js --quick` for a short run).
 *
 * Prints markdown tables to stdout (progress goes to stderr):
 *  (1) the step time of GradLens's Adam (`adam.step` from src/core/optim, torch's defaults, lr 1e-3)
 *      on 1,000,000 float64 parameters with a fixed gradient, against
 *      (a) a minimal hand-written fused Adam loop over Float64Arrays (the memory-bandwidth bound), and
 *      (b) @tensorflow/tfjs-core on its CPU backend, float32 (tfjs has no float64 on the CPU):
 *          tf.train.adam(...).applyGradients, and the same formula written with tf ops in tf.tidy.
 *      All implementations are first checked to produce the same parameters after a few steps.
 *  (2) the cost of telemetry in `train(...)`: Adam on a cheap O(n) problem, every step recorded
 *      (every = 1: norms and effective-rate summaries per step) against records thinned to the
 *      first and last step (every = steps), same steps; plus the telemetry functions timed alone.
 *
 * Repetitions alternate the order of the sides, the heap is collected before each timed block
 * (gc exposed at run time through v8.setFlagsFromString when node was not started with --expose-gc),
 * and medians and per-repetition ratios are reported. Nothing here is a timed assertion: targets
 * are reported, never judged by the exit code (only a numerical mismatch fails the run).
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Problem } from '../src/api';
import { type AnyOptimizer, findOptimizer, resolveHyperparameters } from '../src/core/optim';
import type { Hyperparameters, Closure, StepContext } from '../src/core/optim/optimizer';
import { SAMPLE_LIMIT, stepStatistics, summarize } from '../src/core/optim/telemetry';
import { type TrainResult, train } from '../src/core/optim/train';
import { scalarObjective } from '../src/core/definitions';
import { type ScalarDefinition, classifyExport } from '../src/core/problem';
import { findBuiltin } from '../src/core/problems';
import { parseBenchArgs } from './report';

const load = createRequire(__filename);

const N = 1_000_000;
const LR = 1e-3;
/** Steps before the comparison of final parameters. */
const VERIFY_STEPS = 5;
/**
 * float64 sides may differ in the last bits: GradLens writes m = β1·m + (1 − β1)·g (the documented form),
 * torch ≥ 2.0 and the fused loop lerp(m, g, 1 − β1). Parameters are of magnitude ≤ 1.01.
 */
const FLOAT64_TOLERANCE = 1e-12;
/** float32 rounding of parameters of magnitude ≤ 1 is ≤ 6e-8 per step; this leaves room for 5 steps and the float32 update. */
const FLOAT32_TOLERANCE = 1e-6;

interface Options {
  quick: boolean;
  reps: number;
}

function parseArgs(argv: string[]): Options {
  const { quick } = parseBenchArgs('bench:optim', argv, { quick: { value: false, help: 'two repetitions with fewer steps instead of five' } });
  return { quick, reps: quick ? 2 : 5 };
}

function progress(text: string): void {
  process.stderr.write(`[bench:optim] ${text}\n`);
}

/** A full collection before each timed block, so no side pays for another side's garbage (tfjs allocates ~56 MB per step). */
const collect: () => void = (() => {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return () => undefined;
  }
})();

// ---------------------------------------------------------------------------------------------
// Formatting (as bench/run.ts)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 1000) return Math.round(ms).toLocaleString('en-US');
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 0.1) return ms.toFixed(2);
  return ms.toFixed(4);
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 100) return ratio.toFixed(0);
  if (ratio >= 0.01) return ratio.toFixed(3);
  return ratio.toExponential(2);
}

function formatDiff(value: number): string {
  return value === 0 ? '0' : value.toExponential(2);
}

function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length), 3));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (align[column] === 'r' ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (align[column] === 'r' ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= max)) max = diff; // NaN propagates as a mismatch
  }
  return max;
}

const problems: string[] = [];

// ---------------------------------------------------------------------------------------------
// (1) One Adam step on 1,000,000 parameters

/** Starting parameters and the fixed gradient, float32-exact so that tfjs starts from the very same values. */
function startingPoint(n: number): { params: Float64Array; grad: Float64Array } {
  const params = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    params[i] = Math.fround(Math.sin(i));
    grad[i] = Math.fround(Math.cos(0.7 * i) * (1 + (i % 7)) / 4);
  }
  return { params, grad };
}

/** An implementation of one Adam step on the fixed gradient: `step()` advances, `read()` returns the parameters. */
interface Side {
  step(): void;
  read(): ArrayLike<number>;
  dispose(): void;
}

interface AdamSetup {
  optimizer: AnyOptimizer;
  hyper: Hyperparameters;
  beta1: number;
  beta2: number;
  eps: number;
}

function adamSetup(): AdamSetup {
  const choice = findOptimizer('adam');
  if (!choice) throw new Error('findOptimizer("adam") found nothing');
  const hyper = resolveHyperparameters(choice, { lr: LR });
  const [beta1, beta2] = hyper.betas as readonly number[];
  return { optimizer: choice.optimizer, hyper, beta1, beta2, eps: hyper.eps as number };
}

const NO_CLOSURE: Closure = {
  evaluate: () => Promise.reject(new Error('the benchmark gives Adam a fixed gradient, no closure')),
  hessianVectorProduct: () => Promise.reject(new Error('the benchmark gives Adam a fixed gradient, no closure')),
};

/** GradLens: `adam.step(context, state)`; with `effective`, the per-dimension effective rates are written too (as train() asks). */
function gradlensSide(setup: AdamSetup, withEffective: boolean): Side {
  const { params, grad } = startingPoint(N);
  const state = setup.optimizer.init(N, setup.hyper);
  const context: StepContext<Hyperparameters> = {
    params,
    grad,
    loss: 0,
    lr: setup.hyper.lr as number,
    hyper: setup.hyper,
    closure: NO_CLOSURE,
    effectiveLearningRate: withEffective ? new Float64Array(N) : null,
  };
  return {
    step() {
      const result = setup.optimizer.step(context, state);
      if (result instanceof Promise) throw new Error('adam.step returned a promise; the benchmark times synchronous steps');
    },
    read: () => params,
    dispose: () => undefined,
  };
}

/**
 * The bandwidth bound: torch's Adam (_single_tensor_adam, no weight decay, no AMSGrad) fused into
 * one loop. Reads p, g, m, v and writes p, m, v: 56 bytes per parameter per step.
 *   m = lerp(m, g, 1 − β1) = m + (1 − β1)(g − m)   (torch.lerp for weight < 0.5)
 *   v = β2 v + (1 − β2) g²
 *   p -= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 */
function fusedAdamStep(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number, beta1: number, beta2: number, eps: number): void {
  const stepSize = lr / (1 - beta1 ** t);
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
  const weight1 = 1 - beta1;
  const weight2 = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = m[i] + weight1 * (gi - m[i]);
    const vi = v[i] * beta2 + weight2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= stepSize * (mi / (Math.sqrt(vi) / biasCorrection2Sqrt + eps));
  }
}

function fusedSide(setup: AdamSetup): Side {
  const { params, grad } = startingPoint(N);
  const m = new Float64Array(N);
  const v = new Float64Array(N);
  let t = 0;
  return {
    step() {
      t += 1;
      fusedAdamStep(params, grad, m, v, t, LR, setup.beta1, setup.beta2, setup.eps);
    },
    read: () => params,
    dispose: () => undefined,
  };
}

type Tf = typeof TfCore;

/** tfjs-core + tfjs-backend-cpu, or why they could not be loaded. */
async function loadTf(): Promise<{ tf: Tf; versions: string } | { error: string }> {
  try {
    const tf = load('@tensorflow/tfjs-core') as Tf;
    const cpu = load('@tensorflow/tfjs-backend-cpu') as { version_cpu: string };
    if (!(await tf.setBackend('cpu'))) return { error: 'tf.setBackend("cpu") failed' };
    return { tf, versions: `@tensorflow/tfjs-core ${tf.version_core}, @tensorflow/tfjs-backend-cpu ${cpu.version_cpu}` };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

/** tfjs's own Adam: tf.train.adam(lr, β1, β2, ε).applyGradients on a float32 variable. */
function tfOptimizerSide(tf: Tf, setup: AdamSetup): Side {
  const start = startingPoint(N);
  const params = tf.variable(tf.tensor1d(Float32Array.from(start.params), 'float32'));
  const grad = tf.tensor1d(Float32Array.from(start.grad), 'float32');
  const optimizer = tf.train.adam(LR, setup.beta1, setup.beta2, setup.eps);
  const gradients = [{ name: params.name, tensor: grad }];
  return {
    step() {
      optimizer.applyGradients(gradients);
    },
    read: () => params.dataSync(),
    dispose() {
      optimizer.dispose();
      params.dispose();
      grad.dispose();
    },
  };
}

/** The torch formula in tf ops inside tf.tidy (scalars computed in JavaScript, as fusedAdamStep does). */
function tfFormulaSide(tf: Tf, setup: AdamSetup): Side {
  const start = startingPoint(N);
  const params = tf.variable(tf.tensor1d(Float32Array.from(start.params), 'float32'));
  const grad = tf.tensor1d(Float32Array.from(start.grad), 'float32');
  const m = tf.variable(tf.zeros([N], 'float32'));
  const v = tf.variable(tf.zeros([N], 'float32'));
  const { beta1, beta2, eps } = setup;
  let t = 0;
  return {
    step() {
      t += 1;
      const stepSize = LR / (1 - beta1 ** t);
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
      tf.tidy(() => {
        const m1 = tf.add(m, tf.mul(tf.sub(grad, m), 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        const denominator = tf.add(tf.div(tf.sqrt(v1), biasCorrection2Sqrt), eps);
        params.assign(tf.sub(params, tf.mul(tf.div(m1, denominator), stepSize)));
        m.assign(m1);
        v.assign(v1);
      });
    },
    read: () => params.dataSync(),
    dispose() {
      for (const tensor of [params, grad, m, v]) tensor.dispose();
    },
  };
}

interface Implementation {
  key: string;
  label: string;
  precision: 'float64' | 'float32';
  /** Bytes moved per parameter per step: reads of p, g, m, v and writes of p, m, v (and of the effective rate). */
  bytes: number;
  /** Steps per timed block (and per repetition). */
  steps: number;
  make: () => Side;
}

interface StepTimes {
  implementation: Implementation;
  /** ms per step, one entry per repetition (the mean over that repetition's block). */
  perRep: number[];
  /** Max |p − p_GradLens| after VERIFY_STEPS steps from the same start. */
  maxDiff: number;
}

async function benchStep(options: Options, out: string[]): Promise<void> {
  const setup = adamSetup();
  const tfLoaded = await loadTf();
  const fastSteps = options.quick ? 20 : 60;
  const tfSteps = options.quick ? 2 : 5;
  const implementations: Implementation[] = [
    { key: 'gradlens', label: 'GradLens adam.step', precision: 'float64', bytes: 56, steps: fastSteps, make: () => gradlensSide(setup, false) },
    { key: 'fused', label: 'hand-written fused loop', precision: 'float64', bytes: 56, steps: fastSteps, make: () => fusedSide(setup) },
    { key: 'gradlens-effective', label: 'GradLens adam.step + effective rates (as train() calls it)', precision: 'float64', bytes: 64, steps: fastSteps, make: () => gradlensSide(setup, true) },
  ];
  if ('tf' in tfLoaded) {
    const { tf } = tfLoaded;
    implementations.push(
      { key: 'tf-optimizer', label: 'tfjs tf.train.adam().applyGradients', precision: 'float32', bytes: 28, steps: tfSteps, make: () => tfOptimizerSide(tf, setup) },
      { key: 'tf-formula', label: 'tfjs torch formula in tf ops, tf.tidy', precision: 'float32', bytes: 28, steps: tfSteps, make: () => tfFormulaSide(tf, setup) },
    );
  }

  // Verification: the same parameters after VERIFY_STEPS steps from the same start.
  const reference = gradlensSide(setup, false);
  for (let step = 0; step < VERIFY_STEPS; step++) reference.step();
  const expected = Float64Array.from(reference.read());
  const results: StepTimes[] = [];
  for (const implementation of implementations) {
    const side = implementation.make();
    for (let step = 0; step < VERIFY_STEPS; step++) side.step();
    const maxDiff = maxAbsDiff(side.read(), expected);
    side.dispose();
    const tolerance = implementation.precision === 'float64' ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE;
    if (!(maxDiff <= tolerance)) problems.push(`(1) ${implementation.label}: max |Δp| ${maxDiff} after ${VERIFY_STEPS} steps exceeds ${tolerance}`);
    progress(`(1) verify ${implementation.label}: max |p − p_GradLens| = ${formatDiff(maxDiff)} after ${VERIFY_STEPS} steps`);
    results.push({ implementation, perRep: [], maxDiff });
  }

  // Timing: one long-lived state per implementation, a warm-up block, then interleaved blocks.
  const sides = new Map(implementations.map((implementation) => [implementation.key, implementation.make()]));
  for (const implementation of implementations) {
    const side = sides.get(implementation.key)!;
    for (let step = 0; step < Math.min(implementation.steps, 10); step++) side.step();
  }
  for (let rep = 0; rep < options.reps; rep++) {
    const order = rep % 2 === 0 ? results : [...results].reverse();
    for (const result of order) {
      const side = sides.get(result.implementation.key)!;
      collect();
      const started = performance.now();
      for (let step = 0; step < result.implementation.steps; step++) side.step();
      const perStep = (performance.now() - started) / result.implementation.steps;
      result.perRep.push(perStep);
      progress(`(1) rep ${rep + 1}/${options.reps} ${result.implementation.label}: ${formatMs(perStep)} ms/step`);
    }
  }
  for (const side of sides.values()) side.dispose();

  const byKey = (key: string) => results.find((result) => result.implementation.key === key);
  const gradlens = byKey('gradlens')!;
  const gradlensMedian = median(gradlens.perRep);
  out.push('## (1) One Adam step on 1,000,000 parameters');
  out.push('');
  out.push(`torch's Adam defaults (betas 0.9, 0.999; eps 1e-8; no weight decay, no AMSGrad), lr ${LR}, a fixed gradient; ` +
    'p, m, v persist across steps, so every step does the same work. ms per step: each repetition times a block of steps ' +
    `(${fastSteps} for the float64 loops, ${tfSteps} for tfjs) after a full heap collection; medians over ${options.reps} repetitions, order alternated. ` +
    `"max |Δp|" compares the parameters after ${VERIFY_STEPS} steps from the same float32-exact start with GradLens's ` +
    `(tolerance ${FLOAT64_TOLERANCE.toExponential(0)} for float64, ${FLOAT32_TOLERANCE.toExponential(0)} for float32; parameters are of magnitude ≤ 1.01). ` +
    '"GB/s" counts the minimum traffic of a step: read p, g, m, v and write p, m, v (and the effective rates), 8 bytes each in float64, 4 in float32 (tfjs\'s temporaries not counted). ' +
    'The fused loop uses torch\'s lerp(m, g, 1 − β1) for the first moment, GradLens the documented β1·m + (1 − β1)·g: they agree to the last bits, not bit for bit.');
  out.push('');
  if ('error' in tfLoaded) {
    out.push(`tfjs could not be loaded (${tfLoaded.error}): only (a), the fused loop, is measured.`);
  } else {
    out.push(`tfjs: ${tfLoaded.versions}, backend "${tfLoaded.tf.getBackend()}". The CPU backend has no float64 (its floatPrecision() is 32): ` +
      'tfjs runs on float32 tensors, half the bytes per element, and is compared to float32 precision. ' +
      'tfjs suggests @tensorflow/tfjs-node (native TensorFlow) for speed; that is a prebuilt binary and not measured here.');
  }
  out.push('');
  const rows: string[][] = results.map((result) => {
    const ms = median(result.perRep);
    const bandwidth = (result.implementation.bytes * N) / (ms / 1000) / 1e9;
    return [
      result.implementation.label,
      result.implementation.precision,
      formatMs(ms),
      formatRatio(ms / gradlensMedian),
      result.perRep.map((perStep, rep) => formatRatio(perStep / gradlens.perRep[rep])).join(', '),
      bandwidth.toFixed(1),
      formatDiff(result.maxDiff),
    ];
  });
  out.push(table(['implementation', 'dtype', 'ms / step', 'time / GradLens', 'per-rep time / GradLens', 'GB/s (minimum traffic)', `max |Δp| vs GradLens after ${VERIFY_STEPS} steps`], rows,
    ['l', 'l', 'r', 'r', 'l', 'r', 'r']));
  out.push('');
  const fused = byKey('fused')!;
  const fusedRatio = gradlensMedian / median(fused.perRep);
  out.push(`(a) GradLens / fused loop = ${formatRatio(fusedRatio)} (target ≤ 1.5: ${fusedRatio <= 1.5 ? 'met' : 'MISSED'}); ` +
    `per rep ${gradlens.perRep.map((perStep, rep) => formatRatio(perStep / fused.perRep[rep])).join(', ')}.`);
  for (const key of ['tf-optimizer', 'tf-formula']) {
    const tfResult = byKey(key);
    if (!tfResult) continue;
    const speedup = median(tfResult.perRep) / gradlensMedian;
    out.push(`(b) ${tfResult.implementation.label} / GradLens = ${formatRatio(speedup)}: GradLens is ${formatRatio(speedup)}x faster (target ≥ 5: ${speedup >= 5 ? 'met' : 'MISSED'}); ` +
      `per rep ${tfResult.perRep.map((perStep, rep) => formatRatio(perStep / gradlens.perRep[rep])).join(', ')}.`);
  }
  const effective = byKey('gradlens-effective')!;
  out.push(`Writing the effective rates (which train() asks of adaptive rules on the steps it records) costs ` +
    `${formatRatio(median(effective.perRep) / gradlensMedian)}x the plain step.`);
  out.push('');
}

// ---------------------------------------------------------------------------------------------
// (2) The cost of telemetry in train()

type SyntheticParams = { w: Float64Array; b: Float64Array };

/**
 * A cheap, convex, separable O(n) problem in two tensors (so per-tensor telemetry has two entries):
 *   f = ½ Σ a_i (x_i − t_i)²,  ∂f/∂x_i = a_i (x_i − t_i),  a_i = 1 + cos(i)/2,  t_i = sin(i),  x = 0 at the start.
 */
function synthetic(n: number): ScalarDefinition {
  const biasSize = Math.max(1, Math.round(n / 100));
  const weightSize = n - biasSize;
  const a = new Float64Array(n);
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = 1 + 0.5 * Math.cos(i);
    target[i] = Math.sin(i);
  }
  const problem: Problem<SyntheticParams> = {
    description: `½ Σ a_i (x_i − t_i)² over ${n} parameters`,
    params: { w: new Float64Array(weightSize), b: new Float64Array(biasSize) },
    f: ({ w, b }) => {
      let sum = 0;
      for (let i = 0; i < weightSize; i++) sum += a[i] * (w[i] - target[i]) ** 2;
      for (let j = 0; j < biasSize; j++) sum += a[weightSize + j] * (b[j] - target[weightSize + j]) ** 2;
      return 0.5 * sum;
    },
    grad: ({ w, b }) => {
      const gw = new Float64Array(weightSize);
      const gb = new Float64Array(biasSize);
      for (let i = 0; i < weightSize; i++) gw[i] = a[i] * (w[i] - target[i]);
      for (let j = 0; j < biasSize; j++) gb[j] = a[weightSize + j] * (b[j] - target[weightSize + j]);
      return { w: gw, b: gb };
    },
  };
  const definition = classifyExport(`synthetic(${n})`, problem);
  if (!definition || definition.kind !== 'scalar') throw new Error('the synthetic problem is not a scalar problem');
  return definition;
}

interface TelemetryRun {
  wallMs: number;
  result: TrainResult;
}

interface TelemetryCase {
  /** The problem as the table names it. */
  problem: string;
  n: number;
  steps: number;
  on: TelemetryRun[];
  off: TelemetryRun[];
  /** The telemetry functions alone, on this case's vectors, ms per recorded step. */
  parts: { label: string; ms: number }[];
}

async function timeTrain(definition: ScalarDefinition, setup: AdamSetup, steps: number, every: number): Promise<TelemetryRun> {
  const problem = scalarObjective(definition);
  collect();
  const started = performance.now();
  const result = await train(problem, 'adam', setup.optimizer, setup.hyper, { steps, every });
  const wallMs = performance.now() - started;
  if (result.stopped !== 'steps') problems.push(`(2) n=${definition.name}: train stopped (${result.stopped}${result.diverged ? `: ${result.diverged.message}` : ''})`);
  return { wallMs, result };
}

/** What one recorded step computes, function by function (the calls of train.ts), timed on real vectors. */
async function telemetryParts(definition: ScalarDefinition, setup: AdamSetup, reps: number): Promise<{ label: string; ms: number }[]> {
  const problem = scalarObjective(definition);
  const layout = problem.layout;
  const n = layout.size;
  // Realistic vectors: the effective rates and update of one Adam step at the start.
  const params = problem.initial.slice();
  const before = params.slice();
  const grad = await problem.gradient(params, null);
  const effective = new Float64Array(n);
  const state = setup.optimizer.init(n, setup.hyper);
  setup.optimizer.step({ params, grad, loss: 0, lr: LR, hyper: setup.hyper, closure: NO_CLOSURE, effectiveLearningRate: effective }, state);
  const velocity = setup.optimizer.velocity!(state);
  // As train() does: update, squares, exact ranges and Σv² in one pass, the overall range from the ranges per tensor.
  const ranges = stepStatistics(layout, before, params, grad, effective, velocity).effectiveRange;
  const overall: [number, number] = [Math.min(...ranges.map(([low]) => low)), Math.max(...ranges.map(([, high]) => high))];
  const parts: { label: string; run: () => unknown }[] = [
    { label: 'stepStatistics(before, after, grad, effective, exp_avg): squares, ranges, Σv²', run: () => stepStatistics(layout, before, params, grad, effective, velocity) },
    {
      label: 'summarize(effective) per tensor and overall, ranges known',
      run: () => layout.tensors.map((spec, t) => summarize(effective, spec.offset, spec.offset + spec.size, ranges[t])).concat(summarize(effective, 0, n, overall)),
    },
  ];
  const inner = n >= 1_000_000 ? 5 : 20;
  return parts.map(({ label, run }) => {
    const times: number[] = [];
    for (let rep = 0; rep < Math.max(3, reps); rep++) {
      const started = performance.now();
      for (let k = 0; k < inner; k++) run();
      times.push((performance.now() - started) / inner);
    }
    return { label, ms: median(times) };
  });
}

async function benchTelemetry(options: Options, out: string[]): Promise<void> {
  const setup = adamSetup();
  // The synthetic loss is the worst case for the O(n) part of a record (almost no work besides the telemetry);
  // Rosenbrock (n = 2, what the dashboard's contour plot shows) the worst case for its fixed part; regression and the MLP are real ones.
  const builtin = (name: string, settings: Record<string, number> = {}): ScalarDefinition => {
    const definition = classifyExport(name, findBuiltin(name)!.create(settings));
    if (!definition || definition.kind !== 'scalar') throw new Error(`the built-in ${name} is not a scalar problem`);
    return definition;
  };
  const plan: { problem: string; definition: () => ScalarDefinition; steps: number; parts: boolean }[] = [
    { problem: 'synthetic O(n)', definition: () => synthetic(100_000), steps: options.quick ? 50 : 100, parts: true },
    { problem: 'synthetic O(n)', definition: () => synthetic(1_000_000), steps: options.quick ? 8 : 15, parts: true },
    { problem: 'built-in rosenbrock', definition: () => builtin('rosenbrock'), steps: options.quick ? 3_000 : 7_000, parts: false },
    { problem: 'built-in linear-regression', definition: () => builtin('linear-regression'), steps: options.quick ? 500 : 1_500, parts: false },
    { problem: 'built-in mlp 2-64-64-3, spiral', definition: () => builtin('mlp', { hidden: 64 }), steps: options.quick ? 50 : 100, parts: false },
  ];
  // Many short on/off pairs rather than a few long runs: this shared machine drifts by ±20 % and more
  // within seconds, and the median of the pairs' own ratios follows a 10 % difference through that drift.
  const pairs = 3 * options.reps;
  const cases: TelemetryCase[] = [];
  for (const { problem, steps, parts, ...rest } of plan) {
    const definition = rest.definition();
    const n = scalarObjective(definition).layout.size;
    await timeTrain(definition, setup, Math.min(steps, 10), 1); // warm-up
    const entry: TelemetryCase = { problem, n, steps, on: [], off: [], parts: [] };
    for (let rep = 0; rep < pairs; rep++) {
      const order: ('on' | 'off')[] = rep % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const side of order) {
        const run = await timeTrain(definition, setup, steps, side === 'on' ? 1 : steps);
        entry[side].push(run);
        progress(`(2) n=${formatCount(n)} pair ${rep + 1}/${pairs} telemetry ${side}: ${formatMs(run.wallMs)} ms, ${run.result.steps.length} records`);
      }
    }
    const finals = [...entry.on, ...entry.off].map((run) => run.result.final.params);
    const diff = Math.max(...finals.map((params) => maxAbsDiff(params, finals[0])));
    if (diff !== 0) problems.push(`(2) ${problem} n=${n}: final parameters differ between runs by ${diff}`);
    if (parts) entry.parts = await telemetryParts(definition, setup, options.reps);
    cases.push(entry);
  }

  out.push('## (2) The cost of telemetry in train()');
  out.push('');
  out.push('train() of Adam (lr 1e-3, torch defaults) on a synthetic convex O(n) problem, ½ Σ a_i (x_i − t_i)² in two tensors ' +
    '(w: 99% of n, b: 1%), and on built-in problems at their defaults, full batch, through scalarObjective (the same calls and checks as the CLI). ' +
    '"on": every = 1, a record per step (norms per tensor, velocity norm, effective-rate summaries overall and per tensor). ' +
    '"off": every = steps, records for the first and the last step only (train always records step 1). Same steps, same computation: ' +
    `the final parameters of all runs are checked to be identical. ${pairs} on/off pairs per problem, the order alternated; ` +
    'wall ms of the whole train() call, medians; "on / off" is the median of the pairs\' own ratios.');
  out.push('');
  const rows: string[][] = cases.map((entry) => {
    const on = median(entry.on.map((run) => run.wallMs));
    const off = median(entry.off.map((run) => run.wallMs));
    const ratios = entry.on.map((run, pair) => run.wallMs / entry.off[pair].wallMs);
    const ratio = median(ratios);
    const records = entry.on[0].result.steps.length - entry.off[0].result.steps.length;
    return [
      entry.problem,
      formatCount(entry.n),
      formatCount(entry.steps),
      `${entry.on[0].result.steps.length} / ${entry.off[0].result.steps.length}`,
      formatMs(on),
      formatMs(off),
      formatRatio(ratio),
      `${formatRatio(Math.min(...ratios))} – ${formatRatio(Math.max(...ratios))}`,
      formatMs(off / entry.steps),
      formatMs(((ratio - 1) * off) / records),
      ratio <= 1.1 ? 'met' : 'MISSED',
    ];
  });
  out.push(table(['problem', 'n', 'steps', 'records on / off', 'on ms', 'off ms', 'on / off', 'pairs\' range', 'off ms / step', 'extra ms / record', 'target ≤ 1.10'], rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'l']));
  out.push('');
  out.push('Where a record\'s time goes: the telemetry functions of train.ts timed alone on the vectors of one Adam step ' +
    `(summarize: exact min/max over every element, a logarithmic histogram of at most ${formatCount(SAMPLE_LIMIT)} strided elements). ms per call, medians.`);
  out.push('');
  const partRows: string[][] = [];
  for (const entry of cases.filter((candidate) => candidate.parts.length > 0)) {
    const total = entry.parts.reduce((sum, part) => sum + part.ms, 0);
    for (const part of entry.parts) partRows.push([formatCount(entry.n), part.label, formatMs(part.ms), `${((100 * part.ms) / total).toFixed(0)}%`]);
    partRows.push([formatCount(entry.n), 'total per record', formatMs(total), '100%']);
  }
  out.push(table(['n', 'telemetry part', 'ms', 'share'], partRows, ['r', 'l', 'r', 'r']));
  out.push('');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const cpus = os.cpus();
  const out: string[] = [];
  out.push('# GradLens optimizer benchmark');
  out.push('');
  out.push(`node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `${options.reps} repetitions per measurement (median reported)${options.quick ? ', --quick' : ''}.`);
  out.push('');
  await benchStep(options, out);
  await benchTelemetry(options, out);
  out.push(`Total benchmark time: ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (problems.length > 0) {
    process.stderr.write(`bench:optim: unexpected results:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:optim: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
});
