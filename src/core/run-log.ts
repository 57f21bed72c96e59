/**
 * Runs of real training scripts, as python/gradlens_watch.py writes them: JSON Lines, one message a line,
 * to a log file or the extension's socket. The first line describes the run, then one line per recorded
 * step (a StepRecord, the schema of GradLens's own runs), and an end line when the script closed the watch.
 * One reader serves `gradlens show`, Open Run Log… and the live socket.
 */
import { InputError } from './errors';
import type { Hyperparameters } from './optim/optimizer';
import { type Summary, summaryOfCounts } from './optim/telemetry';
import type { StepRecord } from './optim/train';

/**
 * Version 2 sends each rate summary as its histogram's counts only ({min, max, counts, sampled}; its edges and
 * quartiles follow from them, summaryOfCounts()); version 1 logs wrote whole summaries, and still open.
 */
export const RUN_LOG_VERSION = 2;
const READABLE_VERSIONS: unknown[] = [1, RUN_LOG_VERSION];

export interface RunLogHeader {
  name: string;
  /** The script's absolute path (null: an interactive session). */
  script: string | null;
  pid: number | null;
  startedAt: string | null;
  /** The rule GradLens read the rates by (a torch.optim class name), or the script's own class. */
  optimizer: string;
  torch: string | null;
  /** The first parameter group's; `groups` has every group's. */
  hyperparameters: Hyperparameters;
  groups: Hyperparameters[];
  every: number;
  tensors: { name: string; shape: number[] }[];
  adaptive: boolean;
  detailTensor: string | null;
  /** Why some of the record is missing ("effective learning rate not known for MyOpt"). */
  note: string | null;
}

export interface RunLogStep {
  record: StepRecord;
  /** Since the watch started. */
  seconds: number;
  /** Records the script dropped so far (a slow or closed dashboard). */
  dropped: number;
  /** Live runs: the answers to the dashboard's requests for a tensor's every rate (at this step). */
  answers: RatesAnswer[];
}

export interface RatesAnswer {
  requestId: number;
  tensor: string;
  values: number[] | null;
  grad: number[] | null;
  accumulator: number[] | null;
  error: string | null;
}

export interface RunLogEnd {
  step: number;
  seconds: number;
  dropped: number;
  /** The watch stopped recording on an error of its own (the training went on). */
  failed: boolean;
}

export type RunLogLine = { type: 'run'; header: RunLogHeader } | { type: 'step'; step: RunLogStep } | { type: 'end'; end: RunLogEnd } | { type: 'other' };

export interface RunLog {
  header: RunLogHeader;
  steps: RunLogStep[];
  /** null: the log ends without the watch's end (the script was killed, or still runs). */
  end: RunLogEnd | null;
  /** The last line was cut off mid-way (it is left out), e.g. by a killed job. */
  cutOff: boolean;
}

type Fields = Record<string, unknown>;

