/**
 * The one view of a problem that gradient checks, optimizers and the Hessian
 * analysis share: a scalar loss of one flat float64 vector, its gradient and,
 * optionally, Hessian-vector products, laid out as the problem's named
 * tensors. Each language adapts its problems to it once: TypeScript in this
 * process (definitions.ts), Python over JSON-RPC (src/runner/python/).
 *
 * Every call validates what user code returned (TensorError naming the value
 * and element), wraps what it threw (UserCodeError), and counts itself in
 * `evaluations`. Calls never write into `x`.
 */
import { type SourceLocation, UserFault } from './errors';
import { type Layout, NonFiniteError, TensorError, describeElement, formatShape } from './tensor';

export type MaybePromise<T> = T | Promise<T>;

/** Sample indices of a mini-batch; null: the full batch (f called without one). */
export type Batch = readonly number[] | null;

export type UserFunctionName = 'f' | 'grad' | 'hvp' | 'forward' | 'backward';

export interface Evaluations {
  f: number;
  grad: number;
  hvp: number;
  forward: number;
  backward: number;
}

export function noEvaluations(): Evaluations {
  return { f: 0, grad: 0, hvp: 0, forward: 0, backward: 0 };
}

/** The calls counted since `before` (a copy of the counters taken then). */
export function evaluationsSince(before: Evaluations, now: Evaluations): Evaluations {
  return { f: now.f - before.f, grad: now.grad - before.grad, hvp: now.hvp - before.hvp, forward: now.forward - before.forward, backward: now.backward - before.backward };
}

/** Values at x with element indices[k] moved by +eps (plus[k]) and by -eps (minus[k]). */
export interface PerturbedValues {
  plus: Float64Array;
  minus: Float64Array;
}

export interface LossAndGradient {
  loss: number;
  grad: Float64Array;
}

export interface Objective {
  readonly name: string;
  readonly layout: Layout;
  /** The problem's own point (its params), flat; never written. */
  readonly initial: Float64Array;
  /** Samples when the problem has data (mini-batches), else null. */
  readonly dataSize: number | null;
  readonly evaluations: Evaluations;
  loss(x: Float64Array, batch: Batch): MaybePromise<number>;
  gradient(x: Float64Array, batch: Batch): MaybePromise<Float64Array>;
  /** H(x)·v, or null when the problem has no hvp. */
  readonly hvp: ((x: Float64Array, v: Float64Array) => MaybePromise<Float64Array>) | null;
  // Bulk forms, where one call is cheaper than many (in another process: one exchange instead of many).
  /** Both at one point: an optimizer step. */
  lossAndGradient?(x: Float64Array, batch: Batch): MaybePromise<LossAndGradient>;
  /** loss at each point, NaN where it fails or is not finite: a contour grid. */
  lossesOrNaN?(points: readonly Float64Array[]): Promise<number[]>;
  /** loss at x ± eps·e_i for each i of `indices`: full and sparse checks. */
  perturbedLosses?(x: Float64Array, indices: Int32Array, eps: number, batch: Batch): MaybePromise<PerturbedValues>;
  /** probe·gradient at x ± eps·e_i: the same for second-order checks. */
  perturbedGradientDots?(x: Float64Array, indices: Int32Array, eps: number, probe: Float64Array): MaybePromise<PerturbedValues>;
  /** What the language knows about the problem that a check should say: see ProblemNotes. */
  readonly notes?: ProblemNotes;
  /** Gradients returned in another shape of the same size, so far (filled as the problem is evaluated). */
  readonly shapeMismatches?: readonly ShapeMismatch[];
}

/**
 * A returned gradient tensor of another shape than its tensor but of the same size (`dgamma` of shape
 * [1,3] for gamma of [3]): read row-major and checked, then reported with what its values are worth.
 */
export interface ShapeMismatch {
  /** The value as the problem's language names it: `grad(p).gamma`, `batchnorm_backward's dgamma`. */
  label: string;
  /** What it should be shaped like: `params.gamma`, `gamma`. */
  like: string;
  /** The tensor it belongs to, as the layout names it. */
  tensor: string;
  found: readonly number[];
  expected: readonly number[];
  /** Where the value was returned, when known (Python: the return statement of the function). */
  location: SourceLocation | null;
}

