/**
 * The optimization loop: batches (BGD, SGD, MBGD with seeded shuffling per
 * epoch), learning-rate schedules, one optimizer step per iteration, and a
 * telemetry record per step. Divergence (a non-finite loss, gradient or
 * parameter, nothing else) stops the run and keeps the last finite state; so
 * does a failure of user code, reported as that error.
 */
import { hessianVectorProduct } from '../analysis';
import { type ErrorReport, InputError, type SourceLocation, reportFailure } from '../errors';
import { type Batch, type Objective, at, lossAndGradient, startingPoint } from '../objective';
import { Random } from '../random';
import { type Layout, type NamedShape, type NestedNumbers, NonFiniteError, type TensorSpec, flatValues, formatShape, namedShapes, namedValues } from '../tensor';
import { fromPlain, toPlain } from './checkpoint';
import type { AnyOptimizer } from './index';
import type { Hyperparameters, StepResult } from './optimizer';
import { type ScheduleSpec, initialScheduleState, observeEpochLoss, scheduledLearningRate } from './schedules';
import { type StepStatistics, type Summary, stepStatistics, summarize } from './telemetry';

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
  /**
   * Keep the records in the result's `steps` (false: only hand them to onRecord, so that a long run
   * holds no history: what streams its records elsewhere keeps its memory flat).
   */
  keepRecords: boolean;
  /** Stop once the full loss is at or below this value (null: run all steps). */
  tolerance: number | null;
  /** A tensor whose full per-dimension effective learning rates go into each record (summaries only otherwise). */
  detailTensor: string | null;
  /** Continue a saved run (TrainResult.checkpoint) up to `steps` steps in all. */
  resume?: Checkpoint;
  /** Start here instead of the problem's own params (flat, in layout order). */
  start?: ArrayLike<number> | null;
  signal?: AbortSignal;
  /** Where in the user's files an error of user code happened (the runner maps stacks). */
  locateError?: (error: unknown) => SourceLocation | null;
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
  /** Called once, before the first step, with a way to read any tensor's rates of the latest recorded step (a paused run too). */
  attach?(inspect: (tensor: string) => TensorRates): void;
}

/** One tensor's per-dimension effective learning rates at a recorded step, with its gradient and the rule's accumulator (row-major). */
export interface TensorRates {
  step: number;
  values: number[];
  grad: number[];
  /** After the latest step; null for rules without one. */
  accumulator: number[] | null;
}

