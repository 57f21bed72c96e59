/**
 * The gradient-check engine: central differences against analytic
 * gradients with PyTorch's allclose criterion |a-n| <= atol + rtol*|n|
 * (torch.autograd.gradcheck), plus the CS231n relative error
 * |a-n| / max(|a|,|n|). Modes: full (every element), sparse (k seeded random
 * elements) and fast (random projections, then group bisection to localize).
 */
import { type CheckHelpers, type Helper, HelperFailure, evaluateInOrder } from './bulk';
import { flatLayer, scalarObjective } from './definitions';
import { type ErrorReport, KnownFailure, type SourceLocation, UserFault, errorReport, reportFailure } from './errors';
import { type Evaluations, type FlatLayer, type Objective, PerturbedFailure, type PerturbedValues, type ShapeMismatch, UserCodeError, evaluationsSince, noEvaluations } from './objective';
import type { ProblemDefinition } from './problem';
import { Random } from './random';
import { type CheckTarget, layerSecondOrderTarget, layerTarget, scalarTarget, secondOrderTarget } from './targets';
import { type Layout, TensorError, describeElement, formatShape, locateElement, sameShape } from './tensor';

export type { Evaluations } from './objective';

export type CheckMode = 'full' | 'fast' | 'sparse';
export type CheckOrder = 1 | 2;
export type Verdict = 'pass' | 'fail' | 'kink' | 'nondeterministic' | 'error' | 'skipped';

export interface CheckOptions {
  mode: CheckMode;
  order: CheckOrder;
  /** Finite-difference step (absolute), as torch's `eps`. */
  eps: number;
  atol: number;
  rtol: number;
  seed: number;
  /** Elements checked in sparse mode. */
  samples: number;
  /** Random directions tried in fast mode. */
  projections: number;
  /** How many worst elements to report (and, in fast mode, to localize at most). */
  worst: number;
  /** Largest difference tolerated between two calls at the same point (torch's nondet_tol). */
  nondetTolerance: number;
  /** Kinks count as failures. */
  strict: boolean;
  /**
   * For problems with `data`: check f(p, batch) and grad(p, batch) on a
   * seeded mini-batch of this many samples instead of the full batch (null).
   * Order 2 always uses the full batch, since hvp takes no batch.
   */
  batchSize: number | null;
  /** Keep every checked element's relative error (the dashboard's heatmaps), for problems of at most ELEMENT_ERRORS_LIMIT elements. */
  elementErrors: boolean;
}

/** Most failing elements listed by name (a list of more says no more than its count). */
export const FAILED_ELEMENTS_LIMIT = 100_000;

/** Largest problem whose per-element errors are kept (a heatmap of more cells says no more). */
export const ELEMENT_ERRORS_LIMIT = 100_000;

/** One tensor's part of a check: `x 20/20 wrong, gamma 0/5` tells which formula to look at. */
export interface TensorCounts {
  name: string;
  size: number;
  checked: number;
  failed: number;
  kinks: number;
}

/** The relative error of every element of one tensor. */
export interface TensorRelativeErrors {
  name: string;
  shape: number[];
  /** Row-major; null for elements that were not checked one by one (sparse and fast modes). */
  relErrors: (number | null)[];
  /** Flat indices (within the tensor) of the elements at kinks. */
  kinks: number[];
}

export const DEFAULT_CHECK_OPTIONS: Readonly<CheckOptions> = Object.freeze({
  mode: 'full',
  order: 1,
  eps: 1e-6,
  atol: 1e-5,
  rtol: 1e-3,
  seed: 0,
  samples: 20,
  projections: 2,
  worst: 10,
  nondetTolerance: 0,
  strict: false,
  batchSize: null,
  elementErrors: false,
});

export interface CheckHooks {
  /** Called every few hundred elements; the caller throttles further. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Where in the user's files an error of user code happened; the runner maps stacks to them. */
  locateError?: (error: unknown) => SourceLocation | null;
  /** Other processes that can share a costly full or sparse check (the runner's --jobs). */
  helpers?: CheckHelpers;
  /** The time limit of this check, from its start: a full or sparse check that cannot fit ends early with the cheaper modes' costs. */
  timeLimitSeconds?: number;
}

export interface ElementReport {
  param: string;
  index: number[];
  /** `W[2,3]` */
  element: string;
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
  passed: boolean;
  /** A non-differentiable point: one-sided differences disagree and the analytic value lies between them. */
  kink: boolean;
  /** Passed with a gradient of about 0 (both values within atol): its relError means nothing (CheckResult.zeroGradients). */
  zeroGradient?: boolean;
  /**
   * Layers: the output components whose Jacobian entry for this input element disagrees, worst first
   * (explained for the worst few failing elements of outputs of at most JACOBIAN_ROWS_LIMIT components).
   */
  outputs?: OutputDisagreement[];
}