/** Notes each mismatch once per label: the sink a problem's gradients report reshaped values to. */
export function shapeMismatchSink(mismatches: ShapeMismatch[]): (mismatch: ShapeMismatch) => void {
  return (mismatch) => {
    if (!mismatches.some((known) => known.label === mismatch.label)) mismatches.push(mismatch);
  };
}

/** What a language knows of a problem beyond its functions (PyTorch: upcast tensors, dropout). */
export interface ProblemNotes {
  /** Said with every check: a tensor upcast to float64, moved to the CPU, ... */
  warnings: readonly string[];
  /** Why two calls at the same point may differ in this language, and the fix, added to a nondeterministic verdict. */
  nondeterminism: string | null;
}

/** A layer's forward output: its shape and its values, row-major. */
export interface LayerOutput {
  shape: readonly number[];
  values: Float64Array;
}

/**
 * A layer (a vector-valued function of named input tensors) on flat vectors,
 * checked through its vector-Jacobian product (targets.ts).
 */
export interface FlatLayer {
  readonly name: string;
  readonly layout: Layout;
  /** The layer's inputs, flat. */
  readonly initial: Float64Array;
  readonly evaluations: Evaluations;
  forward(x: Float64Array): MaybePromise<LayerOutput>;
  /** d(gradOutput·forward(x))/dx, with gradOutput of the output's shape. */
  backward(x: Float64Array, gradOutput: Float64Array, shape: readonly number[]): MaybePromise<Float64Array>;
  /** probe·forward at x ± eps·e_i; an output of another shape than `shape` is a TensorError (forwardShapeMismatch). */
  perturbedForwardDots?(x: Float64Array, indices: Int32Array, eps: number, probe: Float64Array, shape: readonly number[]): MaybePromise<PerturbedValues>;
  /**
   * d(u·backward(x, gradOutput))/dx: the derivative of the backward pass itself, for its
   * second-order check (torch.autograd.gradgradcheck); null when the layer has none.
   */
  readonly backwardHvp?: ((x: Float64Array, gradOutput: Float64Array, shape: readonly number[], u: Float64Array) => MaybePromise<Float64Array>) | null;
  /** u·backward(x ± eps·e_i, gradOutput): the same in bulk. */
  perturbedBackwardDots?(x: Float64Array, indices: Int32Array, eps: number, gradOutput: Float64Array, shape: readonly number[], u: Float64Array): MaybePromise<PerturbedValues>;
  readonly notes?: ProblemNotes;
  readonly shapeMismatches?: readonly ShapeMismatch[];
}

