/**
 * Least squares on seeded synthetic data (linearData):
 *   f = 1/|B| Σ_{i∈B} ½ (w·xᵢ + b − yᵢ)²,   ∇_w = 1/|B| Σ rᵢ xᵢ,  ∇_b = 1/|B| Σ rᵢ
 * with residuals rᵢ = w·xᵢ + b − yᵢ; the Hessian is constant, 1/N Σ x̃ᵢx̃ᵢᵀ
 * with x̃ = (x, 1).
 */
import type { Problem } from '../problem';
import { Random } from '../random';
import { batchIndices, linearData } from './datasets';
import { dot } from './matrix';
import { OptionReader } from './options';
import type { BuiltinProblem } from './types';

type Params = { w: number[]; b: number };

export const linearRegression: BuiltinProblem = {
  name: 'linear-regression',
  description:
    'Least squares, ½·mean (w·x + b − y)², on 256 synthetic samples with 5 Gaussian features and Gaussian noise (options samples, features, noise). ' +
    'Convex with a constant Hessian (the features’ second moments), so every method reaches the same answer; mini-batch gradients are unbiased but noisy, and their noise keeps SGD at a fixed learning rate hovering around the minimum.',
  dimension: 6,
  create(options) {
    const reader = new OptionReader('linear-regression', options);
    const seed = reader.seed();
    const samples = reader.number('samples', 256, { min: 1, integer: true });
    const features = reader.number('features', 5, { min: 1, integer: true });
    const noise = reader.number('noise', 0.5, { min: 0 });
    reader.done();
    const { x, y } = linearData(new Random(seed), samples, features, noise);
    const residual = (p: Params, i: number) => dot(p.w, x[i]) + p.b - y[i];
    const problem: Problem<Params> = {
      description: `linear regression, ${samples} samples, ${features} features, noise ${noise}`,
      params: { w: new Array<number>(features).fill(0), b: 0 },
      data: { size: samples },
      f(p, batch) {
        const indices = batchIndices(batch, samples);
        let sum = 0;
        for (const i of indices) sum += 0.5 * residual(p, i) ** 2;
        return sum / indices.length;
      },
      grad(p, batch) {
        const indices = batchIndices(batch, samples);
        const w = new Array<number>(features).fill(0);
        let b = 0;
        for (const i of indices) {
          const r = residual(p, i) / indices.length;
          for (let j = 0; j < features; j++) w[j] += r * x[i][j];
          b += r;
        }
        return { w, b };
      },
      hvp(_p, v) {
        const w = new Array<number>(features).fill(0);
        let b = 0;
        for (let i = 0; i < samples; i++) {
          const s = (dot(v.w, x[i]) + v.b) / samples;
          for (let j = 0; j < features; j++) w[j] += s * x[i][j];
          b += s;
        }
        return { w, b };
      },
    };
    return problem;
  },
};
