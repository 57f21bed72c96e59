/**
 * Damped Newton's method: θ ← θ − γ·(H + λI)⁻¹·g, with H formed from n
 * Hessian-vector products (the problem's hvp, else central differences of
 * grad) and inverted through its eigendecomposition. Where H + λI is not
 * positive definite (a saddle, a maximum) the pure Newton step would climb,
 * so those eigenvalues are replaced by their magnitudes (saddle-free Newton,
 * Dauphin et al. 2014) and the step says so in a warning. Dense: n ≤ 500.
 */
import { DENSE_EIGEN_LIMIT, symmetricEigen } from '../analysis';
import { dot } from '../vector';
import { type Hyperparameters, LR, type Optimizer, nonNegative } from './optimizer';

export interface NewtonHyperparameters extends Hyperparameters {
  lr: number;
  damping: number;
}

export interface NewtonState {
  step: number;
  /** Smallest eigenvalue of H + λI at the last step (before any fix). */
  lastMinEigenvalue: number | null;
}

export const newton: Optimizer<NewtonHyperparameters, NewtonState> = {
  name: 'newton',
  summary: "damped Newton's method from the exact (hvp) or finite-difference Hessian; saddle-free where it is not positive definite",
  adaptive: true,
  fullBatch: true,
  hyperparameters: [
    LR(1),
    { name: 'damping', kind: 'number', default: 0, check: nonNegative, description: 'λ added to the Hessian (Levenberg–Marquardt)' },
  ],
  init: () => ({ step: 0, lastMinEigenvalue: null }),
  async step(context, state) {
    const { params, grad, lr, hyper, closure } = context;
    const n = params.length;
    if (n > DENSE_EIGEN_LIMIT) throw new RangeError(`newton forms the Hessian: at most ${DENSE_EIGEN_LIMIT} parameters (this problem has ${n}); use lbfgs`);
    state.step += 1;
    const columns: Float64Array[] = [];
    const unit = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      unit.fill(0);
      unit[i] = 1;
      columns.push(await closure.hessianVectorProduct(params, unit));
    }
    const hessian = columns.map((_, i) => columns.map((column, j) => (columns[i][j] + column[i]) / 2 + (i === j ? hyper.damping : 0)));
    const { values, vectors } = symmetricEigen(hessian);
    const largest = Math.max(...values.map(Math.abs), 0);
    const floor = Math.max(largest * 1e-12, Number.MIN_VALUE);
    state.lastMinEigenvalue = values.length > 0 ? values[0] : null;
    let warning: string | undefined;
    if (values.length > 0 && values[0] <= 0) {
      warning = `the Hessian${hyper.damping > 0 ? ' + damping' : ''} is not positive definite (smallest eigenvalue ${values[0].toPrecision(3)}): stepping with |eigenvalues| (saddle-free Newton)`;
    }
    // step = V · diag(1/|μ|) · Vᵀ g, and per direction its effective rate γ/|μ|.
    const delta = new Float64Array(n);
    values.forEach((value, k) => {
      const coefficient = dot(vectors[k], grad) / Math.max(Math.abs(value), floor);
      const vector = vectors[k];
      for (let i = 0; i < n; i++) delta[i] += coefficient * vector[i];
    });
    for (let i = 0; i < n; i++) params[i] -= lr * delta[i];
    const effective = context.effectiveLearningRate;
    if (effective) {
      // The rate along each coordinate: γ·(H⁻¹)ᵢᵢ, the diagonal of the (fixed) inverse.
      effective.fill(0);
      values.forEach((value, k) => {
        const vector = vectors[k];
        for (let i = 0; i < n; i++) effective[i] += (lr * vector[i] * vector[i]) / Math.max(Math.abs(value), floor);
      });
    }
    return { evaluations: n, warning };
  },
};
