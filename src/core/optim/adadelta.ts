/**
 * Adadelta as torch.optim.Adadelta (_single_tensor_adadelta):
 *   v ← ρv + (1 − ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;  u ← ρu + (1 − ρ)Δ²;  θ ← θ − γΔ
 * (Zeiler 2012; torch keeps a learning rate γ, default 1.)
 * Effective learning rate of dimension i: γ·√(uᵢ + ε) / √(vᵢ + ε), with u before its update.
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, closedUnitInterval, nonNegative, decayedGradient } from './optimizer';

export interface AdadeltaHyperparameters extends Hyperparameters {
  lr: number;
  rho: number;
  eps: number;
  weight_decay: number;
  maximize: boolean;
}

export interface AdadeltaState {
  step: number;
  squareAvg: Float64Array;
  accDelta: Float64Array;
}

export const adadelta: Optimizer<AdadeltaHyperparameters, AdadeltaState> = {
  name: 'adadelta',
  summary: 'step sizes from the ratio of past update and gradient magnitudes (Zeiler 2012; torch.optim.Adadelta)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(1),
    { name: 'rho', kind: 'number', default: 0.9, check: closedUnitInterval, description: 'decay of the running averages' },
    { name: 'eps', kind: 'number', default: 1e-6, check: nonNegative, description: 'added inside both square roots' },
    WEIGHT_DECAY(),
    MAXIMIZE,
  ],
  init: (size) => ({ step: 0, squareAvg: new Float64Array(size), accDelta: new Float64Array(size) }),
  accumulator: (state) => state.squareAvg,
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const { rho, eps, weight_decay: weightDecay, maximize } = hyper;
    state.step += 1;
    const { squareAvg, accDelta } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize);
      squareAvg[i] = squareAvg[i] * rho + (1 - rho) * g * g;
      const ratio = Math.sqrt(accDelta[i] + eps) / Math.sqrt(squareAvg[i] + eps);
      const delta = ratio * g;
      accDelta[i] = accDelta[i] * rho + (1 - rho) * delta * delta;
      params[i] -= lr * delta;
      if (effective !== null) effective[i] = lr * ratio;
    }
    return { evaluations: 0 };
  },
};
