/**
 * The optimization loop: batches (BGD, SGD, MBGD with seeded shuffling per
 * epoch), learning-rate schedules, one optimizer step per iteration, and a
 * telemetry record per step. Divergence (a non-finite loss, gradient or
 * parameter) stops the run and keeps the last finite state.
 */
import { Objective, hessianVectorProduct } from '../analysis';
import type { ScalarDefinition } from '../problem';
import { Random } from '../random';
import { fromPlain, toPlain } from './checkpoint';
import type { Layout, TensorSpec } from '../tensor';
import type { AnyOptimizer } from './index';
import type { Hyperparameters, StepResult } from './optimizer';
import { type ScheduleSpec, initialScheduleState, observeEpochLoss, scheduledLearningRate } from './schedules';
import { type StepStatistics, type Summary, stepStatistics, summarize } from './telemetry';

/** The problem as the loop sees it (flat vectors; `batch` null = full batch, f called without one). */
export interface TrainingProblem {
  readonly layout: Layout;
  /** Starting parameters (copied by the loop). */
  readonly initial: Float64Array;
  /** Number of samples when the problem has `data`, else null. */
  readonly dataSize: number | null;
  evaluate(params: Float64Array, batch: number[] | null): Promise<{ loss: number; grad: Float64Array }>;
  loss(params: Float64Array, batch: number[] | null): Promise<number>;
  hessianVectorProduct(params: Float64Array, vector: Float64Array): Promise<Float64Array>;
}

export interface TrainOptions {
  steps: number;
  /** Samples per step for problems with data; null = the full batch. */
  batchSize: number | null;
  seed: number;
  schedule: ScheduleSpec;
  /** Emit every k-th record (and the first and last); the computation is never thinned. */
  every: number;
  /** With mini-batches, also compute the full-batch loss every k steps (0: never). */
  fullLossEvery: number;
  /** Include the parameters in each record (trajectories; sensible for small problems). */
  recordParams: boolean;
  /** Stop once the full loss is at or below this value (null: run all steps). */
  tolerance: number | null;
  /** A tensor whose full per-dimension effective learning rates go into each record (summaries only otherwise). */
  detailTensor: string | null;
  /** Continue a saved run (TrainResult.checkpoint) up to `steps` steps in all. */
  resume?: Checkpoint;
  signal?: AbortSignal;
  onRecord?: (record: StepRecord) => void;
  /** Awaited before every step: pauses a live run, and hands over hyper-parameter changes made meanwhile. */
  gate?: StepGate;
}

/** Changes to a live run, in force from the next step. */
export interface StepChanges {
  /** New values (already validated against the optimizer). */
  hyperparameters?: Hyperparameters;
  /** Send this tensor's full effective learning rates from now on. */
  detailTensor?: string | null;
}

/**
 * Lets a live run be paused, stepped and retuned (the dashboard's controls).
 * `beforeStep` resolves when step `step` may run, with the changes made
 * meanwhile, or null.
 */
export interface StepGate {
  beforeStep(step: number): Promise<StepChanges | null>;
}

export const DEFAULT_TRAIN_OPTIONS: Readonly<TrainOptions> = Object.freeze({
  steps: 100,
  batchSize: null,
  seed: 0,
  schedule: { kind: 'constant' } as ScheduleSpec,
  every: 1,
  fullLossEvery: 0,
  recordParams: false,
  tolerance: null,
  detailTensor: null,
});

export interface StepRecord {
  /** 1-based optimizer step. */
  step: number;
  /** 0-based epoch (a full pass over the data; every step for full-batch problems). */
  epoch: number;
  lr: number;
  /** Loss of this step's batch at the parameters before the step (what torch's closure returns). */
  loss: number;
  /** Full-batch loss at the same parameters, when computed this step (always for full-batch runs). */
  fullLoss: number | null;
  gradNorm: number;
  updateNorm: number;
  /** ‖Δθ‖ / ‖θ‖, overall and per named tensor. */
  updateRatio: number;
  updateRatioByTensor: Record<string, number>;
  velocityNorm: number | null;
  /** Adaptive methods: the per-dimension effective learning rate this step, summarized overall and per tensor. */
  effectiveLr: Summary | null;
  effectiveLrByTensor: Record<string, Summary | null> | null;
  /** The full effective learning rates of `detailTensor`, row-major, when asked for. */
  effectiveLrDetail: number[] | null;
  /** With effectiveLrDetail: the same tensor's gradient this step and the rule's accumulator after it (Adam's v, Adagrad's sum, ...). */
  gradDetail: number[] | null;
  accumulatorDetail: number[] | null;
  /** Extra loss/gradient evaluations inside the step (line search, look-ahead, Hessian). */
  evaluations: number;
  /** L-BFGS: the line search's step length. */
  stepSize: number | null;
  warning: string | null;
  /** Parameters after the step, when recordParams. */
  params: number[] | null;
}

