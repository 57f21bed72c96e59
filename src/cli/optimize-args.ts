/**
 * Arguments of `gradlens optimize | compare | analyze`: the problem source,
 * training options, and hyper-parameter flags named after torch's arguments
 * in kebab-case (`--weight-decay`, `--betas 0.9,0.999`, bare `--nesterov`).
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { type OptimizerChoice, findOptimizer, optimizerNames, resolveHyperparameters } from '../core/optim';
import type { HyperValue, Hyperparameters, HyperparameterSpec } from '../core/optim/optimizer';
import { parseHyperValue } from '../core/optim/hyper-text';
import { parseSchedule } from '../core/optim/schedules';
import { type Checkpoint, DEFAULT_TRAIN_OPTIONS } from '../core/optim/train';
import type { OptimizerRun, ProblemSource, RequestTrainOptions } from '../protocol';
import { DEFAULT_LIMITS, type RunnerLimits } from '../runner/supervisor';
import { UsageError, parseNumberFlag, positiveInteger, withNegativeValues } from './args';

export type OptimizerCommandName = 'optimize' | 'compare' | 'analyze';

export interface OptimizerCommand {
  command: OptimizerCommandName;
  source: ProblemSource;
  problem: string | null;
  runs: OptimizerRun[];
  train: RequestTrainOptions;
  limits: RunnerLimits;
  output: 'text' | 'json' | 'jsonl' | 'csv';
  /** analyze: at the start, or where the optimizer ends. */
  at: 'start' | 'final';
  /** optimize: where to write the checkpoint. */
  save: string | null;
}

function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

function allSpecs(): Map<string, HyperparameterSpec> {
  const specs = new Map<string, HyperparameterSpec>();
  for (const name of optimizerNames()) for (const spec of findOptimizer(name)!.optimizer.hyperparameters) specs.set(spec.name, spec);
  return specs;
}

