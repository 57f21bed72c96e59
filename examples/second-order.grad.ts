/**
 * Second order: checking Hessian-vector products (for Newton and
 * Newton-CG methods, trust regions, curvature estimates).
 *
 * A problem may export `hvp(p, v)`, the product H(p)·v of the Hessian of f
 * with a vector v of the structure of params. `--order 2` checks it the way
 * torch.autograd.gradgradcheck does: for a fixed random u it compares
 * hvp(p, u) with finite differences of u · grad(p), element by element. An
 * element i fails when row i of H·u is wrong.
 *
 * All gradients here are correct, so the default (order 1) check passes for
 * every export; only `--order 2` catches the two buggy Hessian-vector
 * products:
 *
 *   gradlens check examples/second-order.grad.ts
 *   gradlens check examples/second-order.grad.ts --order 2
 */
import { defineProblem } from 'gradlens';

// ---------------------------------------------------------------------------
// The Rosenbrock function in 4 dimensions (the classic valley, with a gentler
// B = 10 instead of 100 so the numbers stay moderate):
//
//   f(x) = Σ_{i<3} B (x_{i+1} − x_i²)² + (A − x_i)²
//
// Its Hessian is symmetric and tridiagonal:
//   H[i][i]   = [i<3] (12 B x_i² − 4 B x_{i+1} + 2) + [i>0] 2 B
//   H[i][i+1] = H[i+1][i] = −4 B x_i
// ---------------------------------------------------------------------------

type Vector = { x: number[] };

const A = 1;
const B = 10;

function rosenbrockValue({ x }: Vector): number {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) sum += B * (x[i + 1] - x[i] * x[i]) ** 2 + (A - x[i]) ** 2;
  return sum;
}

function rosenbrockGradient({ x }: Vector): Vector {
  const g = new Array<number>(x.length).fill(0);
  for (let i = 0; i + 1 < x.length; i++) {
    const valley = x[i + 1] - x[i] * x[i];
    g[i] += -4 * B * x[i] * valley - 2 * (A - x[i]);
    g[i + 1] += 2 * B * valley;
  }
  return { x: g };
}

function rosenbrockDiagonal(x: number[]): number[] {
  return x.map((xi, i) => (i + 1 < x.length ? 12 * B * xi * xi - 4 * B * x[i + 1] + 2 : 0) + (i > 0 ? 2 * B : 0));
}

const ROSENBROCK_START = [0.5, 0.8, -0.3, 0.6];

/** Correct: H·v with both off-diagonal entries of every coupled pair. */
export const rosenbrock = defineProblem({
  description: 'Rosenbrock function in 4-D with its Hessian-vector product',
  params: { x: [...ROSENBROCK_START] },
  f: rosenbrockValue,
  grad: rosenbrockGradient,
  hvp({ x }, v) {
    const diagonal = rosenbrockDiagonal(x);
    const out = x.map((_, i) => diagonal[i] * v.x[i]);
    for (let i = 0; i + 1 < x.length; i++) {
      const coupling = -4 * B * x[i]; // H[i][i+1] = H[i+1][i]
      out[i] += coupling * v.x[i + 1];
      out[i + 1] += coupling * v.x[i];
    }
    return { x: out };
  },
});

/**
 * BUG: the Hessian-vector product only uses the upper triangle. For each
 * coupled pair it adds H[i][i+1]·v[i+1] to row i but forgets the symmetric
 * term H[i+1][i]·v[i] in row i+1 (the loop was written with the matrix
 * H[i][j], j ≥ i, in mind). Row 0 is complete, rows 1, 2, 3 each miss
 * −4B·x[i−1]·v[i−1] (non-zero, since no x is 0), so x[1], x[2] and x[3]
 * fail at order 2 and x[0] passes.
 * FIX: add the coupling to both rows: out[i+1] += H[i+1][i] · v[i].
 */
export const rosenbrockHvpUpperTriangleOnly = defineProblem({
  description: 'BUG: hvp uses only the upper triangle of the symmetric Hessian',
  params: { x: [...ROSENBROCK_START] },
  f: rosenbrockValue,
  grad: rosenbrockGradient,
  hvp({ x }, v) {
    const diagonal = rosenbrockDiagonal(x);
    const out = x.map((_, i) => diagonal[i] * v.x[i]);
    for (let i = 0; i + 1 < x.length; i++) {
      out[i] += -4 * B * x[i] * v.x[i + 1];
      // BUG: missing out[i + 1] += -4 * B * x[i] * v.x[i];
    }
    return { x: out };
  },
});

