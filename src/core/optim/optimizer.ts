/**
 * One interface for every update rule, in the spirit of torch.optim and
 * optax: a rule declares its hyper-parameters (torch's names and defaults),
 * creates plain state, and updates a flat float64 parameter vector in place.
 * All tensors of a problem are one flat vector: every rule here is
 * elementwise (or, for L-BFGS, defined on the flattened vector as in torch).
 * Moving averages are written as documented, β·m + (1 − β)·g (torch ≥ 2.0
 * computes the same with lerp, which can differ in the last bit).
 */

export type HyperValue = number | boolean | string | null | readonly number[];
export type Hyperparameters = Record<string, HyperValue>;

export interface HyperparameterSpec {
  /** torch's argument name, e.g. `weight_decay` (the CLI flag is `--weight-decay`). */
  name: string;
  kind: 'number' | 'integer' | 'boolean' | 'pair' | 'choice';
  default: HyperValue;
  /** For kind 'choice'; `null` may be one of them. */
  choices?: readonly (string | null)[];
  /** Returns why a value is invalid, e.g. 'must be >= 0'. */
  check?: (value: never) => string | null;
  description: string;
}

/** Why `value` is not of `spec`'s kind (settings.json and command arguments may hold anything), or null; null means the default. */
export function hyperValueTypeProblem(spec: HyperparameterSpec, value: unknown): string | null {
  if (value === null) return null;
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'pair':
      return Array.isArray(value) && value.length === 2 && value.every((entry) => typeof entry === 'number' && Number.isFinite(entry)) ? null : 'must be two numbers like [0.9, 0.999]';
    case 'choice':
      return spec.choices?.includes(value as string) ? null : `must be one of ${spec.choices?.map((entry) => JSON.stringify(entry)).join(', ')}`;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? null : 'must be a whole number';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
  }
}

/** The problem as an optimizer step sees it: torch's closure (re-evaluate at other points), on flat vectors. */
export interface Closure {
  /** Loss and gradient at `params` (the optimizer's current batch). */
  evaluate(params: Float64Array): Promise<{ loss: number; grad: Float64Array }>;
  /** Hessian-vector product at `params`: the problem's hvp or finite differences of grad. */
  hessianVectorProduct(params: Float64Array, vector: Float64Array): Promise<Float64Array>;
}

export interface StepContext<H extends Hyperparameters> {
  /** Updated in place. */
  params: Float64Array;
  /** Gradient at `params`, as torch's `p.grad` after `loss.backward()`. */
  grad: Float64Array;
  loss: number;
  /** This step's learning rate (the schedule's value; `hyper.lr` is the base). */
  lr: number;
  hyper: H;
  closure: Closure;
  /**
   * When given, filled with the per-dimension effective learning rate the rule applied this step.
   * Loops test it with `!== null`: V8 tests the truthiness of an object with a longer sequence,
   * element by element, which showed in the recorded steps of bench/optim.ts.
   */
  effectiveLearningRate: Float64Array | null;
}

export interface StepResult {
  /** Extra loss and gradient evaluations the step made (line searches, look-ahead, Hessians). */
  evaluations: number;
  /** Something the user should know, e.g. a Hessian that is not positive definite. */
  warning?: string;
  /** The step length a line search chose (L-BFGS), for telemetry. */
  stepSize?: number;
}

export interface Optimizer<H extends Hyperparameters = Hyperparameters, S extends object = object> {
  /** The torch.optim class name in lower case, or a GradLens name (`newton`). */
  readonly name: string;
  /** One line for help texts, with the rule's source. */
  readonly summary: string;
  readonly hyperparameters: readonly HyperparameterSpec[];
  /** Per-dimension effective learning rates exist (adaptive methods). */
  readonly adaptive: boolean;
  /** Needs the whole objective each step (line search, Hessian): full batch only. */
  readonly fullBatch: boolean;
  /** Rules across hyper-parameters (each value was checked on its own already). */
  validate?(hyper: H): string | null;
  init(size: number, hyper: H): S;
  step(context: StepContext<H>, state: S): StepResult | Promise<StepResult>;
  /** The momentum (velocity) buffer or first moment, when the rule keeps one: records carry its norm. */
  velocity?(state: S): Float64Array | null;
  /** Adaptive rules: the per-dimension accumulator the effective rate divides by (Adam's v, Adagrad's sum of squares, ...). */
  accumulator?(state: S): Float64Array;
}

export const NO_EXTRA_EVALUATIONS: StepResult = Object.freeze({ evaluations: 0 });

// Shared validations, worded for messages like "--lr must be >= 0, got -1".
export const nonNegative = (value: number) => (value >= 0 ? null : 'must be >= 0');
export const positive = (value: number) => (value > 0 ? null : 'must be > 0');
export const unitInterval = (value: number) => (value >= 0 && value < 1 ? null : 'must be in [0, 1)');
export const closedUnitInterval = (value: number) => (value >= 0 && value <= 1 ? null : 'must be in [0, 1]');
export const betaPair = (value: readonly number[]) =>
  value.length === 2 && value.every((beta) => beta >= 0 && beta < 1) ? null : 'must be two numbers in [0, 1), e.g. 0.9,0.999';

export const LR = (fallback: number): HyperparameterSpec => ({ name: 'lr', kind: 'number', default: fallback, check: nonNegative, description: 'learning rate' });
export const WEIGHT_DECAY = (fallback = 0): HyperparameterSpec => ({
  name: 'weight_decay',
  kind: 'number',
  default: fallback,
  check: nonNegative,
  description: 'L2 penalty added to the gradient',
});
export const BETAS: HyperparameterSpec = { name: 'betas', kind: 'pair', default: [0.9, 0.999], check: betaPair, description: 'decay rates (β1, β2) of the moment estimates' };
export const DECOUPLED_WEIGHT_DECAY: HyperparameterSpec = {
  name: 'decoupled_weight_decay',
  kind: 'boolean',
  default: false,
  description: 'decay θ directly, as AdamW',
};
export const MAXIMIZE: HyperparameterSpec = { name: 'maximize', kind: 'boolean', default: false, description: 'maximize the objective' };

/**
 * The preamble every torch rule shares, for element i: g = ±∇ᵢ (maximize flips
 * it), then weight decay either added to the gradient (L2: g + λθ) or, when
 * decoupled (AdamW and friends), applied to the parameter (θ ← θ(1 − γλ)).
 */
export function decayedGradient(
  params: Float64Array,
  grad: Float64Array,
  i: number,
  weightDecay: number,
  maximize: boolean,
  decoupledLr: number | null = null,
): number {
  let g = maximize ? -grad[i] : grad[i];
  if (weightDecay !== 0) {
    if (decoupledLr !== null) params[i] *= 1 - decoupledLr * weightDecay;
    else g += weightDecay * params[i];
  }
  return g;
}

/** Fills `out` with `value` when telemetry asked for it (non-adaptive rules). */
export function fillEffective(out: Float64Array | null, value: number): void {
  out?.fill(value);
}
