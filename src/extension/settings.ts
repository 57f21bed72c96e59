/**
 * The `gradlens.*` settings, read and checked in one place. Pure (no vscode
 * import) so unit tests cover it: the host passes a getter. A bad value never
 * stops a command: it is replaced by the default and named in a warning.
 */
import { type CheckMode, type CheckOptions, DEFAULT_CHECK_OPTIONS } from '../core/gradcheck';
import { findOptimizer, optimizerNames, resolveHyperparameters } from '../core/optim';
import type { Hyperparameters } from '../core/optim/optimizer';
import { DEFAULT_PROBLEM_GLOB } from '../runner/problem-files';
import { DEFAULT_LIMITS, MAX_JOBS, type RunnerLimits, defaultJobs } from '../runner/supervisor';


export interface Settings {
  problemFiles: string;
  /** Everything of a check but its order, which the command decides. */
  check: Omit<CheckOptions, 'order' | 'elementErrors'>;
  limits: RunnerLimits;
  optimizer: string;
  /** Per optimizer name, values that replace its torch defaults. */
  hyperparameters: Record<string, Hyperparameters>;
  steps: number;
  /** Every k-th step is recorded for the dashboard and the result (gradlens.optimizer.recordEvery). */
  recordEvery: number;
  /** CodeLens above each problem. */
  codeLens: boolean;
  /** Interpreter for .py problem files when the Python extension has none; null: python3 on the PATH. */
  pythonPath: string | null;
}

export interface SettingsReading {
  settings: Settings;
  /** One line per rejected value, naming the setting, the value and the default used instead. */
  problems: string[];
  /** Deprecated settings that are set and still read, with their new names. */
  deprecated: DeprecatedSetting[];
}

/** Reads `gradlens.<key>`: the user's value, else the contributed default; undefined when neither. */
export type SettingGetter = (key: string) => unknown;
/** Whether the user set `gradlens.<key>` anywhere (user, workspace, folder), not only its default. */
export type SettingIsSet = (key: string) => boolean;

export interface DeprecatedSetting {
  /** Keys under `gradlens.`. */
  old: string;
  replacement: string;
  value: unknown;
}

/** Old names still read when the new one is not set: old key → new key. */
export const RENAMED_SETTINGS: Readonly<Record<string, string>> = Object.freeze({ 'telemetry.every': 'optimizer.recordEvery' });

/** The accepted value, or why it is rejected. */
type Check<T> = (value: unknown) => { value: T } | { error: string };

const accept = <T>(test: (value: unknown) => boolean, error: string): Check<T> => (value) => (test(value) ? { value: value as T } : { error });
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const positiveNumber = accept<number>((value) => isNumber(value) && value > 0, 'must be a positive number');
const nonNegativeNumber = accept<number>((value) => isNumber(value) && value >= 0, 'must be a number ≥ 0');
const integerAtLeast = (minimum: number) => accept<number>((value) => isNumber(value) && Number.isInteger(value) && value >= minimum, `must be an integer ≥ ${minimum}`);
/** gradlens.jobs: 0 for the default (the cores, capped), else 1..MAX_JOBS. */
const jobsCheck = accept<number>((value) => isNumber(value) && Number.isInteger(value) && value >= 0 && value <= MAX_JOBS, `must be an integer from 0 (automatic) to ${MAX_JOBS}`);
const booleanCheck = accept<boolean>((value) => typeof value === 'boolean', 'must be true or false');
/** check.batchSize: null (the full batch) or a whole number of samples. */
const batchCheck = accept<number | null>((value) => value === null || (isNumber(value) && Number.isInteger(value) && value >= 1), 'must be null (the full batch) or an integer ≥ 1');
const modeCheck = accept<CheckMode>((value) => value === 'full' || value === 'fast' || value === 'sparse', 'must be "full", "fast" or "sparse"');
const pathCheck = accept<string>((value) => typeof value === 'string', 'must be a path to a Python interpreter');
const globCheck = accept<string>((value) => typeof value === 'string' && value.trim() !== '', 'must be a non-empty glob pattern');
const optimizerCheck: Check<string> = (value) =>
  typeof value === 'string' && findOptimizer(value)
    ? { value: value.toLowerCase() }
    : { error: `must name an optimizer (${optimizerNames().join(', ')})` };

