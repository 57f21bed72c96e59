/**
 * Batch normalization in training mode (CS231n assignment 2), as a layer
 * with inputs x (N×D), gamma (D) and beta (D). Every column (feature) is
 * normalized with the mean and variance of the batch:
 *
 *   μ = 1/N Σ_i x_i,   σ² = 1/N Σ_i (x_i − μ)²,   x̂ = (x − μ) / √(σ² + ε)
 *   y = γ ⊙ x̂ + β
 *
 * Backward, with dx̂ = dy ⊙ γ (all sums over the batch, per column):
 *
 *   dβ = Σ_i dy_i,   dγ = Σ_i dy_i ⊙ x̂_i
 *   dx = 1/√(σ² + ε) · (dx̂ − mean(dx̂) − x̂ ⊙ mean(dx̂ ⊙ x̂))
 *
 * The two subtracted terms are there because μ and σ² are themselves
 * functions of every x_i: −mean(dx̂) is the path through μ, −x̂·mean(dx̂ x̂)
 * the path through σ².
 *
 *   gradlens check examples/batchnorm.grad.ts
 */
import { defineLayer } from 'gradlens';

type Inputs = { x: number[][]; gamma: number[]; beta: number[] };
type Matrix = number[][];

const BN_EPS = 1e-5;

/** Per-column statistics and the normalized input x̂. */
function normalize(x: Matrix): { xhat: Matrix; invStd: number[] } {
  const n = x.length;
  const d = x[0].length;
  const mean = new Array<number>(d).fill(0);
  const variance = new Array<number>(d).fill(0);
  for (const row of x) row.forEach((v, j) => (mean[j] += v / n));
  for (const row of x) row.forEach((v, j) => (variance[j] += ((v - mean[j]) * (v - mean[j])) / n));
  const invStd = variance.map((v) => 1 / Math.sqrt(v + BN_EPS));
  return { xhat: x.map((row) => row.map((v, j) => (v - mean[j]) * invStd[j])), invStd };
}

function batchNormForward({ x, gamma, beta }: Inputs): Matrix {
  const { xhat } = normalize(x);
  return xhat.map((row) => row.map((v, j) => gamma[j] * v + beta[j]));
}

function columnSum(a: Matrix): number[] {
  return a[0].map((_, j) => a.reduce((s, row) => s + row[j], 0));
}

function columnMean(a: Matrix): number[] {
  return columnSum(a).map((s) => s / a.length);
}

/** dγ = Σ_i dy_i ⊙ x̂_i and dβ = Σ_i dy_i (the same in both versions below). */
function parameterGradients(dy: Matrix, xhat: Matrix): { gamma: number[]; beta: number[] } {
  return { gamma: columnSum(dy.map((row, i) => row.map((g, j) => g * xhat[i][j]))), beta: columnSum(dy) };
}

function startingPoint(): Inputs {
  return {
    x: [
      [0.5, -0.8],
      [-0.3, 0.4],
      [1.1, 0.1],
      [0.2, -0.2],
    ],
    gamma: [1.2, 0.7],
    beta: [0.1, -0.3],
  };
}

/** Correct batch-norm backward. */
export const batchNorm = defineLayer({
  description: 'batch normalization (training mode), N=4, D=2',
  inputs: startingPoint(),
  forward: batchNormForward,
  backward(inputs, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    const { xhat, invStd } = normalize(inputs.x);
    const dxhat = dy.map((row) => row.map((g, j) => g * inputs.gamma[j]));
    const meanDxhat = columnMean(dxhat);
    const meanDxhatXhat = columnMean(dxhat.map((row, i) => row.map((g, j) => g * xhat[i][j])));
    const dx = dxhat.map((row, i) => row.map((g, j) => invStd[j] * (g - meanDxhat[j] - xhat[i][j] * meanDxhatXhat[j])));
    return { x: dx, ...parameterGradients(dy, xhat) };
  },
});

/**
 * BUG: the batch mean μ is treated as a constant, so the −mean(dx̂) term (the
 * gradient flowing through μ) is missing from dx. A common slip when
 * deriving the backward pass on paper: μ "looks like" a statistic, not a
 * function of x. Each dx[i][j] is off by γ_j · mean_i(dy[i][j]) / √(σ_j² + ε),
 * which is not zero for a generic upstream gradient, so all eight elements
 * x[0,0] … x[3,1] fail; dgamma and dbeta do not involve this term and pass.
 * (The bug hides when the upstream gradient has zero column means, which is
 * why a random dy is used.)
 * FIX: subtract mean(dx̂) per column, as in batchNorm.
 */
export const batchNormMeanTreatedAsConstant = defineLayer({
  description: 'BUG: backward ignores that the batch mean depends on x',
  inputs: startingPoint(),
  forward: batchNormForward,
  backward(inputs, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    const { xhat, invStd } = normalize(inputs.x);
    const dxhat = dy.map((row) => row.map((g, j) => g * inputs.gamma[j]));
    const meanDxhatXhat = columnMean(dxhat.map((row, i) => row.map((g, j) => g * xhat[i][j])));
    // BUG: missing "- meanDxhat[j]" (the path through μ).
    const dx = dxhat.map((row, i) => row.map((g, j) => invStd[j] * (g - xhat[i][j] * meanDxhatXhat[j])));
    return { x: dx, ...parameterGradients(dy, xhat) };
  },
});
