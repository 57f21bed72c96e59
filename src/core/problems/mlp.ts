/**
 * A 2-16-16-3 network with ReLU (or tanh) and softmax cross-entropy on
 * CS231n's spiral, backpropagated by `network.ts`. Weights start from a
 * seeded He init, N(0, 2/fan_in), for ReLU (He et al. 2015) or Xavier
 * (Glorot) init, N(0, 2/(fan_in + fan_out)), for tanh (Glorot & Bengio
 * 2010). ReLU biases start at 0.01 rather than 0: every spiral class begins
 * with a point exactly at the origin, whose first-layer pre-activations would
 * otherwise sit exactly on ReLU's kink.
 */
import type { Problem } from '../problem';
import { Random } from '../random';
import { batchIndices, spiral } from './datasets';
import { type Activation, type Dense, sampleLoss, zerosLike } from './network';
import { OptionReader } from './options';
import type { BuiltinProblem } from './types';

type Params = { W1: number[][]; b1: number[]; W2: number[][]; b2: number[]; W3: number[][]; b3: number[] };

const CLASSES = 3;

function layersOf(p: Params): Dense[] {
  return [
    { W: p.W1, b: p.b1 },
    { W: p.W2, b: p.b2 },
    { W: p.W3, b: p.b3 },
  ];
}

function initialize(random: Random, widths: number[], activation: Activation): Params {
  const [W1, W2, W3] = widths.slice(1).map((fanOut, l) => {
    const fanIn = widths[l];
    const std = Math.sqrt(activation === 'relu' ? 2 / fanIn : 2 / (fanIn + fanOut));
    return Array.from({ length: fanIn }, () => Array.from({ length: fanOut }, () => std * random.normal()));
  });
  const [b1, b2, b3] = widths.slice(1).map((width) => new Array<number>(width).fill(activation === 'relu' ? 0.01 : 0));
  return { W1, b1, W2, b2, W3, b3 };
}

export const mlp: BuiltinProblem = {
  name: 'mlp',
  description:
    'A 2-16-16-3 network with ReLU (option activation: relu or tanh; option hidden) and softmax cross-entropy on CS231n’s 3-class spiral (300 points), He/Xavier-initialized from the seed. ' +
    'A small nonconvex problem that a linear classifier cannot solve, where learning rate, initialization and the optimizer visibly change the loss curve.',
  dimension: 2 * 16 + 16 + 16 * 16 + 16 + 16 * CLASSES + CLASSES,
  create(options) {
    const reader = new OptionReader('mlp', options);
    const seed = reader.seed();
    const activation = reader.choice('activation', ['relu', 'tanh'] as const, 'relu');
    const hidden = reader.number('hidden', 16, { min: 1, integer: true });
    const perClass = reader.number('pointsPerClass', 100, { min: 1, integer: true });
    reader.done();
    const random = new Random(seed);
    const { x, y } = spiral(random, perClass, CLASSES);
    const size = x.length;
    const problem: Problem<Params> = {
      description: `MLP 2-${hidden}-${hidden}-${CLASSES}, ${activation}, spiral (${size} points)`,
      params: initialize(random, [2, hidden, hidden, CLASSES], activation),
      data: { size },
      f(p, batch) {
        const indices = batchIndices(batch, size);
        const layers = layersOf(p);
        let sum = 0;
        for (const i of indices) sum += sampleLoss(layers, activation, x[i], y[i]);
        return sum / indices.length;
      },
      grad(p, batch) {
        const indices = batchIndices(batch, size);
        const layers = layersOf(p);
        const g = zerosLike(layers);
        for (const i of indices) sampleLoss(layers, activation, x[i], y[i], g, 1 / indices.length);
        return { W1: g[0].W, b1: g[0].b, W2: g[1].W, b2: g[1].b, W3: g[2].W, b3: g[2].b };
      },
    };
    return problem;
  },
};
