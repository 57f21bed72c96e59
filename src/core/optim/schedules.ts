/**
 * Learning-rate schedules, as torch.optim.lr_scheduler computes them, stepped
 * once per epoch (for problems without data every step is an epoch, as when
 * scheduler.step() follows each optimizer.step()). State is plain data.
 */

export type ScheduleSpec =
  | { kind: 'constant' }
  /** StepLR: γ^⌊epoch / step_size⌋ (e.g. ×0.9 every epoch). */
  | { kind: 'step'; step_size: number; gamma: number }
  /** ExponentialLR: γ^epoch. */
  | { kind: 'exponential'; gamma: number }
  /** CosineAnnealingLR, closed form: η_min + (η − η_min)(1 + cos(π·epoch/T_max))/2. */
  | { kind: 'cosine'; T_max: number; eta_min: number }
  /** LinearLR warm-up: factor from start_factor to end_factor over total_iters epochs. */
  | { kind: 'warmup'; start_factor: number; end_factor: number; total_iters: number }
  /** ReduceLROnPlateau (mode 'min', relative threshold): ×factor after `patience` epochs without improvement. */
  | { kind: 'plateau'; factor: number; patience: number; threshold: number; cooldown: number; min_lr: number };

export interface ScheduleState {
  /** Plateau bookkeeping (torch's best, num_bad_epochs, cooldown_counter and the current lr). */
  best: number;
  badEpochs: number;
  cooldown: number;
  plateauLr: number | null;
}

const DEFAULTS: { [K in ScheduleSpec['kind']]: Omit<Extract<ScheduleSpec, { kind: K }>, 'kind'> } = {
  constant: {},
  step: { step_size: 1, gamma: 0.9 },
  exponential: { gamma: 0.99 },
  cosine: { T_max: 100, eta_min: 0 },
  warmup: { start_factor: 1 / 3, end_factor: 1, total_iters: 5 },
  plateau: { factor: 0.1, patience: 10, threshold: 1e-4, cooldown: 0, min_lr: 0 },
};

export const SCHEDULE_KINDS = Object.keys(DEFAULTS) as ScheduleSpec['kind'][];

/** Parses `step:step_size=1,gamma=0.9` (names as in torch); unknown names and bad values are errors that say so. */
export function parseSchedule(text: string): ScheduleSpec {
  const [kind, rest = ''] = text.split(':', 2);
  if (!(SCHEDULE_KINDS as string[]).includes(kind)) {
    throw new RangeError(`unknown schedule '${kind}' (one of ${SCHEDULE_KINDS.join(', ')})`);
  }
  const defaults = DEFAULTS[kind as ScheduleSpec['kind']] as Record<string, number>;
  const spec: Record<string, number | string> = { kind, ...defaults };
  for (const pair of rest.split(',').filter(Boolean)) {
    const [name, value] = pair.split('=', 2);
    if (!(name in defaults)) {
      throw new RangeError(`schedule ${kind} has no ${name} (it has ${Object.keys(defaults).join(', ') || 'no parameters'})`);
    }
    const number = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(number)) throw new RangeError(`schedule ${kind}: ${name} must be a number, got '${value ?? ''}'`);
    spec[name] = number;
  }
  const problem = validateSchedule(spec as ScheduleSpec);
  if (problem) throw new RangeError(`schedule ${kind}: ${problem}`);
  return spec as ScheduleSpec;
}

function validateSchedule(spec: ScheduleSpec): string | null {
  switch (spec.kind) {
    case 'step':
      return Number.isInteger(spec.step_size) && spec.step_size >= 1 ? (spec.gamma > 0 ? null : 'gamma must be > 0') : 'step_size must be a whole number >= 1';
    case 'exponential':
      return spec.gamma > 0 ? null : 'gamma must be > 0';
    case 'cosine':
      return spec.T_max > 0 ? (spec.eta_min >= 0 ? null : 'eta_min must be >= 0') : 'T_max must be > 0';
    case 'warmup':
      return spec.start_factor > 0 && spec.start_factor <= 1 && spec.end_factor >= 0 && spec.end_factor <= 1 && spec.total_iters >= 1
        ? null
        : 'start_factor must be in (0, 1], end_factor in [0, 1], total_iters >= 1';
    case 'plateau':
      return spec.factor > 0 && spec.factor < 1 && spec.patience >= 0 && spec.threshold >= 0 && spec.cooldown >= 0 && spec.min_lr >= 0
        ? null
        : 'factor must be in (0, 1); patience, threshold, cooldown and min_lr >= 0';
    default:
      return null;
  }
}

export function initialScheduleState(): ScheduleState {
  return { best: Infinity, badEpochs: 0, cooldown: 0, plateauLr: null };
}

/** The learning rate for `epoch` (0-based) from the base rate. */
export function scheduledLearningRate(spec: ScheduleSpec, base: number, epoch: number, state: ScheduleState): number {
  switch (spec.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * spec.gamma ** Math.floor(epoch / spec.step_size);
    case 'exponential':
      return base * spec.gamma ** epoch;
    case 'cosine':
      return spec.eta_min + ((base - spec.eta_min) * (1 + Math.cos((Math.PI * epoch) / spec.T_max))) / 2;
    case 'warmup':
      return base * (spec.start_factor + ((spec.end_factor - spec.start_factor) * Math.min(epoch, spec.total_iters)) / spec.total_iters);
    case 'plateau':
      return state.plateauLr ?? base;
  }
}

/**
 * ReduceLROnPlateau.step(metric) at the end of an epoch (torch's 'min' mode, 'rel' threshold):
 * returns true when the rate was reduced.
 */
export function observeEpochLoss(spec: ScheduleSpec, base: number, loss: number, state: ScheduleState): boolean {
  if (spec.kind !== 'plateau') return false;
  if (loss < state.best * (1 - spec.threshold)) {
    state.best = loss;
    state.badEpochs = 0;
  } else {
    state.badEpochs += 1;
  }
  if (state.cooldown > 0) {
    state.cooldown -= 1;
    state.badEpochs = 0;
  }
  if (state.badEpochs > spec.patience) {
    const current = state.plateauLr ?? base;
    const reduced = Math.max(current * spec.factor, spec.min_lr);
    state.cooldown = spec.cooldown;
    state.badEpochs = 0;
    // torch skips reductions smaller than eps = 1e-8.
    if (current - reduced > 1e-8) {
      state.plateauLr = reduced;
      return true;
    }
  }
  return false;
}