/** One entry of a wrong Jacobian column: d out[j] / d input[i], analytic (the backward's) and numeric. */
export interface OutputDisagreement {
  /** `out[1,2]`, in the output's shape. */
  element: string;
  analytic: number;
  numeric: number;
}

/** Outputs this large or smaller get their wrong Jacobian entries named: one backward call per output component. */
export const JACOBIAN_ROWS_LIMIT = 256;
/** How many failing elements get their column explained, and how many output components each lists. */
const COLUMNS_EXPLAINED = 3;
const OUTPUTS_LISTED = 5;

export interface ProjectionReport {
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
  passed: boolean;
}

export interface CheckResult {
  name: string;
  kind: 'scalar' | 'layer';
  order: CheckOrder;
  mode: CheckMode;
  verdict: Verdict;
  passed: boolean;
  maxAbsError: number;
  maxRelError: number;
  evaluations: Evaluations;
  /** Number of parameters (or inputs) and how many were checked one by one. */
  size: number;
  checked: number;
  failed: number;
  kinks: number;
  worst: ElementReport[];
  /** Every element that failed (kinks included), by name in index order; at most FAILED_ELEMENTS_LIMIT. */
  failedElements: string[];
  /** Per tensor: how many of its elements were checked one by one, and failed (kinks included). */
  tensors: TensorCounts[];
  /**
   * Passing elements whose gradient is about 0 (|analytic| and |numeric| ≤ atol): their relative error
   * says nothing (1e-12 against 3e-11 is "rel 0.97"), so they are judged, and counted out of
   * maxRelError, by their absolute error alone.
   */
  zeroGradients: number;
  /** Fast mode: the random-direction checks. */
  projections: ProjectionReport[];
  /** The mini-batch f and grad were checked on (sample indices), or null for the full batch. */
  batch: number[] | null;
  error: ErrorReport | null;
  /** Per tensor, every element's relative error, when asked for (CheckOptions.elementErrors) and small enough; else null. */
  elementErrors: TensorRelativeErrors[] | null;
  /** A short remark for the reader (why skipped, why a fast check failed without a single culprit). */
  note: string | null;
  /** What the reader should know about the check itself (PyTorch: a float32 tensor checked in float64). */
  warnings: string[];
  seconds: number;
}

export function relativeError(analytic: number, numeric: number): number {
  const absError = Math.abs(analytic - numeric);
  return absError === 0 ? 0 : absError / Math.max(Math.abs(analytic), Math.abs(numeric));
}

export function allclose(analytic: number, numeric: number, atol: number, rtol: number): boolean {
  return Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric);
}

/** A direction is suspicious when its error exceeds this many times the difference's own error estimate. */
const SCREEN_FACTOR = 10;
/** Rounding error of a loss value, in units of machine epsilon times its magnitude (sums of many terms lose more). */
const ROUNDING_FACTOR = 64;

export class CheckCancelled extends Error {
  override name = 'CheckCancelled';
}

interface Candidate {
  flat: number;
  severity: number;
  report: ElementReport;
}

/** Accumulates per-element comparisons, keeping only the worst few. */
class Recorder {
  maxAbsError = 0;
  maxRelError = 0;
  checked = 0;
  failed = 0;
  kinks = 0;
  zeroGradients = 0;
  /** Per tensor of the layout: checked, failed, kinks. */
  private readonly counts: Int32Array;
  /** Where each tensor starts, for finding an element's tensor. */
  private readonly offsets: number[];
  private readonly worst: Candidate[] = [];
  /** Relative error per flat element (NaN: not checked one by one), when kept. */
  private readonly errors: Float64Array | null;
  private readonly kinkElements: number[] = [];
  /** Flat indices of the failing elements (kinks included), in the order checked. */
  private readonly failures: number[] = [];

  constructor(
    private readonly layout: Layout,
    private readonly options: CheckOptions,
  ) {
    this.errors = options.elementErrors && layout.size <= ELEMENT_ERRORS_LIMIT ? new Float64Array(layout.size).fill(NaN) : null;
    this.counts = new Int32Array(3 * layout.tensors.length);
    this.offsets = layout.tensors.map((tensor) => tensor.offset);
  }

  /** The index of the tensor holding element `flat` (binary search over the offsets). */
  private tensorOf(flat: number): number {
    let low = 0;
    let high = this.offsets.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.offsets[middle] <= flat) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  tensorCounts(): TensorCounts[] {
    return this.layout.tensors.map((tensor, t) => ({ name: tensor.name, size: tensor.size, checked: this.counts[3 * t], failed: this.counts[3 * t + 1], kinks: this.counts[3 * t + 2] }));
  }

  elementErrors(): TensorRelativeErrors[] | null {
    const errors = this.errors;
    if (!errors) return null;
    return this.layout.tensors.map((spec) => ({
      name: spec.name,
      shape: [...spec.shape],
      relErrors: Array.from(errors.subarray(spec.offset, spec.offset + spec.size), (value) => (Number.isNaN(value) ? null : value)),
      kinks: this.kinkElements.filter((flat) => flat >= spec.offset && flat < spec.offset + spec.size).map((flat) => flat - spec.offset),
    }));
  }

