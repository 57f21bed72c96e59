/**
 * What problem files may import from 'gradlens': types for editor help and
 * identity helpers that infer them. Importing is optional; a plain object
 * export works the same.
 */
import type { Layer, Problem } from './core/problem';
import type { TensorTree, TensorValue } from './core/tensor';

export type { Layer, Problem, TensorsLike } from './core/problem';
export type { TensorTree, TensorValue } from './core/tensor';

/** Declares a scalar-loss problem; returns it unchanged. */
export function defineProblem<P extends TensorTree>(problem: Problem<P>): Problem<P> {
  return problem;
}

/** Declares a layer checked through its backward pass; returns it unchanged. */
export function defineLayer<I extends TensorTree, O extends TensorValue>(layer: Layer<I, O>): Layer<I, O> {
  return layer;
}
