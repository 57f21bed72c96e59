/**
 * TypeScript and JavaScript problems (problem.ts) as flat objectives and
 * layers. User functions get the point in the form the user wrote their
 * tensors (numbers, nested arrays, typed arrays); their results are
 * validated (TensorError naming the value and element) and their throws
 * wrapped (UserCodeError).
 *
 * Every call gets a fresh view of its point, so a function that writes into
 * its argument cannot change a later evaluation. Gradient checks ask for such
 * writes to be reported (`reportWrites`): a function that sorts or normalizes
 * its argument in place would corrupt the user's own training loop. The bulk
 * perturbations move one element of one view at a time, O(1) per evaluation
 * beyond the user's own work.
 */
import { UserFault } from './errors';
import {
  type Batch,
  type Evaluations,
  type FlatLayer,
  HVP_LABEL,
  type LayerOutput,
  type MaybePromise,
  type Objective,
  PerturbedFailure,
  type PerturbedValues,
  type ShapeMismatch,
  UserCodeError,
  type UserFunctionName,
  finiteNumber,
  forwardShapeMismatch,
  gradientLabel,
  lossLabel,
  noEvaluations,
  optimizable,
  shapeMismatchSink,
} from './objective';
import { type LayerDefinition, ProblemError, type ScalarDefinition, type UserFunction } from './problem';
import { type Layout, TensorError, TensorPoint, claimedShape, describeElement, readLike, readTensorInto, readTree, sameShape, treeOf } from './tensor';
import { dot } from './vector';

export interface AdapterOptions {
  /** Report a user function that writes into its argument (ArgumentWritten), as gradient checks do. */
  reportWrites: boolean;
}

const QUIET: AdapterOptions = { reportWrites: false };