function shown(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

export function readSettings(get: SettingGetter, isSet: SettingIsSet = (key) => get(key) !== undefined): SettingsReading {
  const problems: string[] = [];
  const deprecated: DeprecatedSetting[] = [];
  const renamedFrom = new Map(Object.entries(RENAMED_SETTINGS).map(([old, replacement]) => [replacement, old]));
  /** The value of `key`, or of its old name when only that is set. */
  const valueOf = (key: string): { key: string; value: unknown } => {
    const old = renamedFrom.get(key);
    if (old !== undefined && !isSet(key) && isSet(old)) {
      const value = get(old);
      deprecated.push({ old, replacement: key, value });
      return { key: old, value };
    }
    return { key, value: get(key) };
  };
  const read = <T>(wanted: string, check: Check<T>, fallback: T, nullable = false): T => {
    const { key, value } = valueOf(wanted);
    if (value === undefined || (value === null && !nullable)) return fallback;
    const checked = check(value);
    if ('error' in checked) {
      problems.push(`gradlens.${key} ${checked.error}, got ${shown(value)}; using ${shown(fallback)}`);
      return fallback;
    }
    return checked.value;
  };
  const settings: Settings = {
    problemFiles: read('problemFiles', globCheck, DEFAULT_PROBLEM_GLOB),
    check: {
      mode: read('check.mode', modeCheck, DEFAULT_CHECK_OPTIONS.mode),
      eps: read('check.eps', positiveNumber, DEFAULT_CHECK_OPTIONS.eps),
      atol: read('check.atol', nonNegativeNumber, DEFAULT_CHECK_OPTIONS.atol),
      rtol: read('check.rtol', nonNegativeNumber, DEFAULT_CHECK_OPTIONS.rtol),
      seed: read('check.seed', integerAtLeast(0), DEFAULT_CHECK_OPTIONS.seed),
      samples: read('check.samples', integerAtLeast(1), DEFAULT_CHECK_OPTIONS.samples),
      projections: read('check.projections', integerAtLeast(1), DEFAULT_CHECK_OPTIONS.projections),
      worst: read('check.worst', integerAtLeast(1), DEFAULT_CHECK_OPTIONS.worst),
      nondetTolerance: read('check.nondeterminismTolerance', nonNegativeNumber, DEFAULT_CHECK_OPTIONS.nondetTolerance),
      strict: read('check.strict', booleanCheck, DEFAULT_CHECK_OPTIONS.strict),
      batchSize: read('check.batchSize', batchCheck, DEFAULT_CHECK_OPTIONS.batchSize, true),
    },
    limits: {
      timeoutSeconds: read('timeoutSeconds', positiveNumber, DEFAULT_LIMITS.timeoutSeconds),
      memoryMb: read('memoryLimitMb', integerAtLeast(64), DEFAULT_LIMITS.memoryMb),
      jobs: read('jobs', jobsCheck, 0) || defaultJobs(),
    },
    optimizer: read('optimizer.default', optimizerCheck, 'adam'),
    hyperparameters: {},
    steps: read('optimizer.steps', integerAtLeast(1), 200),
    recordEvery: read('optimizer.recordEvery', integerAtLeast(1), 1),
    codeLens: read('codeLens.enabled', booleanCheck, true),
    pythonPath: read('pythonPath', pathCheck, '').trim() || null,
  };
  const overrides = get('optimizer.hyperparameters');
  if (overrides !== undefined && overrides !== null) {
    if (typeof overrides !== 'object' || Array.isArray(overrides)) {
      problems.push(`gradlens.optimizer.hyperparameters must be an object like { "adam": { "lr": 0.01 } }, got ${shown(overrides)}; using the torch defaults`);
    } else {
      for (const [name, values] of Object.entries(overrides as Record<string, unknown>)) {
        const choice = findOptimizer(name);
        try {
          if (!choice) throw new RangeError(`names no optimizer`);
          if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new RangeError('must be an object of hyper-parameters');
          resolveHyperparameters(choice, values as Hyperparameters);
          settings.hyperparameters[choice.name] = values as Hyperparameters;
        } catch (error) {
          problems.push(`gradlens.optimizer.hyperparameters.${name}: ${(error as Error).message}; using the torch defaults`);
        }
      }
    }
  }
  return { settings, problems, deprecated };
}