/** User code threw (or rejected): keeps which function and the original error. */
export class UserCodeError extends UserFault {
  override name = 'UserCodeError';
  constructor(
    /** A problem's function by its key (`f`), or Python course code's own function by its name (`affine_forward`). */
    readonly functionName: string,
    override readonly cause: unknown,
  ) {
    super(`${functionName} threw ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
  }
}

/** An evaluation at a perturbed point failed with element `flat` moved by `delta`. */
export class PerturbedFailure extends Error {
  override name = 'PerturbedFailure';
  constructor(
    readonly error: unknown,
    readonly flat: number,
    readonly delta: number,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

// How values are named in messages, the same for every language.
export const lossLabel = (batch: Batch): string => (batch ? 'f(p, batch)' : 'f(p)');
export const gradientLabel = (batch: Batch): string => (batch ? 'grad(p, batch)' : 'grad(p)');
export const HVP_LABEL = 'hvp(p, v)';

/** Checks that a user function's result is a finite number; `label` names the call (`f(p)`). */
export function finiteNumber(label: string): (result: unknown) => number {
  return (result) => {
    if (typeof result !== 'number') {
      throw new TensorError(`${label} returned ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}, expected a finite number`);
    }
    if (!Number.isFinite(result)) throw new NonFiniteError(`${label} returned ${result}, expected a finite number`);
    return result;
  };
}

/** The message of a forward output whose shape changed between calls. */
export function forwardShapeMismatch(found: readonly number[], expected: readonly number[]): string {
  return `forward(inputs) returned shape [${found.join(',')}], but [${expected.join(',')}] at the unperturbed inputs`;
}

/** Runs `call`, adding `where` (which point it was) to the message of errors about user code. */
export async function at<T>(where: string, call: () => MaybePromise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UserCodeError || error instanceof TensorError) error.message = `${error.message} ${where}`;
    throw error;
  }
}

/** The point to work at: `values` (flat, in layout order) checked against the layout, else the initial point. Always a copy. */
export function startingPoint(objective: Pick<Objective, 'layout' | 'initial'>, values?: ArrayLike<number>): Float64Array {
  if (values === undefined) return objective.initial.slice();
  const size = objective.layout.size;
  if (values.length !== size) {
    throw new TensorError(`the point has ${values.length} elements, expected ${size} (the number of elements of params)`);
  }
  for (let i = 0; i < values.length; i++) {
    const value: unknown = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TensorError(`the point's element ${i} (${describeElement(objective.layout, i)}) is ${String(value)}, expected a finite number`);
    }
  }
  return Float64Array.from(values);
}

/**
 * A scalar problem to optimize or analyze; throws a TensorError for one without elements. A gradient
 * returned in another shape of the same size, which a check reads row-major to say what its values
 * are worth, is an error here: an update would move the wrong elements.
 */
export function optimizable(objective: Objective): Objective {
  if (objective.layout.size === 0) throw new TensorError(`${objective.name}: params has no elements, so there is nothing to optimize or analyze`);
  const mismatches = objective.shapeMismatches;
  if (!mismatches) return objective;
  const strict = <A extends unknown[], R>(evaluate: (...args: A) => MaybePromise<R>) => async (...args: A): Promise<R> => {
    const result = await evaluate(...args);
    const [mismatch] = mismatches;
    if (mismatch) throw new TensorError(`${mismatch.label} has shape ${formatShape(mismatch.found)}, expected ${formatShape(mismatch.expected)} like ${mismatch.like}`);
    return result;
  };
  return {
    ...objective,
    gradient: strict(objective.gradient),
    hvp: objective.hvp && strict(objective.hvp),
    lossAndGradient: objective.lossAndGradient && strict(objective.lossAndGradient),
  };
}

/** f then grad at one point (an optimizer step), in one call where the objective has the bulk form. */
export async function lossAndGradient(objective: Objective, x: Float64Array, batch: Batch): Promise<LossAndGradient> {
  if (objective.lossAndGradient) return objective.lossAndGradient(x, batch);
  return { loss: await objective.loss(x, batch), grad: await objective.gradient(x, batch) };
}

/** f at each point, NaN where it fails (a contour plot's holes). */
export async function lossesOrNaN(objective: Objective, points: readonly Float64Array[]): Promise<number[]> {
  if (objective.lossesOrNaN) return objective.lossesOrNaN(points);
  const values: number[] = [];
  for (const point of points) {
    try {
      values.push(await objective.loss(point, null));
    } catch {
      values.push(NaN);
    }
  }
  return values;
}

/**
 * The bulk perturbation of any evaluation, one element moved at a time on a
 * copy of x; a failure names the element (PerturbedFailure). What targets use
 * for objectives without a bulk form of their own.
 */
export async function perturbEach(x: Float64Array, indices: Int32Array, eps: number, value: (moved: Float64Array) => MaybePromise<number>): Promise<PerturbedValues> {
  const moved = x.slice();
  const plus = new Float64Array(indices.length);
  const minus = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    for (const [sign, out] of [[1, plus], [-1, minus]] as const) {
      moved[i] = x[i] + sign * eps;
      try {
        out[k] = await value(moved);
      } catch (error) {
        throw new PerturbedFailure(error, i, sign * eps);
      }
    }
    moved[i] = x[i];
  }
  return { plus, minus };
}
