/**
 * Linear regression with a mean-squared-error loss.
 *
 *   f(w, b) = 1/m · Σ_{i ∈ batch} (x_i·w + b − y_i)²       (m = batch size)
 *   ∂f/∂w   = 2/m · Σ r_i x_i,   ∂f/∂b = 2/m · Σ r_i       (r_i = x_i·w + b − y_i)
 *   H       = 2/m · [X 1]ᵀ[X 1]   (constant: the loss is quadratic)
 *
 * The data set is tiny and generated deterministically below, so every run
 * checks exactly the same numbers. `data: { size: N }` declares that f and
 * grad accept a mini-batch (an array of sample indices); called without one
 * they use the full batch.
 *
 *   gradlens check examples/linear-regression.grad.ts
 *   gradlens check examples/linear-regression.grad.ts --order 2   # checks hvp too
 */
import { defineProblem } from 'gradlens';

type Params = { w: number[]; b: number };

/**
 * A tiny seeded generator (a 32-bit linear congruential generator with the
 * Numerical Recipes constants): numbers in [0, 1) that look random but are
 * the same on every run. Never use Math.random in a gradient check: the
 * loss must be the same function every time it is called.
 */
function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const N = 8;
const D = 3;
const TRUE_W = [0.5, -0.3, 0.8];
const TRUE_B = 0.1;

// x_i uniform in [-1, 1)^3, y_i = x_i·TRUE_W + TRUE_B + small noise.
const next = seededUniform(231);
const X: number[][] = [];
const Y: number[] = [];
for (let i = 0; i < N; i++) {
  const x = Array.from({ length: D }, () => 2 * next() - 1);
  Y.push(dot(x, TRUE_W) + TRUE_B + 0.05 * (2 * next() - 1));
  X.push(x);
}

const ALL_SAMPLES = Array.from({ length: N }, (_, i) => i);

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += a[k] * b[k];
  return sum;
}

function residuals(p: Params, batch: readonly number[]): number[] {
  return batch.map((i) => dot(X[i], p.w) + p.b - Y[i]);
}

function meanSquaredError(p: Params, batch: readonly number[] = ALL_SAMPLES): number {
  const r = residuals(p, batch);
  let sum = 0;
  for (const ri of r) sum += ri * ri;
  return sum / batch.length;
}

// Away from the least-squares solution, so every gradient element is clearly non-zero.
const START: Params = { w: [0.2, 0.1, -0.4], b: 0.3 };

function startingPoint(): Params {
  return { w: [...START.w], b: START.b };
}

/** Correct: gradient and Hessian-vector product of the mean squared error. */
export const linearRegression = defineProblem({
  description: 'linear regression, mean squared error over 8 samples (mini-batches supported)',
  params: startingPoint(),
  data: { size: N },
  f: meanSquaredError,
  grad(p, batch = ALL_SAMPLES) {
    const r = residuals(p, batch);
    const m = batch.length;
    const w = new Array<number>(D).fill(0);
    let b = 0;
    batch.forEach((i, k) => {
      for (let j = 0; j < D; j++) w[j] += (2 / m) * r[k] * X[i][j];
      b += (2 / m) * r[k];
    });
    return { w, b };
  },
  // H·v = 2/N · [X 1]ᵀ ([X 1] v) over the full batch (hvp takes no batch):
  // no need to build the (D+1)×(D+1) Hessian. It does not depend on the
  // parameters, hence the unused `_p`.
  hvp(_p, v) {
    const w = new Array<number>(D).fill(0);
    let b = 0;
    for (let i = 0; i < N; i++) {
      const xv = dot(X[i], v.w) + v.b;
      for (let j = 0; j < D; j++) w[j] += (2 / N) * X[i][j] * xv;
      b += (2 / N) * xv;
    }
    return { w, b };
  },
});

/**
 * BUG: the gradient sums the per-sample gradients but forgets the 1/m of the
 * mean (m = batch size) that f has. Every element comes out m times too large
 * (8 times with the full batch), so all of w[0], w[1], w[2] and b fail.
 * FIX: divide by batch.length, exactly as f does (see linearRegression).
 */
export const linearRegressionMissingMean = defineProblem({
  description: 'BUG: gradient missing the 1/m of the mean',
  params: startingPoint(),
  data: { size: N },
  f: meanSquaredError,
  grad(p, batch = ALL_SAMPLES) {
    const r = residuals(p, batch);
    const w = new Array<number>(D).fill(0);
    let b = 0;
    batch.forEach((i, k) => {
      for (let j = 0; j < D; j++) w[j] += 2 * r[k] * X[i][j]; // BUG: should be (2 / m) * ...
      b += 2 * r[k]; // BUG: should be (2 / m) * r[k]
    });
    return { w, b };
  },
});
