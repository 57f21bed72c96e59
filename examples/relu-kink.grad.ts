/**
 * Kinks: where a gradient check "fails" although the code is right.
 *
 * The CS231n notes on gradient checking warn about kinks, the points where
 * the loss is not differentiable: ReLU max(0, z) at z = 0, the SVM hinge
 * max(0, margin) at margin = 0, max-pooling when two inputs tie. There the
 * loss has different slopes on the left and on the right, and
 *   - the analytic gradient picks one of them (here ReLU'(0) = 0, the usual
 *     convention `z > 0 ? g : 0`),
 *   - the central difference (f(x+h) − f(x−h)) / 2h averages the two,
 * so the two disagree even though the backward pass is fine. GradLens
 * recognizes the pattern (the one-sided differences disagree with each other
 * and the analytic value lies between them) and reports `kink` instead of
 * `fail`; kinks do not make the check fail unless you pass --strict.
 *
 * In a real network a pre-activation landing exactly on 0 is rare with
 * random weights, but it happens with integer-valued or zero-initialized
 * parameters, and it happens all the time in tests written with round
 * numbers. When you see `kink`, move the point a little (or check fewer data
 * points, as the CS231n notes suggest) rather than "fixing" the gradient.
 *
 * The model: one ReLU layer read out by fixed weights v,
 *   z = W x + b,   f = v · max(0, z),   df/dz = v ⊙ [z > 0]
 *   df/dW = (df/dz) xᵀ,   df/db = df/dz
 *
 *   gradlens check examples/relu-kink.grad.ts
 */
import { defineProblem } from 'gradlens';

type Params = { W: number[][]; b: number[] };

// Powers of two, so that W x + b below is computed exactly.
const x = [1, 2];
const v = [0.75, -0.5];

function preActivation(p: Params): number[] {
  return p.W.map((row, k) => row.reduce((s, w, j) => s + w * x[j], p.b[k]));
}

function reluLoss(p: Params): number {
  return preActivation(p).reduce((s, z, k) => s + v[k] * Math.max(0, z), 0);
}

function reluGradient(p: Params): { W: number[][]; b: number[] } {
  const dz = preActivation(p).map((z, k) => (z > 0 ? v[k] : 0)); // ReLU'(0) taken as 0
  return { W: dz.map((g) => x.map((xj) => g * xj)), b: dz };
}

/**
 * Exactly at a kink: z[0] = 0.5·1 + (−0.25)·2 + 0 = 0. The gradient is
 * correct everywhere the loss is differentiable, but every parameter that
 * moves z[0] (W[0,0], W[0,1] and b[0]) sits on the kink: for b[0] the slope
 * is 0.75 to the right and 0 to the left, the central difference says 0.375
 * and the analytic gradient says 0. GradLens reports these three elements
 * as kinks, the verdict is `kink`, and W[1,0], W[1,1], b[1] pass.
 */
export const reluAtKink = defineProblem({
  description: 'ReLU evaluated exactly at z = 0: verdict kink',
  params: {
    W: [
      [0.5, -0.25],
      [0.25, 0.375],
    ],
    b: [0, 0.125],
  },
  f: reluLoss,
  grad: reluGradient,
});

/** The same code a little away from the kink (z[0] = 0.05): a clean pass. */
export const reluAwayFromKink = defineProblem({
  description: 'the same ReLU loss with z[0] = 0.05: passes',
  params: {
    W: [
      [0.5, -0.25],
      [0.25, 0.375],
    ],
    b: [0.05, 0.125],
  },
  f: reluLoss,
  grad: reluGradient,
});