/** User code changed the point it was handed. */
export class ArgumentWritten extends UserFault {
  override name = 'ArgumentWritten';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Calls user code, counts the call and validates the result, staying synchronous when the user code is. */
function callUser<T>(evaluations: Evaluations, name: UserFunctionName, fn: UserFunction, args: unknown[], validate: (result: unknown) => T): MaybePromise<T> {
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

/** What ArgumentWritten says, in every language: the element, its value before and after. */
export function argumentWrittenMessage(layout: Layout, flat: number, before: number, after: number): string {
  return `user code modified its argument: ${describeElement(layout, flat)} changed from ${before} to ${after} (copy arrays before changing them)`;
}

/** Throws ArgumentWritten when the view no longer holds `x`. */
function requireUnchanged(point: TensorPoint, x: Float64Array): void {
  const now = point.readBack();
  for (let i = 0; i < now.length; i++) {
    if (now[i] !== x[i]) throw new ArgumentWritten(argumentWrittenMessage(point.layout, i, x[i], now[i]));
  }
}

/** Calls `use` on a fresh view of x. */
function withView<T>(layout: Layout, x: Float64Array, options: AdapterOptions, use: (tree: TensorPoint['tree']) => MaybePromise<T>): MaybePromise<T> {
  // The view never moves an element, so it may read x directly (typed and nested views copy it).
  const point = new TensorPoint(layout, x);
  const result = use(point.tree);
  if (!options.reportWrites) return result;
  if (result instanceof Promise) {
    return result.then((value) => {
      requireUnchanged(point, x);
      return value;
    });
  }
  requireUnchanged(point, x);
  return result;
}

/** `value` at x ± eps·e_i for each i, on one view moved one element at a time. */
async function perturbInView(
  layout: Layout,
  x: Float64Array,
  indices: Int32Array,
  eps: number,
  options: AdapterOptions,
  value: (tree: TensorPoint['tree']) => MaybePromise<number>,
): Promise<PerturbedValues> {
  const point = new TensorPoint(layout, x.slice());
  const plus = new Float64Array(indices.length);
  const minus = new Float64Array(indices.length);
  let delta = 0;
  let flat = -1;
  try {
    for (let k = 0; k < indices.length; k++) {
      flat = indices[k];
      const original = x[flat];
      delta = eps;
      point.set(flat, original + eps);
      const up = value(point.tree);
      plus[k] = typeof up === 'number' ? up : await up;
      delta = -eps;
      point.set(flat, original - eps);
      const down = value(point.tree);
      minus[k] = typeof down === 'number' ? down : await down;
      point.set(flat, original);
    }
  } catch (error) {
    throw new PerturbedFailure(error, flat, delta);
  }
  if (options.reportWrites) requireUnchanged(point, x);
  return { plus, minus };
}

/** A scalar problem as a flat objective; throws TensorError for malformed params. */
export function scalarObjective(definition: ScalarDefinition, options: AdapterOptions = QUIET): Objective {
  const { layout, values } = readTree(definition.params, 'params');
  const evaluations = noEvaluations();
  const { f, grad, hvp } = definition;
  const shapeMismatches: ShapeMismatch[] = [];
  const reshaped = shapeMismatchSink(shapeMismatches);
  // A fresh copy of the batch per call: user code may not change the batch GradLens keeps using.
  const args = (tree: unknown, batch: Batch): unknown[] => (batch ? [tree, [...batch]] : [tree]);
  const loss = (tree: unknown, batch: Batch) => callUser(evaluations, 'f', f, args(tree, batch), finiteNumber(lossLabel(batch)));
  const gradient = (tree: unknown, batch: Batch) =>
    callUser(evaluations, 'grad', grad, args(tree, batch), (result) => readLike(result, layout, gradientLabel(batch), 'params', reshaped));
  return {
    name: definition.name,
    layout,
    initial: values,
    dataSize: definition.dataSize,
    evaluations,
    shapeMismatches,
    loss: (x, batch) => withView(layout, x, options, (tree) => loss(tree, batch)),
    gradient: (x, batch) => withView(layout, x, options, (tree) => gradient(tree, batch)),
    hvp: hvp
      ? (x, v) => withView(layout, x, options, (tree) => callUser(evaluations, 'hvp', hvp, [tree, treeOf(layout, v)], (result) => readLike(result, layout, HVP_LABEL, 'params', reshaped)))
      : null,
    perturbedLosses: (x, indices, eps, batch) => perturbInView(layout, x, indices, eps, options, (tree) => loss(tree, batch)),
    perturbedGradientDots: (x, indices, eps, probe) =>
      perturbInView(layout, x, indices, eps, options, (tree) => callUser(evaluations, 'grad', grad, [tree], (result) => dot(probe, readLike(result, layout, 'grad(p)', 'params', reshaped)))),
  };
}

function readOutput(result: unknown): LayerOutput {
  const shape = claimedShape(result);
  if (shape === null) {
    throw new TensorError(`forward(inputs) returned ${result === null ? 'null' : typeof result}, expected a number or a nested array of numbers`);
  }
  const values = new Float64Array(shape.reduce((a, b) => a * b, 1));
  readTensorInto(result, shape, values, 0, 'forward(inputs)');
  return { shape, values };
}

/** A layer as a flat layer; throws TensorError for malformed inputs. */
export function flatLayer(definition: LayerDefinition, options: AdapterOptions = QUIET): FlatLayer {
  const { layout, values } = readTree(definition.inputs, 'inputs');
  const evaluations = noEvaluations();
  const forward = (tree: unknown) => callUser(evaluations, 'forward', definition.forward, [tree], readOutput);
  const shapeMismatches: ShapeMismatch[] = [];
  const reshaped = shapeMismatchSink(shapeMismatches);
  return {
    name: definition.name,
    layout,
    initial: values,
    evaluations,
    shapeMismatches,
    forward: (x) => withView(layout, x, options, forward),
    backward: (x, gradOutput, shape) => {
      const size = gradOutput.length;
      const outputLayout: Layout = { tensors: [{ name: 'out', shape, size, offset: 0, form: shape.length === 0 ? 'number' : 'nested' }], size };
      const probe = treeOf(outputLayout, gradOutput).out;
      return withView(layout, x, options, (tree) =>
        callUser(evaluations, 'backward', definition.backward, [tree, probe], (result) => readLike(result, layout, 'backward(inputs, gradOutput)', 'inputs', reshaped)));
    },
    perturbedForwardDots: (x, indices, eps, probe, shape) =>
      perturbInView(layout, x, indices, eps, options, (tree) => {
        const output = forward(tree);
        const project = (out: LayerOutput): number => {
          if (!sameShape(out.shape, shape)) throw new TensorError(forwardShapeMismatch(out.shape, shape));
          return dot(probe, out.values);
        };
        return output instanceof Promise ? output.then(project) : project(output);
      }),
  };
}

/**
 * A scalar problem to optimize or analyze as an objective: a definition is
 * adapted, an objective taken as it is. Throws for layers and for problems
 * without parameters.
 */
export function asObjective(problem: ScalarDefinition | Objective): Objective {
  if (!('kind' in problem)) return optimizable(problem);
  const kind: unknown = problem.kind;
  if (kind !== 'scalar') throw new ProblemError(`${problem.name}: Hessian analysis needs a scalar problem (params, f, grad), not a layer`);
  return optimizable(scalarObjective(problem));
}
