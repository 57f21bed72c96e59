/**
 * Adam and AdamW as in torch.optim (_single_tensor_adam / adamw):
 *   g ← ∇f(θ) + λθ   (Adam)      or   θ ← θ(1 − γλ)   (AdamW, decoupled)
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   v̂ ← max(v̂, v) (AMSGrad, raw second moment as in current torch code)
 *   θ ← θ − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * `bias_correction: false` is the teaching toggle that drops both
 * (1 − βᵗ) factors, showing why they are needed: without them the first
 * steps are off by √(1 − β₂ᵗ)/(1 − β₁ᵗ) (3.2 × lr at step 1 with the default betas).
 * Effective learning rate of dimension i: (γ / (1 − β1ᵗ)) / (√vᵢ / √(1 − β2ᵗ) + ε).
 */
import { type Hyperparameters, LR, MAXIMIZE, type Optimizer, WEIGHT_DECAY, nonNegative, decayedGradient, BETAS } from './optimizer';

export interface AdamHyperparameters extends Hyperparameters {
  lr: number;
  betas: readonly number[];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  maximize: boolean;
  bias_correction: boolean;
}

export interface AdamState {
  step: number;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
  /** AMSGrad's running maximum of expAvgSq; empty otherwise. */
  maxExpAvgSq: Float64Array;
}

function makeAdam(name: 'adam' | 'adamw', decoupled: boolean): Optimizer<AdamHyperparameters, AdamState> {
  return {
    name,
    summary: decoupled
      ? 'Adam with decoupled weight decay (Loshchilov & Hutter 2019; torch.optim.AdamW)'
      : 'adaptive moments with bias correction (Kingma & Ba 2015; torch.optim.Adam)',
    adaptive: true,
    fullBatch: false,
    hyperparameters: [
      LR(1e-3),
      BETAS,
      { name: 'eps', kind: 'number', default: 1e-8, check: nonNegative, description: 'added to the denominator' },
      WEIGHT_DECAY(decoupled ? 1e-2 : 0),
      { name: 'amsgrad', kind: 'boolean', default: false, description: 'use the maximum of past second moments (AMSGrad)' },
      MAXIMIZE,
      { name: 'bias_correction', kind: 'boolean', default: true, description: 'divide by (1 − βᵗ); off shows why it is needed' },
    ],
    init: (size, hyper) => ({
      step: 0,
      expAvg: new Float64Array(size),
      expAvgSq: new Float64Array(size),
      maxExpAvgSq: new Float64Array(hyper.amsgrad ? size : 0),
    }),
    step(context, state) {
      const { params, grad, lr, hyper } = context;
      const [beta1, beta2] = hyper.betas;
      const { eps, weight_decay: weightDecay, amsgrad, maximize } = hyper;
      state.step += 1;
      const biasCorrection1 = hyper.bias_correction ? 1 - beta1 ** state.step : 1;
      const biasCorrection2Sqrt = hyper.bias_correction ? Math.sqrt(1 - beta2 ** state.step) : 1;
      const stepSize = lr / biasCorrection1;
      const { expAvg, expAvgSq, maxExpAvgSq } = state;
      const effective = context.effectiveLearningRate;
      // Hoisted constants and locals: the loop is memory-bound (bench/optim.ts), so read each array once.
      const oneMinusBeta1 = 1 - beta1;
      const oneMinusBeta2 = 1 - beta2;
      const decoupledLr = decoupled ? lr : null;
      const size = params.length;
      for (let i = 0; i < size; i++) {
        const g = decayedGradient(params, grad, i, weightDecay, maximize, decoupledLr);
        const m = expAvg[i] * beta1 + oneMinusBeta1 * g;
        const v = expAvgSq[i] * beta2 + oneMinusBeta2 * g * g;
        expAvg[i] = m;
        expAvgSq[i] = v;
        let second = v;
        if (amsgrad) second = maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], v);
        const denominator = Math.sqrt(second) / biasCorrection2Sqrt + eps;
        params[i] -= stepSize * (m / denominator);
        if (effective !== null) effective[i] = stepSize / denominator;
      }
      return { evaluations: 0 };
    },
    velocity: (state) => state.expAvg,
    // AMSGrad divides by the running maximum.
    accumulator: (state) => (state.maxExpAvgSq.length > 0 ? state.maxExpAvgSq : state.expAvgSq),
  };
}

export const adam = makeAdam('adam', false);
export const adamw = makeAdam('adamw', true);