  private note(absError: number, relError: number): void {
    if (absError > this.maxAbsError) this.maxAbsError = absError;
    if (relError > this.maxRelError) this.maxRelError = relError;
  }

  /** Central difference at element `flat` from f(x+h), f(x-h) and f(x); returns whether it passed. */
  element(flat: number, analytic: number, plus: number, minus: number, center: number): boolean {
    const { eps, atol, rtol } = this.options;
    const numeric = (plus - minus) / (2 * eps);
    const absError = Math.abs(analytic - numeric);
    const relError = relativeError(analytic, numeric);
    const tolerance = atol + rtol * Math.abs(numeric);
    const passed = absError <= tolerance;
    const tensor = 3 * this.tensorOf(flat);
    this.checked++;
    this.counts[tensor]++;
    const zeroGradient = passed && Math.max(Math.abs(analytic), Math.abs(numeric)) <= atol;
    if (zeroGradient) this.zeroGradients++;
    this.note(absError, zeroGradient ? 0 : relError);
    if (this.errors) this.errors[flat] = zeroGradient ? 0 : relError;
    let kink = false;
    if (!passed) {
      this.failed++;
      this.counts[tensor + 1]++;
      if (this.failures.length < FAILED_ELEMENTS_LIMIT) this.failures.push(flat);
      const forward = (plus - center) / eps;
      const backward = (center - minus) / eps;
      const kinkTolerance = atol + rtol * Math.max(Math.abs(forward), Math.abs(backward));
      kink = Math.abs(forward - backward) > kinkTolerance &&
        analytic >= Math.min(forward, backward) - kinkTolerance &&
        analytic <= Math.max(forward, backward) + kinkTolerance;
      if (kink) {
        this.kinks++;
        this.counts[tensor + 2]++;
        if (this.errors) this.kinkElements.push(flat);
      }
    }
    const severity = absError / tolerance;
    const worst = this.worst;
    if (worst.length < this.options.worst || severity > worst[worst.length - 1].severity) {
      const { tensor, index } = locateElement(this.layout, flat);
      const report: ElementReport = {
        param: tensor.name,
        index,
        element: describeElement(this.layout, flat),
        analytic,
        numeric,
        absError,
        relError,
        passed,
        kink,
        ...(zeroGradient ? { zeroGradient } : {}),
      };
      let position = worst.length;
      while (position > 0 && worst[position - 1].severity < severity) position--;
      worst.splice(position, 0, { flat, severity, report });
      if (worst.length > this.options.worst) worst.pop();
    }
    return passed;
  }

  projection(analytic: number, numeric: number): ProjectionReport {
    const absError = Math.abs(analytic - numeric);
    const relError = relativeError(analytic, numeric);
    this.note(absError, relError);
    return { analytic, numeric, absError, relError, passed: allclose(analytic, numeric, this.options.atol, this.options.rtol) };
  }

  /** Every failing element by name (at most FAILED_ELEMENTS_LIMIT), in index order. */
  failedElements(): string[] {
    return this.failures.slice().sort((a, b) => a - b).map((flat) => describeElement(this.layout, flat));
  }

  worstReports(): ElementReport[] {
    return this.worst.map((candidate) => candidate.report);
  }
}

/** Runs one check on a target; throws user and validation errors with the place they happened in their message. */
class Engine {
  readonly recorder: Recorder;
  readonly projections: ProjectionReport[] = [];
  note: string | null = null;
  /** The element that was moved when an evaluation failed (`x[1]`), for the error report. */
  failedElement: string | null = null;
  /** Evaluations made by helper processes. */
  readonly helperEvaluations: Evaluations = noEvaluations();
  /** The mode the check ran in: full where fast mode could cost more (fullIsCheaper). */
  mode: CheckMode;
  private readonly started = performance.now();
  /** A helper's value at the point, when it differed from this process's. */
  private elsewhere: number | null = null;
  /** The point being evaluated, for error messages: a phrase, or an element moved by ±eps (formatted only on error). */
  private where = 'at the unperturbed point';
  private readonly base: Float64Array;
  /** A copy of the point that directional differences move (the base itself is never written). */
  private readonly moved: Float64Array;
  private readonly size: number;

  constructor(
    private readonly target: CheckTarget,
    private readonly options: CheckOptions,
    private readonly hooks: CheckHooks,
  ) {
    this.recorder = new Recorder(target.layout, options);
    this.base = target.point;
    this.moved = target.point.slice();
    this.size = target.layout.size;
    this.mode = options.mode === 'fast' && fullIsCheaper(this.size, options.projections) ? 'full' : options.mode;
    if (this.mode !== options.mode) {
      this.note = `checked in full mode: ${2 * this.size + 2} evaluations for ${this.size} elements, no more than fast mode would need to find one wrong element (${fastEvaluations(this.size, options.projections).oneWrong})`;
    }
  }