/** Everything needed to continue a run exactly, as JSON (see checkpoint.ts). */
export interface Checkpoint {
  step: number;
  params: number[];
  optimizerState: unknown;
  scheduleState: unknown;
  batcher: unknown;
  /** The current epoch's loss sum and batch count (reduce-on-plateau reads their mean). */
  epochLoss: [number, number];
}

export interface TrainResult {
  optimizer: string;
  hyperparameters: Hyperparameters;
  steps: StepRecord[];
  /** After the last step; when diverged, the last finite parameters (loss null if even that is not finite). */
  final: { params: number[]; loss: number | null; step: number };
  stopped: 'steps' | 'tolerance' | 'diverged' | 'cancelled';
  /** Step at which the full loss first reached the tolerance. */
  stepsToTolerance: number | null;
  diverged: { step: number; message: string } | null;
  seconds: number;
  /** Pause here and continue later with `resume` (the run is stopped at `final.step`). */
  checkpoint: Checkpoint;
}

/** Hands out batches: the full batch (null), or seeded shuffles cut into batches, epoch by epoch. */
class Batcher {
  private order: number[] = [];
  private position = 0;
  epoch = 0;
  private random: Random;

  constructor(
    private readonly dataSize: number | null,
    private readonly batchSize: number | null,
    seed: number,
  ) {
    this.random = new Random(seed);
  }

  save(): { order: number[]; position: number; epoch: number; random: number[] } {
    return { order: this.order.slice(), position: this.position, epoch: this.epoch, random: this.random.snapshot() };
  }

  restore(saved: { order: number[]; position: number; epoch: number; random: number[] }): void {
    this.order = saved.order.slice();
    this.position = saved.position;
    this.epoch = saved.epoch;
    this.random = new Random(saved.random);
  }

  get full(): boolean {
    return this.dataSize === null || this.batchSize === null || this.batchSize >= this.dataSize;
  }

  /** The next batch, and whether it ends an epoch. */
  next(): { batch: number[] | null; endsEpoch: boolean } {
    if (this.full) return { batch: null, endsEpoch: true };
    if (this.position === 0) this.order = this.random.shuffle(Array.from({ length: this.dataSize! }, (_, i) => i));
    const batch = this.order.slice(this.position, this.position + this.batchSize!);
    this.position += this.batchSize!;
    const endsEpoch = this.position >= this.dataSize!;
    if (endsEpoch) this.position = 0;
    return { batch, endsEpoch };
  }
}

/**
 * A step's record from its statistics. Plain loops rather than map/fromEntries/spread:
 * on small problems a record's fixed cost is of the order of the step's (bench/optim.ts).
 */
