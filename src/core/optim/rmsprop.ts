/**
 * RMSprop as torch.optim.RMSprop (_single_tensor_rmsprop):
 *   v ← α·v + (1 − α)·g²;  centered: ḡ ← α·ḡ + (1 − α)·g, d = √(v − ḡ²) + ε, else d = √v + ε
 *   momentum μ > 0: b ← μb + g/d, θ ← θ − γb;  else θ ← θ − γ·g/d
 * Effective learning rate of dimension i: γ / dᵢ.
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, unitInterval, decayedGradient } from './optimizer';

export interface RmspropHyperparameters extends Hyperparameters {
  lr: number;
  alpha: number;
  eps: number;
  weight_decay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export interface RmspropState {
  step: number;
  squareAvg: Float64Array;
  /** Centered only. */
  gradAvg: Float64Array;
  /** Momentum only. */
  buffer: Float64Array;
}

export const rmsprop: Optimizer<RmspropHyperparameters, RmspropState> = {
  name: 'rmsprop',
  summary: 'per-dimension rates from a moving average of squared gradients (Hinton 2012; torch.optim.RMSprop)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(1e-2),
    { name: 'alpha', kind: 'number', default: 0.99, check: unitInterval, description: 'smoothing constant of the squared-gradient average' },
    { name: 'eps', kind: 'number', default: 1e-8, check: nonNegative, description: 'added to the denominator' },
    WEIGHT_DECAY(),
    { name: 'momentum', kind: 'number', default: 0, check: nonNegative, description: 'momentum factor' },
    { name: 'centered', kind: 'boolean', default: false, description: 'normalize by the estimated variance instead of the raw second moment' },
    MAXIMIZE,
  ],
  init: (size, hyper) => ({
    step: 0,
    squareAvg: new Float64Array(size),
    gradAvg: new Float64Array(hyper.centered ? size : 0),
    buffer: new Float64Array(hyper.momentum > 0 ? size : 0),
  }),
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const { alpha, eps, weight_decay: weightDecay, momentum, centered, maximize } = hyper;
    state.step += 1;
    const { squareAvg, gradAvg, buffer } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize);
      squareAvg[i] = squareAvg[i] * alpha + (1 - alpha) * g * g;
      let average: number;
      if (centered) {
        gradAvg[i] = gradAvg[i] * alpha + (1 - alpha) * g;
        average = Math.sqrt(squareAvg[i] - gradAvg[i] * gradAvg[i]) + eps;
      } else {
        average = Math.sqrt(squareAvg[i]) + eps;
      }
      if (momentum > 0) {
        buffer[i] = buffer[i] * momentum + g / average;
        params[i] -= lr * buffer[i];
      } else {
        params[i] -= lr * (g / average);
      }
      if (effective !== null) effective[i] = lr / average;
    }
    return { evaluations: 0 };
  },
  velocity: (state) => (state.buffer.length > 0 ? state.buffer : null),
  accumulator: (state) => state.squareAvg,
};
