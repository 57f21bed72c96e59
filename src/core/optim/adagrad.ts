/**
 * Adagrad as torch.optim.Adagrad (_single_tensor_adagrad):
 *   γₜ = γ / (1 + (t − 1)·lr_decay);  s ← s + g²  (s starts at initial_accumulator_value)
 *   θ ← θ − γₜ · g / (√s + ε)
 * The course notes' AdaGrad adds δ = 1e-7 outside the square root too: that is `--eps 1e-7`.
 * Effective learning rate of dimension i: γₜ / (√sᵢ + ε).
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, decayedGradient } from './optimizer';

export interface AdagradHyperparameters extends Hyperparameters {
  lr: number;
  lr_decay: number;
  weight_decay: number;
  initial_accumulator_value: number;
  eps: number;
  maximize: boolean;
}

export interface AdagradState {
  step: number;
  sum: Float64Array;
}

export const adagrad: Optimizer<AdagradHyperparameters, AdagradState> = {
  name: 'adagrad',
  summary: 'per-dimension rates from the sum of squared gradients (Duchi et al. 2011; torch.optim.Adagrad)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(1e-2),
    { name: 'lr_decay', kind: 'number', default: 0, check: nonNegative, description: 'learning-rate decay per step' },
    WEIGHT_DECAY(),
    { name: 'initial_accumulator_value', kind: 'number', default: 0, check: nonNegative, description: 'starting value of the sum of squares' },
    { name: 'eps', kind: 'number', default: 1e-10, check: nonNegative, description: 'added to √s (outside the square root)' },
    MAXIMIZE,
  ],
  init: (size, hyper) => ({ step: 0, sum: new Float64Array(size).fill(hyper.initial_accumulator_value) }),
  accumulator: (state) => state.sum,
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const { weight_decay: weightDecay, eps, maximize } = hyper;
    state.step += 1;
    const clr = lr / (1 + (state.step - 1) * hyper.lr_decay);
    const { sum } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize);
      sum[i] += g * g;
      const std = Math.sqrt(sum[i]) + eps;
      params[i] -= clr * (g / std);
      if (effective !== null) effective[i] = clr / std;
    }
    return { evaluations: 0 };
  },
};
