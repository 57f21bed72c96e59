/**
 * Adamax as torch.optim.Adamax (_single_tensor_adamax; Kingma & Ba 2015, §7.1):
 *   m ← β1·m + (1 − β1)·g;  u ← max(β2·u, |g| + ε);  θ ← θ − (γ / (1 − β1ᵗ)) · m / u
 * Effective learning rate of dimension i: (γ / (1 − β1ᵗ)) / uᵢ.
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, decayedGradient, BETAS } from './optimizer';

export interface AdamaxHyperparameters extends Hyperparameters {
  lr: number;
  betas: readonly number[];
  eps: number;
  weight_decay: number;
  maximize: boolean;
}

export interface AdamaxState {
  step: number;
  expAvg: Float64Array;
  expInf: Float64Array;
}

export const adamax: Optimizer<AdamaxHyperparameters, AdamaxState> = {
  name: 'adamax',
  summary: 'Adam with the infinity norm in place of the second moment (Kingma & Ba 2015; torch.optim.Adamax)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(2e-3),
    BETAS,
    { name: 'eps', kind: 'number', default: 1e-8, check: nonNegative, description: 'added to |g|' },
    WEIGHT_DECAY(),
    MAXIMIZE,
  ],
  init: (size) => ({ step: 0, expAvg: new Float64Array(size), expInf: new Float64Array(size) }),
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const [beta1, beta2] = hyper.betas;
    const { eps, weight_decay: weightDecay, maximize } = hyper;
    state.step += 1;
    const clr = lr / (1 - beta1 ** state.step);
    const { expAvg, expInf } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize);
      expAvg[i] = expAvg[i] * beta1 + (1 - beta1) * g;
      expInf[i] = Math.max(expInf[i] * beta2, Math.abs(g) + eps);
      params[i] -= clr * (expAvg[i] / expInf[i]);
      if (effective !== null) effective[i] = clr / expInf[i];
    }
    return { evaluations: 0 };
  },
  velocity: (state) => state.expAvg,
  accumulator: (state) => state.expInf,
};