  /** Adds where it happened to errors about user code: a phrase, or the element moved by ±eps. */
  private fail(error: unknown, element = -1, delta = 0): never {
    if (error instanceof UserCodeError || error instanceof TensorError) {
      let where = this.where;
      if (element >= 0) {
        this.failedElement = describeElement(this.target.layout, element);
        where = `with ${this.failedElement} ${delta > 0 ? '+' : '-'} ${Math.abs(delta)}`;
      }
      error.message = `${error.message} ${where}`;
    }
    throw error;
  }

  private async value(x: Float64Array): Promise<number> {
    try {
      const result = this.target.value(x);
      return typeof result === 'number' ? result : await result;
    } catch (error) {
      this.fail(error);
    }
  }

  private async gradient(): Promise<Float64Array> {
    try {
      return await this.target.gradient(this.base);
    } catch (error) {
      this.fail(error);
    }
  }

  /** f(x ± eps·e_i) for each i of `indices`, in one call of the target. */
  private async perturbed(indices: Int32Array): Promise<PerturbedValues> {
    try {
      return await this.target.perturbedValues(this.base, indices, this.options.eps);
    } catch (error) {
      if (error instanceof PerturbedFailure) this.fail(error.error, error.flat, error.delta);
      this.fail(error);
    }
  }

  private tick(done: number, total: number): void {
    if (this.hooks.signal?.aborted) throw new CheckCancelled('check cancelled');
    this.hooks.onProgress?.(done, total);
  }

  async run(): Promise<void> {
    const { mode } = this;
    const center = await this.value(this.base);
    const analytic = await this.gradient();
    if (mode === 'fast') await this.fast(center, analytic);
    else await this.bulk(mode === 'sparse' ? new Random(this.options.seed).sample(this.size, this.options.samples) : null, analytic, center);
    this.where = 'when called again at the unperturbed point';
    const centerAgain = await this.value(this.base);
    const analyticAgain = await this.gradient();
    this.checkDeterminism(center, centerAgain, analytic, analyticAgain);
    if (this.elsewhere !== null) {
      throw new Nondeterminism(`${this.target.valueLabel} returned ${center} in this process and ${this.elsewhere} in another runner process at the same point`);
    }
  }

  /** The value at the point: a helper's first evaluation (helperSide). */
  pointValue(): Promise<number> {
    return this.value(this.base);
  }

  /** Perturbed values, failures described as a check describes them: a helper's part (helperSide). */
  perturbedValues(indices: Int32Array): Promise<PerturbedValues> {
    return this.perturbed(indices);
  }

  /**
   * Full and sparse mode: the central differences of every chosen element, through bulk
   * evaluations of the target (bulk.ts: chunks, shared with helper processes when that pays),
   * recorded in order, with progress and cancellation between chunks.
   */
  private async bulk(indices: number[] | null, analytic: Float64Array, center: number): Promise<void> {
    const all = Int32Array.from(indices ?? { length: this.size }, (value, k) => (indices ? value : k));
    const total = all.length;
    await evaluateInOrder({
      indices: all,
      evaluate: (part) => this.perturbed(part),
      record: (part, values, done) => {
        for (let k = 0; k < part.length; k++) this.recorder.element(part[k], analytic[part[k]], values.plus[k], values.minus[k], center);
        this.tick(done, total);
      },
      helpers: this.hooks.helpers,
      budget: this.hooks.timeLimitSeconds === undefined ? undefined : {
        deadline: this.started + this.hooks.timeLimitSeconds * 1000,
        tooCostly: (estimated, perElement) => this.tooCostly(total, estimated, perElement),
      },
      admit: (helper) => {
        if (Math.abs(helper.center - center) <= this.options.nondetTolerance) return true;
        this.elsewhere ??= helper.center;
        return false;
      },
      helped: (evaluations) => {
        for (const key of Object.keys(evaluations) as (keyof Evaluations)[]) this.helperEvaluations[key] += evaluations[key];
      },
    });
    if (total === 0) this.tick(0, 0);
  }

  /** Why a full or sparse check of `total` elements ends before it starts: the time it would take, and what the cheaper modes cost. */
  private tooCostly(total: number, estimatedSeconds: number, secondsPerElement: number): TooCostly {
    const limit = this.hooks.timeLimitSeconds!;
    const processes = this.hooks.helpers?.processes ?? 1;
    const perEvaluation = secondsPerElement / 2;
    const fast = fastEvaluations(this.size, this.options.projections);
    const samples = Math.min(this.options.samples, this.size);
    const over = processes > 1 ? `over the ${limit} s time limit even shared by ${processes} processes` : `over the ${limit} s time limit`;
    const cheaper = [
      ...(this.mode === 'sparse' ? [] : [`sparse mode checks ${samples} samples in ${2 * samples + 4} evaluations (≈${secondsText(perEvaluation * (2 * samples + 4))})`]),
      `fast mode needs ${fast.passing} evaluations (≈${secondsText(perEvaluation * fast.passing)}; about ${fast.oneWrong} to find one wrong element)`,
    ];
    return new TooCostly(
      `too costly for ${this.mode} mode: ${total} elements at ${secondsText(secondsPerElement)} each (2 evaluations) would take about ${secondsText(estimatedSeconds)}, ${over}; ${cheaper.join(', ')}`,
    );
  }

