/**
 * An ill-conditioned quadratic f = ½ xᵀAx, A = Q diag(λ) Qᵀ with
 * eigenvalues λᵢ = κ^(i/(n−1)), i = 0..n−1: geometrically spread from
 * exactly 1 to exactly κ, so κ is A's condition number. Q rotates the
 * axes so that the coordinates are coupled: by 30° in 2-D (a fixed picture),
 * a seeded random rotation in n-D. Minimum f(0) = 0. Gradient descent on it
 * converges at rate (κ−1)/(κ+1) at best (Nocedal & Wright 2006, §3.3).
 */
import type { Problem } from '../problem';
import { Random } from '../random';
import { dot, fromEigen, matVec, randomOrthogonal, rotation } from './matrix';
import { OptionReader } from './options';
import type { BuiltinProblem } from './types';

type Vector = { x: number[] };

const START_2D = [-2, 1];

/** The Hessian's eigenvalues: 1 = λ₀ < … < λₙ₋₁ = κ, geometrically spaced. */
export function quadraticEigenvalues(dimension: number, condition: number): number[] {
  return Array.from({ length: dimension }, (_, i) => condition ** (i / (dimension - 1)));
}

export const quadratic: BuiltinProblem = {
  name: 'quadratic',
  description:
    '½ xᵀAx with rotated axes and Hessian eigenvalues from 1 to κ (option condition, default 100; option dimension, default 2). ' +
    'Gradient descent needs a step below 2/κ to stay stable, so along the flattest direction it shrinks the error only by about 1 − 2/κ per step, zigzagging across the narrow valley: ill-conditioning in its purest form.',
  dimension: 2,
  bounds: { x: [-2.5, 2.5], y: [-2.5, 2.5] },
  start: START_2D,
  minima: [[0, 0]],
  criticalPoints: [{ point: [0, 0], kind: 'minimum' }],
  create(options) {
    const reader = new OptionReader('quadratic', options);
    const seed = reader.seed();
    const condition = reader.number('condition', 100, { min: 1 });
    const n = reader.number('dimension', 2, { min: 2, integer: true });
    const start = n === 2 ? reader.vector('start', START_2D, 2) : new Array<number>(n).fill(1);
    reader.done();
    const q = n === 2 ? rotation(Math.PI / 6) : randomOrthogonal(n, new Random(seed));
    const a = fromEigen(q, quadraticEigenvalues(n, condition));
    const problem: Problem<Vector> = {
      description: `quadratic, κ=${condition}, ${n}-D`,
      params: { x: start },
      f: (p) => 0.5 * dot(p.x, matVec(a, p.x)),
      grad: (p) => ({ x: matVec(a, p.x) }),
      hvp: (_p, v) => ({ x: matVec(a, v.x) }),
    };
    return problem;
  },
};