function makeRecord(
  layout: Layout,
  statistics: StepStatistics,
  step: Pick<StepRecord, 'step' | 'epoch' | 'lr' | 'loss' | 'fullLoss'> & { stepResult: StepResult },
  effective: Float64Array | null,
  detail: TensorSpec | null,
  accumulator: Float64Array | null,
  grad: Float64Array,
  params: Float64Array | null,
): StepRecord {
  const tensors = layout.tensors;
  let parameterSquares = 0;
  let updateSquares = 0;
  let gradSquares = 0;
  const updateRatioByTensor: Record<string, number> = {};
  for (let t = 0; t < tensors.length; t++) {
    parameterSquares += statistics.before[t];
    updateSquares += statistics.update[t];
    gradSquares += statistics.grad[t];
    updateRatioByTensor[tensors[t].name] = Math.sqrt(statistics.update[t]) / (Math.sqrt(statistics.before[t]) || 1);
  }
  const updateNorm = Math.sqrt(updateSquares);
  let effectiveLr: Summary | null = null;
  let effectiveLrByTensor: Record<string, Summary | null> | null = null;
  if (effective !== null) {
    // Per-tensor summaries reuse the exact ranges; the overall range follows from them
    // (an empty tensor's range is [Infinity, -Infinity], which changes neither end).
    const ranges = statistics.effectiveRange;
    let low = Infinity;
    let high = -Infinity;
    for (const [tensorLow, tensorHigh] of ranges) {
      if (tensorLow < low) low = tensorLow;
      if (tensorHigh > high) high = tensorHigh;
    }
    effectiveLr = summarize(effective, 0, effective.length, [low, high]);
    effectiveLrByTensor = {};
    for (let t = 0; t < tensors.length; t++) {
      const spec = tensors[t];
      // One tensor: its summary is the overall one.
      effectiveLrByTensor[spec.name] = tensors.length === 1 ? effectiveLr : summarize(effective, spec.offset, spec.offset + spec.size, ranges[t]);
    }
  }
  const detailOf = (vector: Float64Array | null) => (vector !== null && effective !== null && detail !== null ? Array.from(vector.subarray(detail.offset, detail.offset + detail.size)) : null);
  const { stepResult } = step;
  return {
    step: step.step,
    epoch: step.epoch,
    lr: step.lr,
    loss: step.loss,
    fullLoss: step.fullLoss,
    gradNorm: Math.sqrt(gradSquares),
    updateNorm,
    updateRatio: updateNorm / (Math.sqrt(parameterSquares) || 1),
    updateRatioByTensor,
    velocityNorm: statistics.velocity === null ? null : Math.sqrt(statistics.velocity),
    effectiveLr,
    effectiveLrByTensor,
    effectiveLrDetail: detailOf(effective),
    gradDetail: detailOf(grad),
    accumulatorDetail: detailOf(accumulator),
    evaluations: stepResult.evaluations,
    stepSize: stepResult.stepSize ?? null,
    warning: stepResult.warning ?? null,
    params: params === null ? null : Array.from(params),
  };
}

function allFinite(vector: Float64Array): boolean {
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i])) return false;
  return true;
}