  /** One element by central differences. */
  private async element(flat: number, analytic: number, center: number): Promise<boolean> {
    const values = await this.perturbed(Int32Array.of(flat));
    return this.recorder.element(flat, analytic, values.plus[0], values.minus[0], center);
  }

  /**
   * Directional difference along `direction` restricted to [start, end) and
   * renormalized there: (f(x+s·h·u) - f(x-s·h·u)) / (2·s·h) for each step
   * multiple s, and u·grad.
   */
  private async directional(direction: Float64Array, start: number, end: number, analytic: Float64Array, steps: readonly number[]) {
    let norm = 0;
    for (let i = start; i < end; i++) norm += direction[i] * direction[i];
    norm = Math.sqrt(norm);
    let projected = 0;
    for (let i = start; i < end; i++) projected += (analytic[i] * direction[i]) / norm;
    const moved = this.moved;
    const numeric: number[] = [];
    let magnitude = 0;
    this.where = 'along a random direction';
    for (const step of steps) {
      const h = this.options.eps * step;
      for (let i = start; i < end; i++) moved[i] = this.base[i] + (h * direction[i]) / norm;
      const plus = await this.value(moved);
      for (let i = start; i < end; i++) moved[i] = this.base[i] - (h * direction[i]) / norm;
      const minus = await this.value(moved);
      numeric.push((plus - minus) / (2 * h));
      magnitude = Math.max(magnitude, Math.abs(plus) + Math.abs(minus));
    }
    moved.set(this.base.subarray(start, end), start);
    return { analytic: projected, numeric, magnitude };
  }
  private async group(direction: Float64Array, start: number, end: number, analytic: Float64Array) {
    const { analytic: projected, numeric } = await this.directional(direction, start, end, analytic, [1]);
    return this.recorder.projection(projected, numeric[0]);
  }

  /**
   * Fast mode: a few random unit directions u compare u·grad with the
   * directional difference (PyTorch's fast gradcheck). A wrong element i only
   * moves u·grad by its error times u_i ~ 1/sqrt(n), which the allclose
   * tolerance can hide, so each direction is also screened against the
   * difference's own error, estimated from a second step 2h (Richardson) and
   * rounding. A suspicious direction is bisected, restricted and renormalized
   * to each half, down to single elements judged like full mode: O(log n)
   * evaluations per culprit instead of 2n.
   */
  private async fast(center: number, analytic: Float64Array): Promise<void> {
    const random = new Random(this.options.seed);
    const total = Math.max(1, this.options.projections);
    let suspect: { direction: Float64Array; threshold: number } | null = null;
    for (let r = 0; r < total && this.size > 0; r++) {
      const direction = new Float64Array(this.size);
      for (let i = 0; i < this.size; i++) direction[i] = random.normal();
      const { analytic: projected, numeric, magnitude } = await this.directional(direction, 0, this.size, analytic, [1, 2]);
      const report = this.recorder.projection(projected, numeric[0]);
      this.projections.push(report);
      const threshold = SCREEN_FACTOR * (Math.abs(numeric[1] - numeric[0]) + (ROUNDING_FACTOR * Number.EPSILON * magnitude) / this.options.eps);
      if (suspect === null && (!report.passed || report.absError > threshold)) suspect = { direction, threshold };
      this.tick(r + 1, total);
    }
    if (suspect === null) return;
    const culprits = await this.localize(suspect.direction, suspect.threshold, analytic, center);
    if (culprits === 0 && this.projections.some((projection) => !projection.passed)) {
      this.note = 'a random-direction check failed, but no single element exceeds the tolerance: the error is spread over many elements (try --mode full)';
    }
  }

  private async localize(direction: Float64Array, threshold: number, analytic: Float64Array, center: number): Promise<number> {
    const limit = Math.max(1, this.options.worst);
    const maxGroupTests = 8 * limit * (Math.ceil(Math.log2(this.size + 1)) + 1);
    let groupTests = 0;
    let culprits = 0;
    const stack: [number, number][] = [[0, this.size]];
    while (stack.length > 0 && culprits < limit && groupTests < maxGroupTests) {
      const [start, end] = stack.pop()!;
      if (end - start === 1) {
        if (!(await this.element(start, analytic[start], center))) culprits++;
        continue;
      }
      const middle = (start + end) >> 1;
      const left = await this.group(direction, start, middle, analytic);
      const right = await this.group(direction, middle, end, analytic);
      groupTests += 2;
      // Right first so the left half is explored first (reports in index order).
      if (!right.passed) stack.push([middle, end]);
      if (!left.passed) stack.push([start, middle]);
      if (left.passed && right.passed) {
        // Below the tolerance on both sides: follow the larger discrepancy while it stands out from the noise.
        const larger = left.absError >= right.absError ? left : right;
        if (larger.absError > threshold) stack.push(larger === left ? [start, middle] : [middle, end]);
      }
    }
    return culprits;
  }

