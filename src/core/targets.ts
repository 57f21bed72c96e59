/**
 * What the engine checks is always "a scalar function of a flat point and
 * its claimed gradient". Each kind of check reduces to that:
 *  - scalar problems: f(p) and grad(p);
 *  - layers: v·forward(x) and backward(x, v) for a fixed random v, i.e. a
 *    randomized Jacobian check (the VJP identity; PyTorch fast gradcheck
 *    uses the same reduction), localized to the input element whose
 *    Jacobian column is wrong;
 *  - second order: u·grad(p) and hvp(p, u) for a fixed random u; since
 *    ∂(u·∇f)/∂p_i = (H u)_i, element i is the Hessian column that is wrong.
 * Probe entries are ±U[1,2): never tiny, so no entry of a wrong column can
 * hide behind a small weight.
 */
import type { LayerDefinition, ScalarDefinition, UserFunction } from './problem';
import { Random } from './random';
import { dot } from './vector';
import { type Layout, TensorError, TensorPoint, claimedShape, formatShape, readLike, readTensorInto, sameShape, treeOf } from './tensor';

export type MaybePromise<T> = T | Promise<T>;

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

/** User code threw (or rejected): keeps which function and the original error. */
export class UserCodeError extends Error {
  override name = 'UserCodeError';
  constructor(
    readonly functionName: UserFunctionName,
    override readonly cause: unknown,
  ) {
    super(`${functionName} threw ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
  }
}

export interface CheckTarget {
  readonly layout: Layout;
  readonly point: TensorPoint;
  /** How the scalar and its gradient are named in messages. */
  readonly valueLabel: string;
  readonly gradientLabel: string;
  value(): MaybePromise<number>;
  gradient(): MaybePromise<Float64Array>;
  /**
   * Optional bulk form of full and sparse mode: the value at the current point
   * with element indices[k] moved by +eps (plus[k]) and by -eps (minus[k]),
   * computed exactly as value() would after point.set(i, base + eps). Targets
   * whose evaluations live in another process (Python) answer all of them in
   * one exchange; a failure at one element throws a PerturbedFailure.
   */
  perturbedValues?(indices: Int32Array, eps: number): MaybePromise<PerturbedValues>;
}

export interface PerturbedValues {
  plus: Float64Array;
  minus: Float64Array;
}

/** An evaluation of perturbedValues failed with element `flat` moved by `delta`. */
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

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Calls user code, counts the call, and validates the result, staying synchronous when the user code is. */
export function callUser<T>(
  evaluations: Evaluations,
  name: UserFunctionName,
  fn: UserFunction,
  args: unknown[],
  validate: (result: unknown) => T,
): MaybePromise<T> {
  evaluations[name]++;
  let result: unknown;
  try {
    result = (fn as (...a: unknown[]) => unknown)(...args);
  } catch (error) {
    throw new UserCodeError(name, error);
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(validate, (error: unknown) => {
      throw new UserCodeError(name, error);
    });
  }
  return validate(result);
}

export function finiteNumber(label: string): (result: unknown) => number {
  return (result) => {
    if (typeof result !== 'number') {
      throw new TensorError(`${label} returned ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}, expected a finite number`);
    }
    if (!Number.isFinite(result)) throw new TensorError(`${label} returned ${result}, expected a finite number`);
    return result;
  };
}

/** The fixed random probe of second-order and layer checks: entries ±U[1,2). */
export function probeVector(size: number, random: Random): Float64Array {
  const probe = new Float64Array(size);
  for (let i = 0; i < size; i++) probe[i] = (random.uniform() < 0.5 ? -1 : 1) * (1 + random.uniform());
  return probe;
}

/** f and grad; with `batch`, both are called as f(p, batch) and grad(p, batch) on that mini-batch. */
export function scalarTarget(
  definition: ScalarDefinition,
  layout: Layout,
  values: Float64Array,
  evaluations: Evaluations,
  batch: number[] | null,
): CheckTarget {
  const point = new TensorPoint(layout, values);
  const valueLabel = batch ? 'f(p, batch)' : 'f(p)';
  const gradientLabel = batch ? 'grad(p, batch)' : 'grad(p)';
  const checkLoss = finiteNumber(valueLabel);
  const checkGradient = (result: unknown) => readLike(result, layout, gradientLabel, 'params');
  // A fresh copy per call: user code may not change the batch we keep comparing against.
  const args = (): unknown[] => (batch ? [point.tree, batch.slice()] : [point.tree]);
  return {
    layout,
    point,
    valueLabel,
    gradientLabel,
    value: () => callUser(evaluations, 'f', definition.f, args(), checkLoss),
    gradient: () => callUser(evaluations, 'grad', definition.grad, args(), checkGradient),
  };
}

export function secondOrderTarget(
  definition: ScalarDefinition,
  layout: Layout,
  values: Float64Array,
  evaluations: Evaluations,
  random: Random,
): CheckTarget {
  const point = new TensorPoint(layout, values);
  const probe = probeVector(layout.size, random);
  const probeTree = treeOf(layout, probe);
  const gradient = definition.hvp;
  if (!gradient) throw new Error('second-order check needs hvp');
  const projectGradient = (result: unknown) => dot(probe, readLike(result, layout, 'grad(p)', 'params'));
  const checkHvp = (result: unknown) => readLike(result, layout, 'hvp(p, v)', 'params');
  return {
    layout,
    point,
    valueLabel: 'u·grad(p)',
    gradientLabel: 'hvp(p, u)',
    value: () => callUser(evaluations, 'grad', definition.grad, [point.tree], projectGradient),
    gradient: () => callUser(evaluations, 'hvp', gradient, [point.tree, probeTree], checkHvp),
  };
}

export function layerTarget(
  definition: LayerDefinition,
  layout: Layout,
  values: Float64Array,
  evaluations: Evaluations,
  random: Random,
): CheckTarget {
  const point = new TensorPoint(layout, values);
  // The output's shape and the probe are fixed by the first forward call.
  let shape: number[] | null = null;
  let probe: Float64Array = new Float64Array(0);
  let probeTree: unknown = null;
  let output: Float64Array = new Float64Array(0);
  const projectOutput = (result: unknown): number => {
    const found = claimedShape(result);
    if (found === null) {
      throw new TensorError(`forward(inputs) returned ${result === null ? 'null' : typeof result}, expected a number or a nested array of numbers`);
    }
    if (shape === null) {
      shape = found;
      const size = shape.reduce((a, b) => a * b, 1);
      output = new Float64Array(size);
      probe = probeVector(size, random);
      const probeLayout: Layout = { tensors: [{ name: 'out', shape, size, offset: 0, form: shape.length === 0 ? 'number' : 'nested' }], size };
      probeTree = treeOf(probeLayout, probe).out;
    }
    if (!sameShape(found, shape)) {
      throw new TensorError(`forward(inputs) returned shape ${formatShape(found)}, but ${formatShape(shape)} at the unperturbed inputs`);
    }
    readTensorInto(result, shape, output, 0, 'forward(inputs)');
    return dot(probe, output);
  };
  const checkBackward = (result: unknown) => readLike(result, layout, 'backward(inputs, gradOutput)', 'inputs');
  return {
    layout,
    point,
    valueLabel: 'v·forward(inputs)',
    gradientLabel: 'backward(inputs, v)',
    value: () => callUser(evaluations, 'forward', definition.forward, [point.tree], projectOutput),
    gradient: () => callUser(evaluations, 'backward', definition.backward, [point.tree, probeTree], checkBackward),
  };
}