// ---------------------------------------------------------------------------
// L2-regularized logistic regression (labels 0/1), only w regularized:
//
//   s_i = x_i·w + b,   f = 1/N Σ_i [log(1 + e^{s_i}) − y_i s_i] + λ/2 |w|²
//   ∂f/∂w = 1/N Σ_i (σ(s_i) − y_i) x_i + λ w,   ∂f/∂b = 1/N Σ_i (σ(s_i) − y_i)
//   H·v  = 1/N Σ_i σ(s_i)(1 − σ(s_i)) (x_i·v_w + v_b) [x_i; 1] + [λ v_w; 0]
// ---------------------------------------------------------------------------

type Logistic = { w: number[]; b: number };

const LAMBDA = 0.1;
const FEATURES: number[][] = [
  [0.7, -0.2, 0.4],
  [-0.5, 0.6, 0.1],
  [0.3, 0.8, -0.6],
  [-0.9, -0.3, 0.5],
  [0.4, -0.7, -0.2],
  [-0.1, 0.5, 0.9],
];
const TARGETS = [1, 0, 1, 0, 1, 0];
const M = FEATURES.length;

function sigmoid(s: number): number {
  return 1 / (1 + Math.exp(-s));
}

/** log(1 + e^s) without overflow for large |s|. */
function softplus(s: number): number {
  return Math.max(s, 0) + Math.log1p(Math.exp(-Math.abs(s)));
}

function logits(p: Logistic): number[] {
  return FEATURES.map((xi) => xi.reduce((s, v, j) => s + v * p.w[j], p.b));
}

function logisticValue(p: Logistic): number {
  const s = logits(p);
  let loss = 0;
  for (let i = 0; i < M; i++) loss += (softplus(s[i]) - TARGETS[i] * s[i]) / M;
  return loss + (LAMBDA / 2) * p.w.reduce((acc, wj) => acc + wj * wj, 0);
}

function logisticGradient(p: Logistic): Logistic {
  const s = logits(p);
  const w = p.w.map((wj) => LAMBDA * wj);
  let b = 0;
  for (let i = 0; i < M; i++) {
    const error = (sigmoid(s[i]) - TARGETS[i]) / M;
    FEATURES[i].forEach((xij, j) => (w[j] += error * xij));
    b += error;
  }
  return { w, b };
}

/** The data term of H·v: 1/N Σ_i σ'(s_i) (x_i·v_w + v_b) [x_i; 1]. */
function dataCurvature(p: Logistic, v: Logistic): Logistic {
  const s = logits(p);
  const w = new Array<number>(p.w.length).fill(0);
  let b = 0;
  for (let i = 0; i < M; i++) {
    const q = sigmoid(s[i]);
    const r = (q * (1 - q) * FEATURES[i].reduce((acc, xij, j) => acc + xij * v.w[j], v.b)) / M;
    FEATURES[i].forEach((xij, j) => (w[j] += r * xij));
    b += r;
  }
  return { w, b };
}

function logisticStart(): Logistic {
  return { w: [0.3, -0.5, 0.2], b: 0.1 };
}

/** Correct: data curvature plus the λI of the regularizer (on w only). */
export const logisticRegression = defineProblem({
  description: 'L2-regularized logistic regression with its Hessian-vector product',
  params: logisticStart(),
  f: logisticValue,
  grad: logisticGradient,
  hvp(p, v) {
    const { w, b } = dataCurvature(p, v);
    return { w: w.map((wj, j) => wj + LAMBDA * v.w[j]), b };
  },
});

/**
 * BUG: the Hessian-vector product forgets the regularizer. grad includes
 * λ·w, so the Hessian includes λ·I on the w block, and H·v must include
 * λ·v_w. Without it every w element is off by λ·u_j (u the random probe,
 * |u_j| ≥ 1), so w[0], w[1] and w[2] fail at order 2; b is not regularized,
 * its row has no λ term, and it passes.
 * FIX: add LAMBDA * v.w[j] to the w part, as in logisticRegression.
 */
export const logisticRegressionHvpMissingL2 = defineProblem({
  description: 'BUG: hvp without the λ·v term of the L2 regularizer',
  params: logisticStart(),
  f: logisticValue,
  grad: logisticGradient,
  hvp: dataCurvature, // BUG: should add LAMBDA * v.w to the w part
});