  private checkDeterminism(center: number, centerAgain: number, analytic: Float64Array, analyticAgain: Float64Array): void {
    const tolerance = this.options.nondetTolerance;
    if (Math.abs(center - centerAgain) > tolerance) {
      throw new Nondeterminism(`${this.target.valueLabel} returned ${center} and then ${centerAgain} at the same point`);
    }
    for (let i = 0; i < analytic.length; i++) {
      if (Math.abs(analytic[i] - analyticAgain[i]) > tolerance) {
        const element = describeElement(this.target.layout, i);
        throw new Nondeterminism(`${this.target.gradientLabel}.${element} returned ${analytic[i]} and then ${analyticAgain[i]} at the same point`);
      }
    }
  }
}

class Nondeterminism extends UserFault {
  override name = 'Nondeterminism';
}

/** A result with nothing checked yet; also how callers report a problem that could not be checked. */
export function blankResult(name: string, kind: 'scalar' | 'layer', options: Pick<CheckOptions, 'order' | 'mode'>): CheckResult {
  return {
    name,
    kind,
    order: options.order,
    mode: options.mode,
    verdict: 'pass',
    passed: true,
    maxAbsError: 0,
    maxRelError: 0,
    evaluations: noEvaluations(),
    size: 0,
    checked: 0,
    failed: 0,
    kinks: 0,
    worst: [],
    failedElements: [],
    tensors: [],
    zeroGradients: 0,
    projections: [],
    batch: null,
    error: null,
    elementErrors: null,
    note: null,
    warnings: [],
    seconds: 0,
  };
}

/** The result for a problem that could not be checked (malformed, timed out, crashed). */
export function errorResult(name: string, kind: 'scalar' | 'layer', options: Partial<CheckOptions>, error: ErrorReport): CheckResult {
  const full = { ...DEFAULT_CHECK_OPTIONS, ...options };
  return { ...blankResult(name, kind, full), verdict: 'error', passed: false, error };
}

/** A problem as the checker sees it, whatever language runs its code: a scalar loss, or a layer. */
export type Checkable = Objective | FlatLayer;

function isLayer(problem: Checkable): problem is FlatLayer {
  return 'forward' in problem;
}

/**
 * Which output components a failing layer element's Jacobian column gets wrong: the rows of the
 * analytic Jacobian from backward(x, e_j), one call per output component, against the column's
 * central differences of forward. Only for the worst few failing elements of small outputs; user
 * errors here leave the check's result as it is.
 */
async function explainColumns(layer: FlatLayer, worst: ElementReport[], options: CheckOptions): Promise<void> {
  const failing = worst.filter((element) => !element.passed && !element.kink).slice(0, COLUMNS_EXPLAINED);
  if (failing.length === 0) return;
  try {
    const x = layer.initial;
    const { shape, values } = await layer.forward(x);
    const size = values.length;
    if (size === 0 || size > JACOBIAN_ROWS_LIMIT) return;
    const rows: Float64Array[] = [];
    for (let j = 0; j < size; j++) {
      const unit = new Float64Array(size);
      unit[j] = 1;
      rows.push(await layer.backward(x, unit, shape));
    }
    const outputLayout: Layout = { tensors: [{ name: 'out', shape, size, offset: 0, form: 'nested' }], size };
    for (const element of failing) {
      const spec = layer.layout.tensors.find((tensor) => tensor.name === element.param)!;
      const flat = spec.offset + element.index.reduce((position, index, d) => position * spec.shape[d] + index, 0);
      const moved = x.slice();
      moved[flat] = x[flat] + options.eps;
      const plus = (await layer.forward(moved)).values;
      moved[flat] = x[flat] - options.eps;
      const minus = (await layer.forward(moved)).values;
      const entries: (OutputDisagreement & { error: number })[] = [];
      for (let j = 0; j < size; j++) {
        const numeric = (plus[j] - minus[j]) / (2 * options.eps);
        const analytic = rows[j][flat];
        const error = Math.abs(analytic - numeric);
        if (error > options.atol + options.rtol * Math.abs(numeric)) entries.push({ element: describeElement(outputLayout, j), analytic, numeric, error });
      }
      entries.sort((a, b) => b.error - a.error);
      element.outputs = entries.slice(0, OUTPUTS_LISTED).map(({ element: name, analytic, numeric }) => ({ element: name, analytic, numeric }));
    }
  } catch (error) {
    if (!(error instanceof UserFault)) throw error;
  }
}