const COMMON_FLAGS = {
  problem: { type: 'string' },
  optimizer: { type: 'string' },
  optimizers: { type: 'string' },
  schedule: { type: 'string' },
  'batch-size': { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  every: { type: 'string' },
  'full-loss-every': { type: 'string' },
  tolerance: { type: 'string' },
  'detail-tensor': { type: 'string' },
  save: { type: 'string' },
  resume: { type: 'string' },
  at: { type: 'string' },
  option: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  python: { type: 'string' },
  json: { type: 'boolean' },
  jsonl: { type: 'boolean' },
  csv: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function optimizerUsage(command: OptimizerCommandName): string {
  const lines = [
    command === 'optimize'
      ? 'Usage: gradlens optimize <file|builtin:NAME> --optimizer NAME [hyper-parameters] [options]'
      : command === 'compare'
        ? 'Usage: gradlens compare <file|builtin:NAME> --optimizers sgd,momentum,adam [hyper-parameters] [options]'
        : 'Usage: gradlens analyze <file|builtin:NAME> [--at start|final] [--optimizer NAME ...] [options]',
    '',
    `Optimizers: ${optimizerNames().join(', ')}`,
    'Hyper-parameters: torch.optim argument names in kebab-case, e.g. --lr 0.01 --betas 0.9,0.999 --weight-decay 1e-4 --nesterov',
    '  (booleans: --amsgrad to set, --no-bias-correction to clear)',
    `  ${[...allSpecs().values()].map((spec) => `--${kebab(spec.name)}`).join(' ')}`,
    '',
    'Options:',
    '  --problem NAME        the export to use (needed when a file has several scalar problems)',
    '  --option KEY=VALUE    options of a built-in, e.g. --option condition=1000 (repeatable)',
    `  --steps N             optimizer steps; default ${DEFAULT_TRAIN_OPTIONS.steps}`,
    '  --batch-size B        problems with data: samples per step (1: SGD, N: full batch); default full batch',
    '  --schedule S          constant | step:step_size=1,gamma=0.9 | exponential:gamma=0.99 | cosine:T_max=100,eta_min=0',
    '                        | warmup:start_factor=0.33,total_iters=5 | plateau:factor=0.1,patience=10',
    `  --seed S              seed for shuffling; default ${DEFAULT_TRAIN_OPTIONS.seed}`,
    '  --every K             print every K-th step record (the run itself is never thinned)',
    '  --full-loss-every K   with mini-batches, also compute the full loss every K steps',
    '  --tolerance T         compare: steps until the full loss is <= T; default 1e-6',
    '  --detail-tensor NAME  include that tensor\'s full per-dimension effective learning rates in each record',
    '  --save FILE           optimize: write a checkpoint (parameters, optimizer and schedule state) when the run ends',
    '  --resume FILE         optimize: continue from a checkpoint up to --steps steps in all',
    '  --timeout SECONDS     per optimizer run; --memory MB: heap of the runner process (and of the Python interpreter)',
    '  --python PATH         interpreter for .py problem files; default $GRADLENS_PYTHON, else python3 on the PATH',
    '                        (or a later python3 with NumPy, and PyTorch for files that import torch)',
    '  --json | --jsonl | --csv  machine-readable output, written as the run goes (--jsonl: one JSON object a line:',
    '                        a header per run, each record, the run\'s end)',
  ];
  return lines.join('\n');
}

function readCheckpoint(file: string): Checkpoint {
  let saved: unknown;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--resume ${file}: ${(error as Error).message}`);
  }
  const fields = ['step', 'params', 'optimizerState', 'scheduleState', 'batcher', 'epochLoss'];
  if (saved === null || typeof saved !== 'object' || fields.some((field) => !(field in saved))) {
    throw new UsageError(`--resume ${file}: not a GradLens checkpoint (expected ${fields.join(', ')}; write one with --save)`);
  }
  return saved as Checkpoint;
}

function parseHyper(spec: HyperparameterSpec, text: string | boolean): HyperValue {
  if (spec.kind === 'boolean') return text === true;
  try {
    return parseHyperValue(spec, String(text));
  } catch (error) {
    throw new UsageError(`--${kebab(spec.name)} ${(error as Error).message}`);
  }
}

function parseSource(text: string, options: string[], python: string | undefined): ProblemSource {
  if (!text.startsWith('builtin:')) {
    if (options.length > 0) throw new UsageError('--option is for built-in problems (builtin:NAME)');
    if (python !== undefined && !text.endsWith('.py')) throw new UsageError('--python is for Python problem files (.py)');
    return python === undefined ? { file: text } : { file: text, python };
  }
  if (python !== undefined) throw new UsageError('--python is for Python problem files (.py), not built-in problems');
  const parsed: Record<string, unknown> = {};
  for (const option of options) {
    const [key, value] = option.split('=', 2);
    if (!key || value === undefined) throw new UsageError(`--option must look like KEY=VALUE, got '${option}'`);
    // Numbers and JSON (e.g. start=[0,0.5]) are parsed; anything else stays a string.
    try {
      parsed[key] = JSON.parse(value);
    } catch {
      parsed[key] = value;
    }
  }
  return { builtin: text.slice('builtin:'.length), options: parsed };
}

/** Checks the user's hyper-parameters against the optimizer: unknown names and bad values are usage errors. */
function runFor(name: string, given: Hyperparameters, strict: boolean): OptimizerRun {
  const choice: OptimizerChoice | undefined = findOptimizer(name);
  if (!choice) throw new UsageError(`unknown optimizer '${name}' (one of ${optimizerNames().join(', ')})`);
  const known = new Set(choice.optimizer.hyperparameters.map((spec) => spec.name));
  const applicable = strict ? given : Object.fromEntries(Object.entries(given).filter(([key]) => known.has(key)));
  try {
    return { name: choice.name, hyperparameters: resolveHyperparameters(choice, applicable) };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^(\w+) must/, (_, flag: string) => `--${kebab(flag)} must`));
  }
}

export function parseOptimizerArgs(command: OptimizerCommandName, args: string[]): OptimizerCommand | null {
  const specs = allSpecs();
  const flags: Record<string, { type: 'string' | 'boolean' }> = { ...COMMON_FLAGS };
  for (const spec of specs.values()) flags[kebab(spec.name)] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: withNegativeValues(args, flags), options: flags, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return null;
  if (parsed.positionals.length !== 1) throw new UsageError(`${command} takes one problem: a file or builtin:NAME (got ${parsed.positionals.length})`);
  const given: Hyperparameters = {};
  for (const spec of specs.values()) {
    const value = values[kebab(spec.name)];
    if (value !== undefined) given[spec.name] = parseHyper(spec, value as string | boolean);
  }
  const text = (name: string) => values[name] as string | undefined;
  const number = (name: string, fallback: number, valid: (value: number) => boolean, expected: string) => parseNumberFlag(name, text(name), fallback, valid, expected);
  let runs: OptimizerRun[];
  if (command === 'compare') {
    const names = (text('optimizers') ?? 'sgd,momentum,nesterov,adagrad,rmsprop,adam').split(',').map((name) => name.trim()).filter(Boolean);
    // Shared flags apply to the optimizers that have them (e.g. --momentum only to SGD).
    runs = names.map((name) => runFor(name, given, false));
  } else if (command === 'optimize' || text('optimizer') !== undefined) {
    if (text('optimizer') === undefined) throw new UsageError('--optimizer is required (e.g. --optimizer adam)');
    runs = [runFor(text('optimizer')!, given, true)];
  } else {
    runs = [];
  }
  const at = text('at') ?? (runs.length > 0 ? 'final' : 'start');
  if (at !== 'start' && at !== 'final') throw new UsageError(`--at must be start or final, got '${at}'`);
  if (command === 'analyze' && at === 'final' && runs.length === 0) throw new UsageError('--at final needs --optimizer to get there');
  let schedule = DEFAULT_TRAIN_OPTIONS.schedule;
  try {
    if (text('schedule') !== undefined) schedule = parseSchedule(text('schedule')!);
  } catch (error) {
    throw new UsageError(`--schedule: ${(error as Error).message}`);
  }
  const tolerance = text('tolerance') !== undefined || command === 'compare' ? number('tolerance', 1e-6, (value) => value >= 0, 'a number >= 0') : null;
  const train: OptimizerCommand['train'] = {
    steps: number('steps', DEFAULT_TRAIN_OPTIONS.steps, positiveInteger, 'a whole number >= 1'),
    batchSize: text('batch-size') === undefined ? null : number('batch-size', 1, positiveInteger, 'a whole number >= 1'),
    seed: number('seed', 0, (value) => Number.isSafeInteger(value) && value >= 0, 'a whole number >= 0'),
    schedule,
    every: number('every', 1, positiveInteger, 'a whole number >= 1'),
    fullLossEvery: number('full-loss-every', 0, (value) => Number.isInteger(value) && value >= 0, 'a whole number >= 0'),
    recordParams: true,
    tolerance,
    detailTensor: text('detail-tensor') ?? null,
  };
  if ((text('save') !== undefined || text('resume') !== undefined) && command !== 'optimize') throw new UsageError('--save and --resume are for optimize');
  if (text('resume') !== undefined) train.resume = readCheckpoint(text('resume')!);
  if ([values.json, values.jsonl, values.csv].filter(Boolean).length > 1) throw new UsageError('choose one of --json, --jsonl and --csv');
  return {
    command,
    source: parseSource(parsed.positionals[0], (values.option as string[] | undefined) ?? [], text('python')),
    problem: text('problem') ?? null,
    runs: command === 'analyze' && at === 'start' ? [] : runs,
    train,
    limits: {
      timeoutSeconds: number('timeout', DEFAULT_LIMITS.timeoutSeconds, (value) => value > 0, 'a positive number of seconds'),
      memoryMb: number('memory', DEFAULT_LIMITS.memoryMb, (value) => Number.isInteger(value) && value >= 64, 'a whole number of MB >= 64'),
    },
    output: values.json ? 'json' : values.jsonl ? 'jsonl' : values.csv ? 'csv' : 'text',
    at,
    save: text('save') ?? null,
  };
}
