/** The optimizer registry: torch.optim class names in lower case, plus presets from the course material. */
import { adadelta } from './adadelta';
import { adagrad } from './adagrad';
import { adam, adamw } from './adam';
import { adamax } from './adamax';
import { lbfgs } from './lbfgs';
import { nadam } from './nadam';
import { newton } from './newton';
import { type Hyperparameters, type Optimizer, hyperValueTypeProblem } from './optimizer';
import { radam } from './radam';
import { rmsprop } from './rmsprop';
import { sgd } from './sgd';

// Each rule is typed by its own hyper-parameters; the registry hands them out by name.
export type AnyOptimizer = Optimizer<Hyperparameters, object>;

const RULES = [sgd, adagrad, rmsprop, adadelta, adam, adamw, adamax, nadam, radam, lbfgs, newton] as unknown as AnyOptimizer[];

export interface OptimizerChoice {
  /** What the user typed: a rule name or a preset. */
  name: string;
  optimizer: AnyOptimizer;
  /** Hyper-parameters a preset sets before the user's own flags. */
  preset: Hyperparameters;
}

const PRESETS: Record<string, { rule: string; preset: Hyperparameters; summary: string }> = {
  momentum: { rule: 'sgd', preset: { momentum: 0.9 }, summary: 'SGD with momentum 0.9 (Polyak heavy ball)' },
  nesterov: { rule: 'sgd', preset: { momentum: 0.9, nesterov: true }, summary: 'SGD with Nesterov momentum 0.9' },
};

export function optimizerNames(): string[] {
  return [...RULES.map((rule) => rule.name), ...Object.keys(PRESETS)];
}

export function findOptimizer(name: string): OptimizerChoice | undefined {
  const key = name.toLowerCase();
  const rule = RULES.find((candidate) => candidate.name === key);
  if (rule) return { name: key, optimizer: rule, preset: {} };
  const preset = PRESETS[key];
  if (!preset) return undefined;
  return { name: key, optimizer: RULES.find((candidate) => candidate.name === preset.rule)!, preset: preset.preset };
}

/** The defaults, the preset, then the user's values; each checked, then the rule's cross-checks. */
export function resolveHyperparameters(choice: OptimizerChoice, given: Hyperparameters): Hyperparameters {
  const known = new Set(choice.optimizer.hyperparameters.map((spec) => spec.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw new RangeError(`${choice.name} has no hyper-parameter ${name} (it has ${[...known].join(', ')})`);
    }
  }
  const hyper: Hyperparameters = {};
  for (const spec of choice.optimizer.hyperparameters) {
    const typeProblem = spec.name in given ? hyperValueTypeProblem(spec, given[spec.name]) : null;
    if (typeProblem) throw new RangeError(`${spec.name} ${typeProblem}, got ${JSON.stringify(given[spec.name])}`);
    const value = given[spec.name] ?? choice.preset[spec.name] ?? spec.default;
    const problem = value === null ? null : spec.check?.(value as never);
    if (problem) throw new RangeError(`${spec.name} ${problem}, got ${Array.isArray(value) ? value.join(',') : String(value)}`);
    hyper[spec.name] = value;
  }
  const crossCheck = choice.optimizer.validate?.(hyper);
  if (crossCheck) throw new RangeError(`${choice.name}: ${crossCheck}`);
  return hyper;
}
