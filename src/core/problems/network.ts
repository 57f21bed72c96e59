/**
 * A stack of dense layers with softmax cross-entropy, backpropagated by
 * hand for one sample at a time (CS231n, "Neural Networks Case Study"):
 *
 *   z_l = a_{l−1} W_l + b_l,   a_l = act(z_l) (hidden layers),   scores = z_L
 *   dscores = softmax(scores) − onehot(y)
 *   dW_l = a_{l−1}ᵀ dz_l,   db_l = dz_l,   dz_{l−1} = (dz_l W_lᵀ) ⊙ act'(z_{l−1})
 *
 * With a single layer it is the linear softmax classifier.
 */
import { dot, zeros } from './matrix';
import { softmaxCrossEntropy } from './losses';

/** W has one row per input and one column per output. */
export interface Dense {
  W: number[][];
  b: number[];
}

export type Activation = 'relu' | 'tanh';

const ACTIVATIONS: Record<Activation, { apply(z: number): number; slope(z: number, a: number): number }> = {
  // ReLU's derivative at 0 is taken as 0, as in PyTorch.
  relu: { apply: (z) => Math.max(0, z), slope: (z) => (z > 0 ? 1 : 0) },
  tanh: { apply: Math.tanh, slope: (_z, a) => 1 - a * a },
};

export function zerosLike(layers: readonly Dense[]): Dense[] {
  return layers.map(({ W, b }) => ({ W: zeros(W.length, b.length), b: new Array<number>(b.length).fill(0) }));
}

/**
 * The loss of one sample; when `grads` is given, adds `scale` times its
 * gradient there (so a batch mean is a sum with scale 1/|batch|).
 */
export function sampleLoss(layers: readonly Dense[], activation: Activation, x: readonly number[], label: number, grads?: Dense[], scale = 1): number {
  const act = ACTIVATIONS[activation];
  const inputs: (readonly number[])[] = [x];
  const preActivations: number[][] = [];
  let a = x;
  let scores: number[] = [];
  for (let l = 0; l < layers.length; l++) {
    const { W, b } = layers[l];
    const z = b.slice();
    for (let i = 0; i < a.length; i++) {
      for (let k = 0; k < z.length; k++) z[k] += a[i] * W[i][k];
    }
    if (l === layers.length - 1) {
      scores = z;
      break;
    }
    preActivations.push(z);
    a = z.map(act.apply);
    inputs.push(a);
  }
  const { loss, probs } = softmaxCrossEntropy(scores, label);
  if (!grads) return loss;
  let dz = probs.map((q, c) => (q - (c === label ? 1 : 0)) * scale);
  for (let l = layers.length - 1; l >= 0; l--) {
    const input = inputs[l];
    const g = grads[l];
    for (let i = 0; i < input.length; i++) {
      for (let k = 0; k < dz.length; k++) g.W[i][k] += input[i] * dz[k];
    }
    for (let k = 0; k < dz.length; k++) g.b[k] += dz[k];
    if (l === 0) break;
    const W = layers[l].W;
    const z = preActivations[l - 1];
    const upstream = dz;
    dz = input.map((ai, i) => dot(W[i], upstream) * act.slope(z[i], ai));
  }
  return loss;
}
