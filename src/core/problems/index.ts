/**
 * The built-in problems: regular problems (the problem-file contract), so
 * everything that works on a user's file works on them. Pure TypeScript,
 * float64, all data from a seeded Random.
 */
import { beale } from './beale';
import { himmelblau } from './himmelblau';
import { linearRegression } from './linear-regression';
import { logisticRegression } from './logistic-regression';
import { mlp } from './mlp';
import { quadratic } from './quadratic';
import { rosenbrock } from './rosenbrock';
import { monkeySaddle, saddle } from './saddles';
import { softmaxRegression } from './softmax-regression';
import type { BuiltinProblem } from './types';

export type { BuiltinOptions, BuiltinProblem, CriticalKind, CriticalPoint } from './types';

export const BUILTIN_PROBLEMS: readonly BuiltinProblem[] = Object.freeze([
  rosenbrock,
  beale,
  himmelblau,
  saddle,
  monkeySaddle,
  quadratic,
  linearRegression,
  logisticRegression,
  softmaxRegression,
  mlp,
]);

export function findBuiltin(name: string): BuiltinProblem | undefined {
  return BUILTIN_PROBLEMS.find((problem) => problem.name === name);
}
