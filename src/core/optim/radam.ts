/**
 * RAdam as torch.optim.RAdam (_single_tensor_radam; Liu et al. 2020), with
 * the adaptive term √(1 − β2ᵗ) / (√v + ε) of the current torch code:
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  m̂ = m / (1 − β1ᵗ)
 *   ρ∞ = 2/(1 − β2) − 1,  ρₜ = ρ∞ − 2tβ2ᵗ/(1 − β2ᵗ)
 *   ρₜ > 5: r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ)),  θ ← θ − m̂·γ·(√(1 − β2ᵗ)/(√v + ε))·r
 *   else:   θ ← θ − m̂·γ  (un-adapted momentum SGD while the variance estimate is unreliable)
 * Effective learning rate of dimension i (per unit of m): γ·√(1 − β2ᵗ)·r/((√vᵢ + ε)(1 − β1ᵗ)), or γ/(1 − β1ᵗ).
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, decayedGradient, BETAS, DECOUPLED_WEIGHT_DECAY } from './optimizer';

export interface RadamHyperparameters extends Hyperparameters {
  lr: number;
  betas: readonly number[];
  eps: number;
  weight_decay: number;
  decoupled_weight_decay: boolean;
  maximize: boolean;
}

export interface RadamState {
  step: number;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
}

export const radam: Optimizer<RadamHyperparameters, RadamState> = {
  name: 'radam',
  summary: 'Adam with a rectified warm-up of the adaptive rate (Liu et al. 2020; torch.optim.RAdam)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(1e-3),
    BETAS,
    { name: 'eps', kind: 'number', default: 1e-8, check: nonNegative, description: 'added to √v' },
    WEIGHT_DECAY(),
    DECOUPLED_WEIGHT_DECAY,
    MAXIMIZE,
  ],
  init: (size) => ({ step: 0, expAvg: new Float64Array(size), expAvgSq: new Float64Array(size) }),
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const [beta1, beta2] = hyper.betas;
    const { eps, weight_decay: weightDecay, maximize } = hyper;
    state.step += 1;
    const step = state.step;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
    const rectified = rhoT > 5;
    const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
    const biasCorrection2Sqrt = biasCorrection2 ** 0.5;
    const { expAvg, expAvgSq } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize, hyper.decoupled_weight_decay ? lr : null);
      expAvg[i] = expAvg[i] * beta1 + (1 - beta1) * g;
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
      const corrected = expAvg[i] / biasCorrection1;
      if (rectified) {
        const adaptive = biasCorrection2Sqrt / (Math.sqrt(expAvgSq[i]) + eps);
        params[i] -= corrected * lr * adaptive * rect;
        if (effective !== null) effective[i] = (lr * adaptive * rect) / biasCorrection1;
      } else {
        params[i] -= corrected * lr;
        if (effective !== null) effective[i] = lr / biasCorrection1;
      }
    }
    return { evaluations: 0 };
  },
  velocity: (state) => state.expAvg,
  accumulator: (state) => state.expAvgSq,
};
