/**
 * NAdam as torch.optim.NAdam (_single_tensor_nadam; Dozat 2016), with the
 * μ product running to t+1 as documented (torch ≥ 2.0):
 *   μₜ = β1(1 − ½·0.96^(t·ψ)),  μₜ₊₁ = β1(1 − ½·0.96^((t+1)·ψ)),  Π ← Π·μₜ
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  d = √(v / (1 − β2ᵗ)) + ε
 *   θ ← θ − γ(1 − μₜ)/(1 − Π) · g/d − γ·μₜ₊₁/(1 − Π·μₜ₊₁) · m/d
 * Effective learning rate of dimension i: (γ(1 − μₜ)/(1 − Π) + γμₜ₊₁/(1 − Πμₜ₊₁)) / dᵢ.
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, decayedGradient, BETAS, DECOUPLED_WEIGHT_DECAY } from './optimizer';

export interface NadamHyperparameters extends Hyperparameters {
  lr: number;
  betas: readonly number[];
  eps: number;
  weight_decay: number;
  momentum_decay: number;
  decoupled_weight_decay: boolean;
  maximize: boolean;
}

export interface NadamState {
  step: number;
  muProduct: number;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
}

export const nadam: Optimizer<NadamHyperparameters, NadamState> = {
  name: 'nadam',
  summary: 'Adam with Nesterov momentum (Dozat 2016; torch.optim.NAdam)',
  adaptive: true,
  fullBatch: false,
  hyperparameters: [
    LR(2e-3),
    BETAS,
    { name: 'eps', kind: 'number', default: 1e-8, check: nonNegative, description: 'added to the denominator' },
    WEIGHT_DECAY(),
    { name: 'momentum_decay', kind: 'number', default: 4e-3, check: nonNegative, description: 'ψ in the momentum schedule μₜ' },
    DECOUPLED_WEIGHT_DECAY,
    MAXIMIZE,
  ],
  init: (size) => ({ step: 0, muProduct: 1, expAvg: new Float64Array(size), expAvgSq: new Float64Array(size) }),
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    const [beta1, beta2] = hyper.betas;
    const { eps, weight_decay: weightDecay, momentum_decay: momentumDecay, maximize } = hyper;
    state.step += 1;
    const step = state.step;
    const biasCorrection2 = 1 - beta2 ** step;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentumDecay));
    state.muProduct *= mu;
    const muProductNext = state.muProduct * muNext;
    const gradientStep = (lr * (1 - mu)) / (1 - state.muProduct);
    const momentumStep = (lr * muNext) / (1 - muProductNext);
    const { expAvg, expAvgSq } = state;
    const effective = context.effectiveLearningRate;
    for (let i = 0; i < params.length; i++) {
      const g = decayedGradient(params, grad, i, weightDecay, maximize, hyper.decoupled_weight_decay ? lr : null);
      expAvg[i] = expAvg[i] * beta1 + (1 - beta1) * g;
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
      const denominator = Math.sqrt(expAvgSq[i] / biasCorrection2) + eps;
      params[i] -= gradientStep * (g / denominator);
      params[i] -= momentumStep * (expAvg[i] / denominator);
      if (effective !== null) effective[i] = (gradientStep + momentumStep) / denominator;
    }
    return { evaluations: 0 };
  },
  velocity: (state) => state.expAvg,
  accumulator: (state) => state.expAvgSq,
};
