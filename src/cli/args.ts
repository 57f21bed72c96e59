/** Parsing and validation of `gradlens check` arguments: every bad flag gets a message naming it. */
import { parseArgs } from 'node:util';
import { type CheckOptions, DEFAULT_CHECK_OPTIONS } from '../core/gradcheck';
import { DEFAULT_PROBLEM_GLOB, EXCLUDED_FOLDERS } from '../runner/problem-files';
import { DEFAULT_LIMITS, MAX_JOBS, type RunnerLimits } from '../runner/runner';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CheckCommand {
  files: string[];
  problems: string[] | null;
  options: CheckOptions;
  limits: RunnerLimits;
  json: boolean;
  /** Interpreter for .py files (--python); else $GRADLENS_PYTHON, else python3. */
  python?: string;
}

const CHECK_FLAGS = {
  problem: { type: 'string', multiple: true },
  mode: { type: 'string' },
  order: { type: 'string' },
  eps: { type: 'string' },
  atol: { type: 'string' },
  rtol: { type: 'string' },
  seed: { type: 'string' },
  samples: { type: 'string' },
  projections: { type: 'string' },
  worst: { type: 'string' },
  'nondet-tol': { type: 'string' },
  'batch-size': { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  jobs: { type: 'string' },
  python: { type: 'string' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CHECK_USAGE = `Usage: gradlens check <file|folder...> [options]

Checks analytic gradients of the problems exported by each file against
central differences. A folder stands for its problem files, sorted: those
matching ${DEFAULT_PROBLEM_GLOB}
outside ${EXCLUDED_FOLDERS.slice(0, 8).join(', ')},
${EXCLUDED_FOLDERS.slice(8).join(', ')}.

Options:
  --problem NAME      check only this export (repeatable); a name no file has is a usage error
  --mode MODE         full (every element), fast (random projections), sparse (--samples elements); default full
  --order 1|2         1: grad against f; 2: hvp against grad; default 1
  --eps H             finite-difference step; default ${DEFAULT_CHECK_OPTIONS.eps}
  --atol A            absolute tolerance; default ${DEFAULT_CHECK_OPTIONS.atol}
  --rtol R            relative tolerance, |a-n| <= atol + rtol*|n|; default ${DEFAULT_CHECK_OPTIONS.rtol}
  --seed S            seed for sparse samples and random directions; default ${DEFAULT_CHECK_OPTIONS.seed}
  --samples K         elements checked in sparse mode; default ${DEFAULT_CHECK_OPTIONS.samples}
  --projections K     random directions in fast mode; default ${DEFAULT_CHECK_OPTIONS.projections}
  --worst K           worst elements reported per problem; default ${DEFAULT_CHECK_OPTIONS.worst}
  --nondet-tol T      tolerated difference between two calls at the same point; default ${DEFAULT_CHECK_OPTIONS.nondetTolerance}
  --batch-size B      problems with data: check f(p, batch) and grad(p, batch) on a seeded mini-batch of B samples
                      (default: the full batch, called without batch)
  --timeout SECONDS   time limit per problem; default ${DEFAULT_LIMITS.timeoutSeconds}
  --memory MB         memory limit of the runner process; default ${DEFAULT_LIMITS.memoryMb}
  --jobs N            runner processes a costly full or sparse check may share, each with these
                      limits; default: the cores, at most 4 (here ${DEFAULT_LIMITS.jobs}); results do not depend on it
  --python PATH       interpreter for .py problem files; default $GRADLENS_PYTHON, else python3 on the PATH
                      (or a later python3 with NumPy, and PyTorch for files that import torch)
  --strict            kinks (non-differentiable points) count as failures
  --json              print one JSON object on stdout

Exit status: 0 all passed, 1 a problem failed or errored, 2 nothing could be checked.`;

export function parseNumberFlag(flag: string, text: string | undefined, fallback: number, valid: (value: number) => boolean, expected: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !valid(value)) {
    throw new UsageError(`--${flag} must be ${expected}, got '${text}'`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, text: string | undefined, fallback: T, allowed: readonly T[]): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got '${text}'`);
  return text as T;
}

const positive = (value: number) => value > 0;
const nonNegative = (value: number) => value >= 0;
export const positiveInteger = (value: number) => Number.isInteger(value) && value > 0;

/** parseArgs refuses `--eps -1` as ambiguous; a negative number after a valued flag is its value (then judged by name). */
export function withNegativeValues(args: string[], flags: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = flags[args[i].slice(2)];
    if (args[i].startsWith('--') && flag?.type === 'string' && /^-\d|^-\.\d|^-Inf/.test(args[i + 1] ?? '')) {
      joined.push(`${args[i]}=${args[++i]}`);
    } else joined.push(args[i]);
  }
  return joined;
}

/** Parses `check`'s arguments (after the word `check`); null when help was asked for. */
export function parseCheckArgs(args: string[]): CheckCommand | null {
  let parsed;
  try {
    parsed = parseArgs({ args: withNegativeValues(args, CHECK_FLAGS), options: CHECK_FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^.*?: /, '').replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length === 0) throw new UsageError('no file given: gradlens check <file|folder...>');
  const defaults = DEFAULT_CHECK_OPTIONS;
  const options: CheckOptions = {
    mode: oneOf('mode', values.mode, defaults.mode, ['full', 'fast', 'sparse']),
    order: Number(oneOf('order', values.order, String(defaults.order) as '1' | '2', ['1', '2'])) as 1 | 2,
    eps: parseNumberFlag('eps', values.eps, defaults.eps, positive, 'a positive number'),
    atol: parseNumberFlag('atol', values.atol, defaults.atol, nonNegative, 'a number >= 0'),
    rtol: parseNumberFlag('rtol', values.rtol, defaults.rtol, nonNegative, 'a number >= 0'),
    seed: parseNumberFlag('seed', values.seed, defaults.seed, (value) => Number.isSafeInteger(value) && value >= 0, 'a whole number >= 0'),
    samples: parseNumberFlag('samples', values.samples, defaults.samples, positiveInteger, 'a whole number >= 1'),
    projections: parseNumberFlag('projections', values.projections, defaults.projections, positiveInteger, 'a whole number >= 1'),
    worst: parseNumberFlag('worst', values.worst, defaults.worst, positiveInteger, 'a whole number >= 1'),
    nondetTolerance: parseNumberFlag('nondet-tol', values['nondet-tol'], defaults.nondetTolerance, nonNegative, 'a number >= 0'),
    strict: values.strict ?? false,
    batchSize: values['batch-size'] === undefined ? null : parseNumberFlag('batch-size', values['batch-size'], 1, positiveInteger, 'a whole number >= 1'),
    elementErrors: false,
  };
  const limits: RunnerLimits = {
    timeoutSeconds: parseNumberFlag('timeout', values.timeout, DEFAULT_LIMITS.timeoutSeconds, positive, 'a positive number of seconds'),
    memoryMb: parseNumberFlag('memory', values.memory, DEFAULT_LIMITS.memoryMb, (value) => Number.isInteger(value) && value >= 64, 'a whole number of MB >= 64'),
    jobs: parseNumberFlag('jobs', values.jobs, DEFAULT_LIMITS.jobs ?? 1, (value) => Number.isInteger(value) && value >= 1 && value <= MAX_JOBS, `a whole number from 1 to ${MAX_JOBS}`),
  };
  return { files: positionals, problems: values.problem ?? null, options, limits, json: values.json ?? false, ...(values.python ? { python: values.python } : {}) };
}
