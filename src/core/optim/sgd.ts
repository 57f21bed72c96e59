/**
 * SGD with momentum, dampening, Nesterov and weight decay, exactly as
 * torch.optim.SGD (_single_tensor_sgd):
 *   g ← ∇f(θ) + λθ;  b ← g at the first step, else μb + (1 − τ)g;
 *   g ← g + μb (Nesterov) or b;  θ ← θ − γg.
 * `lookahead` is the course notes' Nesterov form instead (Sutskever et al.
 * 2013): v ← μv − γ∇f(θ + μv), θ ← θ + v, with the gradient taken at the
 * look-ahead point (one extra evaluation per step).
 */
import {
  type Hyperparameters,
  LR,
  MAXIMIZE,
  type Optimizer,
  type StepContext,
  type StepResult,
  WEIGHT_DECAY,
  closedUnitInterval,
  fillEffective,
  nonNegative, decayedGradient } from './optimizer';

export interface SgdHyperparameters extends Hyperparameters {
  lr: number;
  momentum: number;
  dampening: number;
  weight_decay: number;
  nesterov: boolean;
  maximize: boolean;
  lookahead: boolean;
}

export interface SgdState {
  /** torch's momentum_buffer; `null` until the first step, as in torch. */
  buffer: Float64Array | null;
}

async function lookaheadStep(context: StepContext<SgdHyperparameters>, state: SgdState): Promise<StepResult> {
  const { params, lr, hyper, closure } = context;
  const velocity = (state.buffer ??= new Float64Array(params.length));
  const ahead = new Float64Array(params.length);
  for (let i = 0; i < params.length; i++) ahead[i] = params[i] + hyper.momentum * velocity[i];
  const { grad } = await closure.evaluate(ahead);
  const sign = hyper.maximize ? -1 : 1;
  for (let i = 0; i < params.length; i++) {
    const g = sign * grad[i] + hyper.weight_decay * ahead[i];
    velocity[i] = hyper.momentum * velocity[i] - lr * g;
    params[i] += velocity[i];
  }
  fillEffective(context.effectiveLearningRate, lr);
  return { evaluations: 1 };
}

export const sgd: Optimizer<SgdHyperparameters, SgdState> = {
  name: 'sgd',
  summary: 'stochastic gradient descent with optional momentum and Nesterov (torch.optim.SGD)',
  adaptive: false,
  fullBatch: false,
  hyperparameters: [
    LR(1e-3),
    { name: 'momentum', kind: 'number', default: 0, check: nonNegative, description: 'momentum factor μ' },
    { name: 'dampening', kind: 'number', default: 0, check: closedUnitInterval, description: 'dampening τ for momentum' },
    WEIGHT_DECAY(),
    { name: 'nesterov', kind: 'boolean', default: false, description: "Nesterov momentum (torch's form)" },
    MAXIMIZE,
    { name: 'lookahead', kind: 'boolean', default: false, description: "the course notes' Nesterov: gradient at θ + μv (one extra evaluation)" },
  ],
  validate: (hyper) => (hyper.nesterov && (hyper.momentum <= 0 || hyper.dampening !== 0) ? 'nesterov needs momentum > 0 and dampening 0 (as in torch)' : null),
  init: () => ({ buffer: null }),
  step(context, state) {
    const { params, grad, lr, hyper } = context;
    if (hyper.lookahead) return lookaheadStep(context, state);
    const { momentum, dampening, weight_decay: weightDecay, nesterov, maximize } = hyper;
    const first = state.buffer === null;
    const buffer = momentum !== 0 ? (state.buffer ??= new Float64Array(params.length)) : null;
    for (let i = 0; i < params.length; i++) {
      let g = decayedGradient(params, grad, i, weightDecay, maximize);
      if (buffer) {
        buffer[i] = first ? g : momentum * buffer[i] + (1 - dampening) * g;
        g = nesterov ? g + momentum * buffer[i] : buffer[i];
      }
      params[i] -= lr * g;
    }
    fillEffective(context.effectiveLearningRate, lr);
    return { evaluations: 0 };
  },
  velocity: (state) => state.buffer,
};