export const DEFAULT_TRAIN_OPTIONS: Readonly<TrainOptions> = Object.freeze({
  steps: 100,
  batchSize: null,
  seed: 0,
  schedule: { kind: 'constant' } as ScheduleSpec,
  every: 1,
  fullLossEvery: 0,
  recordParams: false,
  keepRecords: true,
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
  /** A watched training script's runs (gradlens.watch): the learning rate of every parameter group (`lr` is group 0's). */
  lrByGroup?: number[];
  /** A watched script's own scalars of this step (watch.log(val_loss=...)). */
  scalars?: Record<string, number>;
}

/** Everything needed to continue a run exactly, as JSON (see checkpoint.ts). */
export interface Checkpoint {
  /** The run it continues: resuming with another optimizer or another problem is refused before any step. */
  problem: string;
  optimizer: string;
  hyperparameters: Hyperparameters;
  /** The problem's tensors, in layout order. */
  layout: NamedShape[];
  step: number;
  /** As the problem names them; a checkpoint written before the names were kept has them flat, in layout order. */
  params: Record<string, NestedNumbers> | number[];
  optimizerState: unknown;
  scheduleState: unknown;
  batcher: unknown;
  /** The current epoch's loss sum and batch count (reduce-on-plateau reads their mean). */
  epochLoss: [number, number];
}

export interface TrainResult {
  optimizer: string;
  /** The problem's tensors: `final.params` and records' params are flat in this order. */
  layout: NamedShape[];
  hyperparameters: Hyperparameters;
  /** The records (all of them, unless TrainOptions.keepRecords was false: then none). */
  steps: StepRecord[];
  /** After the last step; when diverged, the last finite parameters (loss null if even that is not finite). */
  final: { params: number[]; loss: number | null; step: number };
  stopped: 'steps' | 'tolerance' | 'diverged' | 'failed' | 'cancelled';
  /** Step at which the full loss first reached the tolerance. */
  stepsToTolerance: number | null;
  /** A non-finite loss, gradient or parameter. */
  diverged: { step: number; message: string } | null;
  /** User code failed (or GradLens did: an internal error) at `step`; the parameters before it are kept. */
  failure: { step: number; error: ErrorReport } | null;
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

function describeLayout(tensors: Checkpoint['layout']): string {
  return tensors.map((tensor) => `${tensor.name} ${formatShape(tensor.shape)}`).join(', ') || 'none';
}

/** The same keys, kinds and vector lengths as a fresh state: what a checkpoint of another rule or problem lacks. */
function sameStructure(saved: unknown, fresh: unknown): boolean {
  if (fresh instanceof Float64Array) return saved instanceof Float64Array && saved.length === fresh.length;
  if (Array.isArray(fresh)) return Array.isArray(saved);
  if (fresh !== null && typeof fresh === 'object') {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return false;
    const keys = Object.keys(fresh);
    return keys.length === Object.keys(saved).length && keys.every((key) => key in saved && sameStructure((saved as Record<string, unknown>)[key], (fresh as Record<string, unknown>)[key]));
  }
  // null marks state a rule fills in later (L-BFGS's previous direction, say).
  return saved === null || fresh === null || typeof saved === typeof fresh;
}

/** A checkpoint's parameters, flat in layout order (named ones are read by the checkpoint's own layout). */
function savedParams(saved: Checkpoint, layout: Layout): number[] {
  if (Array.isArray(saved.params)) return saved.params;
  try {
    return flatValues(saved.layout ?? namedShapes(layout), saved.params, 'the checkpoint\'s params');
  } catch (error) {
    throw new InputError(error instanceof Error ? error.message : String(error));
  }
}

/** Refuses a checkpoint of another optimizer or another problem, before any step. */
function checkResumable(saved: Checkpoint, problem: string, optimizerName: string, layout: Layout, freshState: object): object {
  const where = 'the checkpoint';
  if (saved.problem !== undefined && saved.problem !== problem) throw new InputError(`${where} is of a run on ${saved.problem}, not on ${problem}`);
  if (saved.optimizer !== undefined && saved.optimizer !== optimizerName) {
    throw new InputError(`${where} was saved by a ${saved.optimizer} run; resume it with ${saved.optimizer}, not ${optimizerName}`);
  }
  if (saved.layout !== undefined) {
    const mine = namedShapes(layout);
    if (describeLayout(saved.layout) !== describeLayout(mine)) {
      throw new InputError(`${where} is of a problem with parameters ${describeLayout(saved.layout)}; this one has ${describeLayout(mine)}`);
    }
  }
  const flat = savedParams(saved, layout);
  if (flat.length !== layout.size) throw new InputError(`${where} has ${flat.length} parameters, the problem ${layout.size}`);
  const state: unknown = fromPlain(saved.optimizerState as never);
  if (!sameStructure(state, freshState)) {
    throw new InputError(`${where}'s optimizer state does not fit ${optimizerName} on this problem (saved by another optimizer, or with other boolean options such as amsgrad?)`);
  }
  return state as object;
}

/** Runs `optimizer` on the objective; never throws for user errors during the steps (they end the run, reported in `failure`). */
export async function train(
  objective: Objective,
  optimizerName: string,
  optimizer: AnyOptimizer,
  initialHyper: Hyperparameters,
  partial: Partial<TrainOptions> = {},
): Promise<TrainResult> {
  let hyper = initialHyper;
  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...partial };
  const started = performance.now();
  const layout = objective.layout;
  const params = startingPoint(objective, options.start ?? undefined);
  const before = new Float64Array(params.length);
  const effective = optimizer.adaptive ? new Float64Array(params.length) : null;
  let state = optimizer.init(params.length, hyper);
  const batcher = new Batcher(objective.dataSize, options.batchSize, options.seed);
  if (optimizer.fullBatch && !batcher.full) {
    throw new InputError(`${optimizerName} needs the full batch (its steps assume one fixed objective): drop --batch-size`);
  }
  const findTensor = (name: string | null) => {
    const found = name === null ? null : layout.tensors.find((spec) => spec.name === name);
    if (found === undefined) throw new InputError(`no tensor ${name} (the parameters are ${layout.tensors.map((spec) => spec.name).join(', ')})`);
    return found;
  };
  let detail = findTensor(options.detailTensor);
  let scheduleState = initialScheduleState();
  let baseLr = hyper.lr as number;
  const records: StepRecord[] = [];
  let stopped: TrainResult['stopped'] = 'steps';
  let stepsToTolerance: number | null = null;
  let diverged: TrainResult['diverged'] = null;
  let failure: TrainResult['failure'] = null;
  let epochLossSum = 0;
  let epochBatches = 0;
  let step = 0;
  if (options.resume) {
    const saved = options.resume;
    state = checkResumable(saved, objective.name, optimizerName, layout, state) as typeof state;
    params.set(savedParams(saved, layout));
    scheduleState = fromPlain(saved.scheduleState as never) as typeof scheduleState;
    batcher.restore(saved.batcher as never);
    [epochLossSum, epochBatches] = saved.epochLoss;
    step = saved.step;
  }
  // The latest recorded step's gradient: the rates of any tensor can be read from it and `effective` on request.
  let recordedStep = 0;
  let recordedGrad: Float64Array | null = null;
  options.gate?.attach?.((name) => {
    const spec = findTensor(name)!;
    if (effective === null) throw new InputError(`${optimizerName} has no per-dimension effective learning rate`);
    if (recordedGrad === null) throw new InputError('no step has been recorded yet: step the run once to see the rates');
    const part = (vector: Float64Array) => Array.from(vector.subarray(spec.offset, spec.offset + spec.size));
    const accumulator = optimizer.accumulator?.(state) ?? null;
    return { step: recordedStep, values: part(effective), grad: part(recordedGrad), accumulator: accumulator && part(accumulator) };
  });
  const closure = (batch: Batch) => ({
    evaluate: (point: Float64Array) => at('during the step', () => lossAndGradient(objective, point, batch)),
    hessianVectorProduct: (point: Float64Array, vector: Float64Array) => hessianVectorProduct(objective, point).apply(vector),
  });
  /** Ends the run on an error: divergence or a failure; `rollback` keeps the parameters from before the step. */
  const fail = (error: unknown, rollback = true) => {
    if (rollback) params.set(before);
    if (error instanceof NonFiniteError) {
      diverged = { step, message: error.message };
      stopped = 'diverged';
    } else {
      failure = { step, error: reportFailure(error, 'optimize', options.locateError) };
      stopped = 'failed';
    }
  };
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
      const stepClosure = closure(batch);
      ({ loss, grad } = await stepClosure.evaluate(params));
      stepResult = await optimizer.step({ params, grad, loss, lr, hyper, closure: stepClosure, effectiveLearningRate: recorded ? effective : null }, state);
      statistics = recorded ? stepStatistics(layout, before, params, grad, effective, optimizer.velocity?.(state) ?? null) : null;
      // A recorded step's finite Σ(Δθ)² already shows finite parameters (a non-finite θ makes its Δθ non-finite): one pass fewer.
      if (!(statistics?.update.every(Number.isFinite) ?? false) && !allFinite(params)) {
        throw new NonFiniteError('the parameters became non-finite (the learning rate is too large for this problem?)');
      }
    } catch (error) {
      fail(error);
      break;
    }
    let fullLoss: number | null = batch === null ? loss : null;
    if (batch !== null && options.fullLossEvery > 0 && step % options.fullLossEvery === 0) {
      try {
        fullLoss = await at('on the full batch', () => objective.loss(before, null));
      } catch (error) {
        fail(error);
        break;
      }
    }
    if (statistics) {
      recordedStep = step;
      recordedGrad = grad;
      const record = makeRecord(layout, statistics, { step, epoch, lr, loss, fullLoss, stepResult }, effective, detail, optimizer.accumulator?.(state) ?? null, grad, options.recordParams ? params : null);
      if (options.keepRecords) records.push(record);
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
  let finalLoss: number | null = null;
  try {
    finalLoss = await at('at the final point', () => objective.loss(params, null));
  } catch (error) {
    // After a divergence or failure the loss there may not exist; after a clean run, its failure is the last step's.
    if (diverged === null && failure === null) fail(error, false);
  }
  return {
    optimizer: optimizerName,
    hyperparameters: hyper,
    steps: records,
    final: { params: Array.from(params), loss: finalLoss, step },
    stopped,
    stepsToTolerance,
    diverged,
    failure,
    seconds: (performance.now() - started) / 1000,
    layout: namedShapes(layout),
    checkpoint: {
      problem: objective.name,
      optimizer: optimizerName,
      hyperparameters: hyper,
      layout: namedShapes(layout),
      step,
      params: namedValues(namedShapes(layout), params),
      optimizerState: toPlain(state),
      scheduleState: toPlain(scheduleState),
      batcher: batcher.save(),
      epochLoss: [epochLossSum, epochBatches],
    },
  };
}