/** The target a check of `problem` evaluates (the same in every process that opens it), and its mini-batch. */
async function openTarget(problem: Checkable, options: CheckOptions): Promise<{ target: CheckTarget; batch: number[] | null }> {
  const random = new Random(options.seed);
  if (isLayer(problem)) return { target: options.order === 2 ? await layerSecondOrderTarget(problem, random) : layerTarget(problem, random), batch: null };
  if (options.order === 2) return { target: secondOrderTarget(problem, random), batch: null };
  const batch = problem.dataSize !== null && options.batchSize !== null ? new Random(options.seed).sample(problem.dataSize, options.batchSize) : null;
  return { target: scalarTarget(problem, batch), batch };
}

/**
 * A helper process's side of a check shared with it (bulk.ts): the same target as the check's, its
 * value at the point, then perturbed values on request. Failures are HelperFailures, described and
 * located as the check itself would describe them.
 */
export async function helperSide(problem: Checkable, partialOptions: Partial<CheckOptions>, hooks: Pick<CheckHooks, 'locateError'> = {}): Promise<Helper> {
  const options: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, ...partialOptions };
  let engine: Engine | null = null;
  const failure = (error: unknown) => new HelperFailure({ ...reportFailure(error, 'check', hooks.locateError), element: engine?.failedElement ?? null });
  let center: number;
  try {
    engine = new Engine((await openTarget(problem, options)).target, options, hooks);
    center = await engine.pointValue();
  } catch (error) {
    throw failure(error);
  }
  const opened = engine;
  return {
    center,
    perturbed: async (indices) => {
      const before = { ...problem.evaluations };
      try {
        const values = await opened.perturbedValues(indices);
        return { ...values, evaluations: evaluationsSince(before, problem.evaluations) };
      } catch (error) {
        throw failure(error);
      }
    },
  };
}

/** Checks one TypeScript problem definition (gradcheck, gradgradcheck or the layer Jacobian check). Never throws for user errors. */
export async function checkProblem(
  definition: ProblemDefinition,
  partialOptions: Partial<CheckOptions> = {},
  hooks: CheckHooks = {},
): Promise<CheckResult> {
  let problem: Checkable;
  try {
    problem = definition.kind === 'layer' ? flatLayer(definition, { reportWrites: true }) : scalarObjective(definition, { reportWrites: true });
  } catch (error) {
    return errorResult(definition.name, definition.kind, partialOptions, reportFailure(error, 'check', hooks.locateError));
  }
  return checkGradients(problem, partialOptions, hooks);
}

/** Checks a scalar objective's gradient (order 1), its hvp (order 2), or a layer's backward. Never throws for user errors. */
export async function checkGradients(
  problem: Checkable,
  partialOptions: Partial<CheckOptions> = {},
  hooks: CheckHooks = {},
): Promise<CheckResult> {
  const options: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, ...partialOptions };
  const kind = isLayer(problem) ? 'layer' : 'scalar';
  const result = blankResult(problem.name, kind, options);
  const started = performance.now();
  const finish = (): CheckResult => {
    result.seconds = (performance.now() - started) / 1000;
    return result;
  };
  result.warnings = [...(problem.notes?.warnings ?? [])];
  const secondOrder = isLayer(problem) ? Boolean(problem.backwardHvp) : problem.hvp !== null;
  if (options.order === 2 && !secondOrder) {
    result.verdict = 'skipped';
    result.note = isLayer(problem) ? 'no derivative of backward: this layer has no second-order check' : 'no hvp: nothing to check at order 2';
    return finish();
  }
  let engine: Engine | null = null;
  const before = { ...problem.evaluations };
  try {
    const { target, batch } = await openTarget(problem, options);
    result.batch = batch;
    result.size = target.layout.size;
    engine = new Engine(target, options, hooks);
    await engine.run();
  } catch (error) {
    if (error instanceof CheckCancelled) throw error;
    result.verdict = error instanceof Nondeterminism ? 'nondeterministic' : 'error';
    const hint = error instanceof Nondeterminism ? problem.notes?.nondeterminism : null;
    // A helper's failure was described (and located) where it happened.
    const report = error instanceof HelperFailure ? error.report : { ...reportFailure(error, 'check', hooks.locateError), element: engine?.failedElement ?? null };
    result.error = { ...report, message: hint ? `${report.message} (${hint})` : report.message };
  }
  result.evaluations = evaluationsSince(before, problem.evaluations);
  if (engine) {
    for (const key of Object.keys(result.evaluations) as (keyof Evaluations)[]) result.evaluations[key] += engine.helperEvaluations[key];
  }
  if (engine) {
    const recorder = engine.recorder;
    Object.assign(result, {
      maxAbsError: recorder.maxAbsError,
      maxRelError: recorder.maxRelError,
      checked: recorder.checked,
      failed: recorder.failed,
      kinks: recorder.kinks,
      worst: recorder.worstReports(),
      failedElements: recorder.failedElements(),
      tensors: recorder.tensorCounts(),
      zeroGradients: recorder.zeroGradients,
      elementErrors: recorder.elementErrors(),
      projections: engine.projections,
      note: engine.note,
      mode: engine.mode,
    });
    const full = 2 * result.size + 2;
    const spent = options.order === 2 ? (kind === 'layer' ? result.evaluations.backward : result.evaluations.grad) : kind === 'layer' ? result.evaluations.forward : result.evaluations.f;
    if (engine.mode === 'fast' && result.note === null && spent > full) {
      result.note = `fast mode took ${spent} evaluations, more than a full check's ${full} for these ${result.size} elements: with this many wrong elements, --mode full names them all for less`;
    }
  }
  if (isLayer(problem) && options.order === 1 && result.verdict === 'pass' && result.failed > result.kinks) {
    // After the counts are taken: `evaluations` are the check's own (2n+2 and 2 in full mode), not the explanation's.
    await explainColumns(problem, result.worst, options);
  }
  if (result.verdict === 'pass') {
    const projectionFailed = result.projections.some((projection) => !projection.passed);
    if (result.failed > result.kinks || (projectionFailed && result.failed === 0)) result.verdict = 'fail';
    else if (result.kinks > 0) result.verdict = 'kink';
  }
  judgeShapes(result, problem.shapeMismatches ?? []);
  result.passed = result.verdict === 'pass' || result.verdict === 'skipped' || (result.verdict === 'kink' && !options.strict);
  return finish();
}

