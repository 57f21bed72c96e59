/**
 * What the engine checks is always "a scalar function of a flat point and
 * its claimed gradient". Each kind of check reduces to that, the same for
 * every language (the objectives and layers of definitions.ts or of the
 * Python runner):
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
import {
  type Batch,
  type FlatLayer,
  type MaybePromise,
  type Objective,
  PerturbedFailure,
  type PerturbedValues,
  finiteNumber,
  forwardShapeMismatch,
  gradientLabel,
  lossLabel,
  perturbEach,
} from './objective';
import type { Random } from './random';
import { type Layout, NonFiniteError, TensorError, sameShape } from './tensor';
import { dot } from './vector';

export interface CheckTarget {
  readonly layout: Layout;
  /** The point checked (never written). */
  readonly point: Float64Array;
  /** How the scalar and its gradient are named in messages. */
  readonly valueLabel: string;
  readonly gradientLabel: string;
  value(x: Float64Array): MaybePromise<number>;
  gradient(x: Float64Array): MaybePromise<Float64Array>;
  /**
   * The value at x with element indices[k] moved by +eps (plus[k]) and by
   * -eps (minus[k]), exactly as value() would give it; a failure at one
   * element throws a PerturbedFailure. One call for many evaluations: in
   * another process, one exchange.
   */
  perturbedValues(x: Float64Array, indices: Int32Array, eps: number): Promise<PerturbedValues>;
}

/** The fixed random probe of second-order and layer checks: entries ±U[1,2). */
export function probeVector(size: number, random: Random): Float64Array {
  const probe = new Float64Array(size);
  for (let i = 0; i < size; i++) probe[i] = (random.uniform() < 0.5 ? -1 : 1) * (1 + random.uniform());
  return probe;
}

/** Bulk values checked finite, with the element that gave a non-finite one. */
async function finitePerturbed(label: string, eps: number, indices: Int32Array, pending: MaybePromise<PerturbedValues>): Promise<PerturbedValues> {
  const values = await pending;
  for (let k = 0; k < indices.length; k++) {
    if (!Number.isFinite(values.plus[k])) throw new PerturbedFailure(new NonFiniteError(`${label} returned ${values.plus[k]}, expected a finite number`), indices[k], eps);
    if (!Number.isFinite(values.minus[k])) throw new PerturbedFailure(new NonFiniteError(`${label} returned ${values.minus[k]}, expected a finite number`), indices[k], -eps);
  }
  return values;
}

/** f and grad; with `batch`, both called as f(p, batch) and grad(p, batch) on that mini-batch. */
export function scalarTarget(objective: Objective, batch: Batch): CheckTarget {
  const valueLabel = lossLabel(batch);
  return {
    layout: objective.layout,
    point: objective.initial,
    valueLabel,
    gradientLabel: gradientLabel(batch),
    value: (x) => objective.loss(x, batch),
    gradient: (x) => objective.gradient(x, batch),
    perturbedValues: (x, indices, eps) =>
      finitePerturbed(valueLabel, eps, indices, objective.perturbedLosses
        ? objective.perturbedLosses(x, indices, eps, batch)
        : perturbEach(x, indices, eps, (moved) => objective.loss(moved, batch))),
  };
}

/** u·grad(p) and hvp(p, u) for a seeded random u. */
export function secondOrderTarget(objective: Objective, random: Random): CheckTarget {
  const hvp = objective.hvp;
  if (!hvp) throw new Error(`${objective.name}: a second-order check needs hvp`);
  const probe = probeVector(objective.layout.size, random);
  const valueLabel = 'u·grad(p)';
  const projected = finiteNumber(valueLabel);
  const value = async (x: Float64Array) => projected(dot(probe, await objective.gradient(x, null)));
  return {
    layout: objective.layout,
    point: objective.initial,
    valueLabel,
    gradientLabel: 'hvp(p, u)',
    value,
    gradient: (x) => hvp(x, probe),
    perturbedValues: (x, indices, eps) =>
      finitePerturbed(valueLabel, eps, indices, objective.perturbedGradientDots
        ? objective.perturbedGradientDots(x, indices, eps, probe)
        : perturbEach(x, indices, eps, value)),
  };
}

/**
 * The second-order check of a layer's backward (torch.autograd.gradgradcheck): u·backward(x, v)
 * and its derivative d(u·backward(x, v))/dx, u and v seeded (v sized by a first forward call).
 */
export async function layerSecondOrderTarget(layer: FlatLayer, random: Random): Promise<CheckTarget> {
  const backwardHvp = layer.backwardHvp;
  if (!backwardHvp) throw new Error(`${layer.name}: a second-order check needs the derivative of backward`);
  const output = await layer.forward(layer.initial);
  const shape = output.shape;
  const v = probeVector(output.values.length, random);
  const u = probeVector(layer.layout.size, random);
  const valueLabel = 'u·backward(inputs, v)';
  const projected = finiteNumber(valueLabel);
  const value = async (x: Float64Array) => projected(dot(u, await layer.backward(x, v, shape)));
  return {
    layout: layer.layout,
    point: layer.initial,
    valueLabel,
    gradientLabel: 'd(u·backward(inputs, v))/d inputs',
    value,
    gradient: (x) => backwardHvp(x, v, shape, u),
    perturbedValues: (x, indices, eps) =>
      finitePerturbed(valueLabel, eps, indices, layer.perturbedBackwardDots
        ? layer.perturbedBackwardDots(x, indices, eps, v, shape, u)
        : perturbEach(x, indices, eps, value)),
  };
}

/** v·forward(inputs) and backward(inputs, v), v fixed (seeded) once the first forward call gives the output's shape. */
export function layerTarget(layer: FlatLayer, random: Random): CheckTarget {
  let shape: readonly number[] | null = null;
  let probe: Float64Array = new Float64Array(0);
  const valueLabel = 'v·forward(inputs)';
  const value = async (x: Float64Array): Promise<number> => {
    const output = await layer.forward(x);
    if (shape === null) {
      shape = output.shape;
      probe = probeVector(output.values.length, random);
    } else if (!sameShape(output.shape, shape)) {
      throw new TensorError(forwardShapeMismatch(output.shape, shape));
    }
    return dot(probe, output.values);
  };
  const outputShape = (): readonly number[] => {
    if (shape === null) throw new Error('layer target: forward has not been called yet');
    return shape;
  };
  return {
    layout: layer.layout,
    point: layer.initial,
    valueLabel,
    gradientLabel: 'backward(inputs, v)',
    value,
    gradient: (x) => layer.backward(x, probe, outputShape()),
    perturbedValues: (x, indices, eps) =>
      finitePerturbed(valueLabel, eps, indices, layer.perturbedForwardDots
        ? layer.perturbedForwardDots(x, indices, eps, probe, outputShape())
        : perturbEach(x, indices, eps, value)),
  };
}
