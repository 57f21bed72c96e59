/**
 * A linear softmax classifier (CS231n, "Linear classification"): scores =
 * x W + b, f = mean cross-entropy + λ/2 |W|². f and grad come from the
 * one-layer network (no hidden layer, so its activation argument is unused).
 * The Hessian-vector product, per sample with probabilities q and score
 * direction ds = x V_W + v_b, is the score curvature (diag(q) − qqᵀ) ds =
 * q ⊙ (ds − q·ds), taken back to W and b like a gradient (Böhning 1992,
 * "Multinomial logistic regression algorithm"), plus λ V_W.
 */
import type { Problem } from '../problem';
import { Random } from '../random';
import { batchIndices, blobs, spiral } from './datasets';
import { softmaxCrossEntropy } from './losses';
import { dot, zeros } from './matrix';
import { sampleLoss, zerosLike } from './network';
import { OptionReader } from './options';
import type { BuiltinProblem } from './types';

type Params = { W: number[][]; b: number[] };

const CLASSES = 3;

export const softmaxRegression: BuiltinProblem = {
  name: 'softmax-regression',
  description:
    'A linear softmax classifier with 3 classes on the spiral data (option dataset: spiral or blobs; option l2). ' +
    'Convex, so every optimizer should reach the same loss, yet on the spiral a linear model cannot do much better than about 50% accuracy: the reason for the MLP.',
  dimension: 2 * CLASSES + CLASSES,
  create(options) {
    const reader = new OptionReader('softmax-regression', options);
    const seed = reader.seed();
    const dataset = reader.choice('dataset', ['spiral', 'blobs'] as const, 'spiral');
    const perClass = reader.number('pointsPerClass', 100, { min: 1, integer: true });
    const l2 = reader.number('l2', 0, { min: 0 });
    reader.done();
    const random = new Random(seed);
    const { x, y } = dataset === 'spiral' ? spiral(random, perClass, CLASSES) : blobs(random, perClass, CLASSES);
    const size = x.length;
    const penalty = (W: number[][]) => 0.5 * l2 * W.reduce((s, row) => s + dot(row, row), 0);
    const problem: Problem<Params> = {
      description: `softmax regression, ${CLASSES} classes, ${dataset} (${size} points)${l2 > 0 ? `, L2 ${l2}` : ''}`,
      params: { W: zeros(2, CLASSES), b: new Array<number>(CLASSES).fill(0) },
      data: { size },
      f(p, batch) {
        const indices = batchIndices(batch, size);
        let sum = 0;
        // One layer, no hidden activation: the activation argument is unused.
        for (const i of indices) sum += sampleLoss([p], 'relu', x[i], y[i]);
        return sum / indices.length + penalty(p.W);
      },
      grad(p, batch) {
        const indices = batchIndices(batch, size);
        const [g] = zerosLike([p]);
        for (const i of indices) sampleLoss([p], 'relu', x[i], y[i], [g], 1 / indices.length);
        return { W: g.W.map((row, j) => row.map((gjc, c) => gjc + l2 * p.W[j][c])), b: g.b };
      },
      hvp(p, v) {
        const W = v.W.map((row) => row.map((vjc) => l2 * vjc));
        const b = new Array<number>(CLASSES).fill(0);
        for (let i = 0; i < size; i++) {
          const xi = x[i];
          const scores = p.b.map((bc, c) => bc + xi.reduce((s, xj, j) => s + xj * p.W[j][c], 0));
          const { probs } = softmaxCrossEntropy(scores, y[i]);
          const ds = v.b.map((vc, c) => vc + xi.reduce((s, xj, j) => s + xj * v.W[j][c], 0));
          const mean = dot(probs, ds);
          const curvature = probs.map((q, c) => (q * (ds[c] - mean)) / size);
          for (let j = 0; j < xi.length; j++) {
            for (let c = 0; c < CLASSES; c++) W[j][c] += xi[j] * curvature[c];
          }
          for (let c = 0; c < CLASSES; c++) b[c] += curvature[c];
        }
        return { W, b };
      },
    };
    return problem;
  },
};