/** A full or sparse check that would outlast its time limit (its message says what the cheaper modes cost). */
export class TooCostly extends KnownFailure {
  constructor(message: string) {
    super(message, 'limit', { name: 'mode', at: message.length });
  }
}

/**
 * Fast mode's evaluations of the target (the point twice included): `passing` when every direction
 * agrees, `oneWrong` to localize one wrong element by bisection (4 per projection, then 4 per halving:
 * measured 20 for n = 4, 36 for 64, 52 for 1,024 at 2 projections).
 */
export function fastEvaluations(size: number, projections: number): { passing: number; oneWrong: number } {
  const directions = 4 * Math.max(1, projections);
  return { passing: directions + 2, oneWrong: directions + 4 * Math.ceil(Math.log2(Math.max(2, size))) + 4 };
}

/** Fast mode is no cheaper: a full check costs no more than fast mode's localizing of one wrong element. */
function fullIsCheaper(size: number, projections: number): boolean {
  return 2 * size + 2 <= fastEvaluations(size, projections).oneWrong;
}

/** `8.2 ms`, `164 s`: two significant digits, for estimates. */
function secondsText(seconds: number): string {
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(2))} ms`;
  return `${Number(seconds.toPrecision(seconds < 100 ? 2 : 3))} s`;
}

/** Only axes of length 1 differ ([1,3] for [3], a sum with keepdims=True): broadcasting reads it as the tensor's own shape. */
function onlyUnitAxesDiffer(found: readonly number[], expected: readonly number[]): boolean {
  const withoutUnitAxes = (shape: readonly number[]) => shape.filter((extent) => extent !== 1);
  return sameShape(withoutUnitAxes(found), withoutUnitAxes(expected));
}

/** What the values of a reshaped gradient tensor are worth, from the check's counts. */
function reshapedValues(result: CheckResult, mismatch: ShapeMismatch): string {
  const counts = result.tensors.find((tensor) => tensor.name === mismatch.tensor);
  if (!counts || counts.checked === 0) {
    if (result.mode !== 'fast') return 'its values were not sampled';
    return result.projections.every((projection) => projection.passed) ? 'once reshaped, the gradient is right along random directions' : 'once reshaped, the gradient is still wrong along random directions';
  }
  if (counts.failed === 0) return 'the values are right once reshaped';
  return `once reshaped, ${counts.failed} of ${counts.checked} are wrong`;
}

/**
 * A gradient returned in another shape of the same size was checked row-major. Only axes of length 1
 * differing (keepdims) is a warning: the verdict is the values'. Any other shape ([3,2] for [2,3]) is
 * an error, which says what the values are worth.
 */
function judgeShapes(result: CheckResult, mismatches: readonly ShapeMismatch[]): void {
  const sentence = (mismatch: ShapeMismatch) =>
    `${mismatch.label} has shape ${formatShape(mismatch.found)}, expected ${formatShape(mismatch.expected)} like ${mismatch.like}; ${reshapedValues(result, mismatch)}`;
  const wrong: ShapeMismatch[] = [];
  for (const mismatch of mismatches) {
    if (onlyUnitAxesDiffer(mismatch.found, mismatch.expected)) result.warnings.push(sentence(mismatch));
    else wrong.push(mismatch);
  }
  if (wrong.length === 0 || result.verdict === 'error' || result.verdict === 'nondeterministic') return;
  result.verdict = 'error';
  result.error = errorReport(wrong.map(sentence).join('; '), 'user', 'check', { location: wrong[0].location });
}