export async function train(
  problem: TrainingProblem,
  optimizerName: string,
  optimizer: AnyOptimizer,
  initialHyper: Hyperparameters,
  partial: Partial<TrainOptions> = {},
): Promise<TrainResult> {
  let hyper = initialHyper;
  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...partial };
  const started = performance.now();
  const layout = problem.layout;
  const params = problem.initial.slice();
  const before = new Float64Array(params.length);
  const effective = optimizer.adaptive ? new Float64Array(params.length) : null;
  let state = optimizer.init(params.length, hyper);
  const batcher = new Batcher(problem.dataSize, options.batchSize, options.seed);
  if (optimizer.fullBatch && !batcher.full) {
    throw new RangeError(`${optimizerName} needs the full batch (its steps assume one fixed objective): drop --batch-size`);
  }
  const findTensor = (name: string | null) => {
    const found = name === null ? null : layout.tensors.find((spec) => spec.name === name);
    if (found === undefined) throw new RangeError(`no tensor ${name} (the parameters are ${layout.tensors.map((spec) => spec.name).join(', ')})`);
    return found;
  };
  let detail = findTensor(options.detailTensor);
  let scheduleState = initialScheduleState();
  let baseLr = hyper.lr as number;
  const records: StepRecord[] = [];
  let stopped: TrainResult['stopped'] = 'steps';
  let stepsToTolerance: number | null = null;
  let diverged: TrainResult['diverged'] = null;
  let epochLossSum = 0;
  let epochBatches = 0;
  let step = 0;
  if (options.resume) {
    const saved = options.resume;
    if (saved.params.length !== params.length) throw new RangeError(`the checkpoint has ${saved.params.length} parameters, the problem ${params.length}`);
    params.set(saved.params);
    state = fromPlain(saved.optimizerState as never) as typeof state;
    scheduleState = fromPlain(saved.scheduleState as never) as typeof scheduleState;
    batcher.restore(saved.batcher as never);
    [epochLossSum, epochBatches] = saved.epochLoss;
    step = saved.step;
  }
  while (step < options.steps) {
    if (options.signal?.aborted) {
      stopped = 'cancelled';
      break;
    }
    const changes = options.gate ? await options.gate.beforeStep(step + 1) : null;
    if (changes?.hyperparameters) {
      hyper = { ...hyper, ...changes.hyperparameters };
      baseLr = hyper.lr as number;
    }
    if (changes?.detailTensor !== undefined) detail = findTensor(changes.detailTensor);
    if (options.signal?.aborted) {
      stopped = 'cancelled';
      break;
    }
    const epoch = batcher.epoch;
    const lr = scheduledLearningRate(options.schedule, baseLr, epoch, scheduleState);
    const { batch, endsEpoch } = batcher.next();
    step += 1;
    const recorded = step === 1 || step === options.steps || step % options.every === 0;
    before.set(params);
    let loss: number;
    let grad: Float64Array;
    let stepResult;
    let statistics: StepStatistics | null;
    try {
      ({ loss, grad } = await problem.evaluate(params, batch));
      const objective = {
        evaluate: (at: Float64Array) => problem.evaluate(at, batch),
        hessianVectorProduct: (at: Float64Array, vector: Float64Array) => problem.hessianVectorProduct(at, vector),
      };
      stepResult = await optimizer.step({ params, grad, loss, lr, hyper, objective, effectiveLearningRate: recorded ? effective : null }, state);
      statistics = recorded ? stepStatistics(layout, before, params, grad, effective, optimizer.velocity?.(state) ?? null) : null;
      // A recorded step's finite Σ(Δθ)² already shows finite parameters (a non-finite θ makes its Δθ non-finite): one pass fewer.
      if (!(statistics?.update.every(Number.isFinite) ?? false) && !allFinite(params)) {
        throw new RangeError('the parameters became non-finite (the learning rate is too large for this problem?)');
      }
    } catch (error) {
      params.set(before);
      diverged = { step, message: error instanceof Error ? error.message : String(error) };
      stopped = 'diverged';
      break;
    }
    const fullLoss = batch === null
      ? loss
      : options.fullLossEvery > 0 && step % options.fullLossEvery === 0
        ? await problem.loss(before, null)
        : null;
    if (statistics) {
      const record = makeRecord(layout, statistics, { step, epoch, lr, loss, fullLoss, stepResult }, effective, detail, optimizer.accumulator?.(state) ?? null, grad, options.recordParams ? params : null);
      records.push(record);
      options.onRecord?.(record);
    }
    if (options.tolerance !== null && fullLoss !== null && fullLoss <= options.tolerance && stepsToTolerance === null) {
      stepsToTolerance = step - 1;
      stopped = 'tolerance';
      break;
    }
    epochLossSum += loss;
    epochBatches += 1;
    if (endsEpoch) {
      observeEpochLoss(options.schedule, baseLr, epochLossSum / epochBatches, scheduleState);
      epochLossSum = 0;
      epochBatches = 0;
      batcher.epoch += 1;
    }
  }
  const finalLoss = diverged ? await problem.loss(params, null).catch(() => null) : await problem.loss(params, null);
  return {
    optimizer: optimizerName,
    hyperparameters: hyper,
    steps: records,
    final: { params: Array.from(params), loss: finalLoss, step },
    stopped,
    stepsToTolerance,
    diverged,
    seconds: (performance.now() - started) / 1000,
    checkpoint: {
      step,
      params: Array.from(params),
      optimizerState: toPlain(state),
      scheduleState: toPlain(scheduleState),
      batcher: batcher.save(),
      epochLoss: [epochLossSum, epochBatches],
    },
  };
}

/** A scalar problem as the loop sees it: the same calls and checks as gradient checking and analysis. */
export function trainingProblem(problem: ScalarDefinition | Objective, start?: ArrayLike<number>): TrainingProblem {
  const objective = Objective.of(problem);
  const initial = objective.point(start);
  return {
    layout: objective.layout,
    initial,
    dataSize: objective.dataSize,
    evaluate: (params, batch) => objective.lossAndGradient(params, 'during the step', batch),
    loss: (params, batch) => objective.loss(params, 'at the final point', batch),
    hessianVectorProduct: (params, vector) => hessianVectorProduct(objective, params).apply(vector),
  };
}