function object(value: unknown, what: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${what} is not a JSON object`);
  return value as Fields;
}

/** A number, or NaN for the null that stands for a non-finite value (JSON has no NaN). */
function numeric(fields: Fields, key: string, what: string): number {
  const value = fields[key];
  if (value === null) return NaN;
  if (typeof value !== 'number') throw new InputError(`${what}: ${key} is ${JSON.stringify(value) ?? 'missing'}, expected a number`);
  return value;
}

function optionalNumber(fields: Fields, key: string, what: string): number | null {
  return fields[key] === undefined || fields[key] === null ? null : numeric(fields, key, what);
}

function text(fields: Fields, key: string): string | null {
  const value = fields[key];
  return typeof value === 'string' ? value : null;
}

function hyperparameters(value: unknown): Hyperparameters {
  const parsed: Hyperparameters = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return parsed;
  for (const [key, entry] of Object.entries(value as Fields)) {
    if (entry === null || typeof entry === 'number' || typeof entry === 'boolean' || typeof entry === 'string') parsed[key] = entry;
    else if (Array.isArray(entry) && entry.every((item) => typeof item === 'number')) parsed[key] = entry as number[];
  }
  return parsed;
}

function header(fields: Fields, what: string): RunLogHeader {
  if (!READABLE_VERSIONS.includes(fields.version)) {
    throw new InputError(`${what}: a run log of version ${JSON.stringify(fields.version)}; this GradLens reads versions ${READABLE_VERSIONS.join(' and ')}`);
  }
  const tensors = fields.tensors;
  if (!Array.isArray(tensors)) throw new InputError(`${what}: tensors is missing`);
  return {
    name: text(fields, 'name') ?? 'run',
    script: text(fields, 'script'),
    pid: typeof fields.pid === 'number' ? fields.pid : null,
    startedAt: text(fields, 'startedAt'),
    optimizer: text(fields, 'optimizer') ?? 'unknown',
    torch: text(fields, 'torch'),
    hyperparameters: hyperparameters(fields.hyperparameters),
    groups: Array.isArray(fields.groups) ? fields.groups.map(hyperparameters) : [],
    every: typeof fields.every === 'number' ? fields.every : 1,
    tensors: tensors.map((tensor, index) => {
      const entry = object(tensor, `${what}: tensor ${index}`);
      const shape = entry.shape;
      if (typeof entry.name !== 'string' || !Array.isArray(shape) || !shape.every((size) => Number.isInteger(size) && size >= 0)) {
        throw new InputError(`${what}: tensor ${index} needs a name and a shape`);
      }
      return { name: entry.name, shape: shape as number[] };
    }),
    adaptive: fields.adaptive === true,
    detailTensor: text(fields, 'detailTensor'),
    note: text(fields, 'note'),
  };
}

function numberArray(value: unknown): number[] | null {
  return Array.isArray(value) ? value.map((item) => (typeof item === 'number' ? item : NaN)) : null;
}

/** A rate summary: counts only (version 2) become the whole summary; a whole one (version 1) is taken as written. */
function summary(value: unknown, what: string): Summary | null {
  if (value === null || value === undefined) return null;
  const fields = object(value, what);
  if (!Array.isArray(fields.counts)) return fields as unknown as Summary;
  const counts = fields.counts as unknown[];
  const sampled = fields.sampled;
  if (counts.length === 0 || !counts.every((count) => Number.isSafeInteger(count) && (count as number) >= 0) || !Number.isSafeInteger(sampled)) {
    throw new InputError(`${what}: a histogram needs counts and the number sampled`);
  }
  return summaryOfCounts(numeric(fields, 'min', what), numeric(fields, 'max', what), counts as number[], sampled as number);
}

function summariesByTensor(value: unknown, what: string): StepRecord['effectiveLrByTensor'] {
  if (value === null || value === undefined) return null;
  return Object.fromEntries(Object.entries(object(value, what)).map(([name, entry]) => [name, summary(entry, `${what}.${name}`)]));
}

/** The record as the dashboard and the reports take it (nulls for non-finite values become NaN). */
function record(value: unknown, what: string): StepRecord {
  const fields = object(value, `${what}: record`);
  const step = fields.step;
  if (!Number.isSafeInteger(step) || (step as number) < 1) throw new InputError(`${what}: step is ${JSON.stringify(step)}, expected a positive integer`);
  const ratios = object(fields.updateRatioByTensor ?? {}, `${what}: updateRatioByTensor`);
  const updateRatioByTensor: Record<string, number> = {};
  for (const [name, ratio] of Object.entries(ratios)) updateRatioByTensor[name] = typeof ratio === 'number' ? ratio : NaN;
  const scalars: Record<string, number> = {};
  for (const [name, scalar] of Object.entries(object(fields.scalars ?? {}, `${what}: scalars`))) scalars[name] = typeof scalar === 'number' ? scalar : NaN;
  const parsed: StepRecord = {
    step: step as number,
    epoch: typeof fields.epoch === 'number' ? fields.epoch : 0,
    lr: numeric(fields, 'lr', what),
    loss: numeric(fields, 'loss', what),
    fullLoss: optionalNumber(fields, 'fullLoss', what),
    gradNorm: numeric(fields, 'gradNorm', what),
    updateNorm: numeric(fields, 'updateNorm', what),
    updateRatio: numeric(fields, 'updateRatio', what),
    updateRatioByTensor,
    velocityNorm: optionalNumber(fields, 'velocityNorm', what),
    effectiveLr: summary(fields.effectiveLr, `${what}: effectiveLr`),
    effectiveLrByTensor: summariesByTensor(fields.effectiveLrByTensor, `${what}: effectiveLrByTensor`),
    effectiveLrDetail: numberArray(fields.effectiveLrDetail),
    gradDetail: numberArray(fields.gradDetail),
    accumulatorDetail: numberArray(fields.accumulatorDetail),
    evaluations: typeof fields.evaluations === 'number' ? fields.evaluations : 0,
    stepSize: optionalNumber(fields, 'stepSize', what),
    warning: text(fields, 'warning'),
    params: null,
  };
  const lrByGroup = numberArray(fields.lrByGroup);
  if (lrByGroup) parsed.lrByGroup = lrByGroup;
  if (Object.keys(scalars).length) parsed.scalars = scalars;
  return parsed;
}

function ratesAnswer(value: unknown, what: string): RatesAnswer {
  const fields = object(value, `${what}: answer`);
  if (!Number.isSafeInteger(fields.requestId)) throw new InputError(`${what}: an answer without its requestId`);
  return {
    requestId: fields.requestId as number,
    tensor: text(fields, 'tensor') ?? '',
    values: numberArray(fields.values),
    grad: numberArray(fields.grad),
    accumulator: numberArray(fields.accumulator),
    error: text(fields, 'error'),
  };
}

/** One line of a run log or the socket; `what` places errors (`run.jsonl:17`). Unknown types are 'other'. */
export function parseRunLogLine(line: string, what: string): RunLogLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new InputError(`${what}: not a JSON line (${error instanceof Error ? error.message : String(error)})`);
  }
  const fields = object(value, what);
  switch (fields.type) {
    case 'run':
      return { type: 'run', header: header(fields, what) };
    case 'step':
      return {
        type: 'step',
        step: {
          record: record(fields.record, what),
          seconds: typeof fields.seconds === 'number' ? fields.seconds : NaN,
          dropped: typeof fields.dropped === 'number' ? fields.dropped : 0,
          answers: Array.isArray(fields.answers) ? fields.answers.map((answer) => ratesAnswer(answer, what)) : [],
        },
      };
    case 'end':
      return {
        type: 'end',
        end: {
          step: typeof fields.step === 'number' ? fields.step : 0,
          seconds: typeof fields.seconds === 'number' ? fields.seconds : NaN,
          dropped: typeof fields.dropped === 'number' ? fields.dropped : 0,
          failed: fields.failed === true,
        },
      };
    default:
      return { type: 'other' };
  }
}

/**
 * A whole log. Every line must read, except a last one cut off mid-way (a killed job writes at most one such
 * line): the log opens up to its last complete record.
 */
export function readRunLog(content: string, file: string): RunLog {
  const lines = content.split('\n');
  // A complete log ends with a newline: the last piece is empty, or the cut-off rest of a line.
  const rest = lines.pop() ?? '';
  let cutOff = false;
  if (rest.trim() !== '') {
    try {
      JSON.parse(rest);
      lines.push(rest);
    } catch {
      cutOff = true;
    }
  }
  let parsedHeader: RunLogHeader | null = null;
  const steps: RunLogStep[] = [];
  let end: RunLogEnd | null = null;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const what = `${file}:${index + 1}`;
    const parsed = parseRunLogLine(line, what);
    if (parsed.type === 'run') {
      if (parsedHeader) throw new InputError(`${what}: a second run begins in the same log`);
      parsedHeader = parsed.header;
    } else if (!parsedHeader) {
      if (parsed.type !== 'other') throw new InputError(`${what}: the log does not begin with its run line (is it a gradlens.watch log?)`);
    } else if (parsed.type === 'step') steps.push(parsed.step);
    else if (parsed.type === 'end') end = parsed.end;
  });
  if (!parsedHeader) throw new InputError(`${file}: empty, or not a gradlens.watch run log (no run line)`);
  return { header: parsedHeader, steps, end, cutOff };
}
