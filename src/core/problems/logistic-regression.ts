/**
 * Binary logistic regression on two Gaussian blobs (labels 0/1), with an
 * optional L2 penalty on the weights (not the bias):
 *   zᵢ = w·xᵢ + b,  f = 1/|B| Σ [softplus(zᵢ) − yᵢzᵢ] + λ/2 |w|²
 *   ∇ = 1/|B| Σ (σ(zᵢ) − yᵢ) x̃ᵢ + λ (w, 0)
 *   H = 1/N Σ σ(zᵢ)(1 − σ(zᵢ)) x̃ᵢx̃ᵢᵀ + λ diag(1, …, 1, 0)
 * (Bishop 2006, "Pattern Recognition and Machine Learning", §4.3.2–4.3.3).
 */
import type { Problem } from '../problem';
import { Random } from '../random';
import { batchIndices, blobs } from './datasets';
import { sigmoid, softplus } from './losses';
import { dot } from './matrix';
import { OptionReader } from './options';
import type { BuiltinProblem } from './types';

type Params = { w: number[]; b: number };

export const logisticRegression: BuiltinProblem = {
  name: 'logistic-regression',
  description:
    'Binary logistic regression (mean cross-entropy) on 256 points of two overlapping Gaussian blobs in 2-D, with an optional L2 penalty λ/2·|w|² (option l2). ' +
    'Convex, and the overlap keeps the minimum finite; on separable data without L2 the loss would keep falling as |w| grows, so the weights would never converge.',
  dimension: 3,
  create(options) {
    const reader = new OptionReader('logistic-regression', options);
    const seed = reader.seed();
    const samples = reader.number('samples', 256, { min: 2, integer: true });
    const l2 = reader.number('l2', 0, { min: 0 });
    reader.done();
    // Two classes of samples/2 points (rounded up for the first).
    const random = new Random(seed);
    const { x, y } = blobs(random, Math.ceil(samples / 2), 2);
    x.splice(samples);
    y.splice(samples);
    const logit = (p: Params, i: number) => dot(p.w, x[i]) + p.b;
    const problem: Problem<Params> = {
      description: `logistic regression, ${samples} samples${l2 > 0 ? `, L2 ${l2}` : ''}`,
      params: { w: [0, 0], b: 0 },
      data: { size: samples },
      f(p, batch) {
        const indices = batchIndices(batch, samples);
        let sum = 0;
        for (const i of indices) {
          const z = logit(p, i);
          sum += softplus(z) - y[i] * z;
        }
        return sum / indices.length + 0.5 * l2 * dot(p.w, p.w);
      },
      grad(p, batch) {
        const indices = batchIndices(batch, samples);
        const w = p.w.map((wj) => l2 * wj);
        let b = 0;
        for (const i of indices) {
          const dz = (sigmoid(logit(p, i)) - y[i]) / indices.length;
          for (let j = 0; j < w.length; j++) w[j] += dz * x[i][j];
          b += dz;
        }
        return { w, b };
      },
      hvp(p, v) {
        const w = v.w.map((vj) => l2 * vj);
        let b = 0;
        for (let i = 0; i < samples; i++) {
          const s = sigmoid(logit(p, i));
          const curvature = (s * (1 - s) * (dot(v.w, x[i]) + v.b)) / samples;
          for (let j = 0; j < w.length; j++) w[j] += curvature * x[i][j];
          b += curvature;
        }
        return { w, b };
      },
    };
    return problem;
  },
};
