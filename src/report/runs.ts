/** Optimizer runs and critical-point analyses as text, JSON and CSV. */
import type { CriticalPointReport } from '../core/analysis';
import type { Hyperparameters } from '../core/optim/optimizer';
import type { StepRecord, TrainResult } from '../core/optim/train';
import type { RunLog } from '../core/run-log';
import { type NamedShape, namedValues } from '../core/tensor';
import { reportNumber } from './checks';
import { type SettingWords, errorText } from './errors';

const DISPLAY_ROWS = 20;
/** About how many parameter values a terminal summary lists. */
const PARAMS_SHOWN = 8;

function hyperparameterText(hyperparameters: Hyperparameters): string {
  return Object.entries(hyperparameters)
    .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(', ');
}

/** The parameters as the problem names them, the first few numbers of each: `x [-1.14, 1.05]; b 0.5`. */
function paramsText(layout: readonly NamedShape[], params: readonly number[]): string {
  // About eight numbers in all, but at least two of every tensor so each one shows its scale.
  const parts: string[] = [];
  let offset = 0;
  let room = PARAMS_SHOWN;
  layout.forEach(({ name, shape }, index) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = params.slice(offset, offset + size);
    offset += size;
    if (shape.length === 0) {
      parts.push(`${name} ${reportNumber(values[0])}`);
      room -= 1;
      return;
    }
    const reserved = 2 * (layout.length - index - 1);
    const listed = values.slice(0, Math.max(2, room - reserved)).map(reportNumber);
    room -= listed.length;
    const rest = size > listed.length ? `, … ${size.toLocaleString('en-US')} in all` : '';
    parts.push(`${name} [${listed.join(', ')}${rest}]`);
  });
  return parts.join('; ');
}

/** The records to show in a terminal: all when the user thinned them, else about twenty. */
function displayed(records: StepRecord[], userThinned: boolean): StepRecord[] {
  if (userThinned || records.length <= DISPLAY_ROWS) return records;
  const stride = Math.ceil(records.length / DISPLAY_ROWS);
  return records.filter((_record, index) => index % stride === 0 || index === records.length - 1);
}

/** The records as a table of a terminal's lines (about twenty rows unless the user thinned them). */
function recordTable(records: StepRecord[], userThinned: boolean): string[] {
  const header = ['step', 'epoch', 'lr', 'loss', '|grad|', '|update|', 'update/param', 'eff. lr (median)'];
  const rows = displayed(records, userThinned).map((record) => [
    String(record.step),
    String(record.epoch),
    reportNumber(record.lr),
    reportNumber(record.loss),
    reportNumber(record.gradNorm),
    reportNumber(record.updateNorm),
    reportNumber(record.updateRatio),
    record.effectiveLr ? reportNumber(record.effectiveLr.median) : '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => cell.padStart(widths[column])).join('  ')}`;
  return [line(header), ...rows.map(line)];
}

export function formatRun(result: TrainResult, source: string, userThinned: boolean, settings: SettingWords): string {
  const lines = [`${result.optimizer} on ${source} (${hyperparameterText(result.hyperparameters)})`, ...recordTable(result.steps, userThinned)];
  const warnings = [...new Set(result.steps.map((record) => record.warning).filter((warning): warning is string => warning !== null))];
  for (const warning of warnings) lines.push(`  warning: ${warning}`);
  if (result.diverged) lines.push(`  diverged at step ${result.diverged.step}: ${result.diverged.message}; the last finite parameters are kept`);
  if (result.failure) lines.push(`  failed at step ${result.failure.step}: ${errorText(result.failure.error, settings)}; the parameters before that step are kept`);
  const loss = result.final.loss === null ? 'not finite' : reportNumber(result.final.loss);
  lines.push(`  final loss ${loss} after ${result.final.step} steps (${reportNumber(result.seconds)} s); params ${paramsText(result.layout, result.final.params)}`);
  return lines.join('\n');
}

/** A record as results show it: its parameters (when recorded) named and shaped like the problem's. */
export function recordJson(record: StepRecord, layout: readonly NamedShape[]): StepRecord | object {
  return record.params ? { ...record, params: namedValues(layout, record.params) } : record;
}

/** What `--json` prints of a run after its records (its end), errors as text in `settings`' words. */
export function runEndJson(result: TrainResult, settings: SettingWords): object {
  return {
    final: { ...result.final, params: namedValues(result.layout, result.final.params) },
    stopped: result.stopped,
    diverged: result.diverged,
    failure: result.failure ? { step: result.failure.step, error: errorText(result.failure.error, settings) } : null,
    stepsToTolerance: result.stepsToTolerance,
    seconds: result.seconds,
  };
}

/** A run as `--json` prints it. */
export function runJson(result: TrainResult, settings: SettingWords): object {
  return {
    optimizer: result.optimizer,
    hyperparameters: result.hyperparameters,
    steps: result.steps.map((record) => recordJson(record, result.layout)),
    ...runEndJson(result, settings),
  };
}

const CSV_COLUMNS = ['step', 'epoch', 'lr', 'loss', 'fullLoss', 'gradNorm', 'updateNorm', 'updateRatio', 'velocityNorm', 'effectiveLrMin', 'effectiveLrMedian', 'effectiveLrMax', 'stepSize'] as const;

export const CSV_HEADER = ['optimizer', ...CSV_COLUMNS].join(',');

/** One record as a CSV row under CSV_HEADER. */
export function csvRow(optimizer: string, record: StepRecord): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], number | null> = {
    step: record.step,
    epoch: record.epoch,
    lr: record.lr,
    loss: record.loss,
    fullLoss: record.fullLoss,
    gradNorm: record.gradNorm,
    updateNorm: record.updateNorm,
    updateRatio: record.updateRatio,
    velocityNorm: record.velocityNorm,
    effectiveLrMin: record.effectiveLr?.min ?? null,
    effectiveLrMedian: record.effectiveLr?.median ?? null,
    effectiveLrMax: record.effectiveLr?.max ?? null,
    stepSize: record.stepSize,
  };
  return [optimizer, ...CSV_COLUMNS.map((column) => (cells[column] === null ? '' : String(cells[column])))].join(',');
}

export function formatComparison(results: TrainResult[], source: string, tolerance: number): string {
  const header = ['optimizer', `steps to loss <= ${reportNumber(tolerance)}`, 'final loss', 'wall time'];
  const rows = results.map((result) => [
    result.optimizer,
    result.stepsToTolerance === null ? (result.diverged ? `diverged at ${result.diverged.step}` : `not within ${result.final.step}`) : String(result.stepsToTolerance),
    result.final.loss === null ? 'not finite' : reportNumber(result.final.loss),
    `${reportNumber(result.seconds * 1000)} ms`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')}`;
  return [`${source}: same start, same batches`, line(header), ...rows.map(line)].join('\n');
}

/** An analysis as `--json` prints it: the escape direction named and shaped like the parameters. */
export function analysisJson(report: CriticalPointReport): object {
  const escape = report.escape && { ...report.escape, direction: namedValues(report.layout, report.escape.direction) };
  return { ...report, escape };
}

export function formatAnalysis(report: CriticalPointReport, where: string): string {
  const lines = [`${where}: ${report.summary}`];
  lines.push(`  loss ${reportNumber(report.loss)}, gradient norm ${reportNumber(report.gradientNorm)}`);
  const values = report.spectrum.eigenvalues.slice(0, 12).map(reportNumber).join(', ');
  lines.push(`  Hessian eigenvalues (${report.hessian.source}): ${values}${report.spectrum.eigenvalues.length > 12 ? ', …' : ''}`);
  lines.push(`  classification ${report.classification}, minimum ratio ${report.minimumRatio === null ? 'unknown' : reportNumber(report.minimumRatio)}, condition number ${report.conditionNumber === null ? 'infinite or unknown' : reportNumber(report.conditionNumber)}`);
  if (report.escape) {
    const direction = report.escape.elements.slice(0, 6).map((element) => `${element.element} ${reportNumber(element.value)}`).join(', ');
    lines.push(`  escape direction (eigenvalue ${reportNumber(report.escape.eigenvalue)}): ${direction}`);
  }
  return lines.join('\n');
}

/** torch's switches of implementation (foreach, fused, ...): not part of the rule, left out of a log's summary. */
const IMPLEMENTATION_OPTIONS = new Set(['foreach', 'fused', 'capturable', 'differentiable']);

/** `gradlens show`: a watched run's log as text: what ran, its steps, the last step per parameter, how it ended. */
export function formatRunLog(log: RunLog, file: string): string {
  const { header, steps, end } = log;
  const hyper = Object.fromEntries(Object.entries(header.hyperparameters).filter(([name, value]) => value !== null && !IMPLEMENTATION_OPTIONS.has(name)));
  const size = header.tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((a, b) => a * b, 1), 0);
  const origin = [header.script ?? 'an interactive session', header.torch && `torch ${header.torch}`, header.startedAt && `started ${header.startedAt}`].filter(Boolean).join(', ');
  const lines = [`${header.name}: ${header.optimizer} (${hyperparameterText(hyper)})`, `  ${origin}`];
  if (header.groups.length > 1) lines.push(`  ${header.groups.length} parameter groups, lr ${header.groups.map((group) => reportNumber(Number(group.lr))).join(', ')}`);
  const first = steps[0]?.record.step;
  const last = steps.at(-1);
  lines.push(`  ${header.tensors.length} tensors, ${size.toLocaleString('en-US')} parameters; ${steps.length} records${header.every > 1 ? ` (every ${header.every} steps)` : ''}${last ? `, steps ${first} to ${last.record.step}` : ''}`);
  if (header.note) lines.push(`  note: ${header.note}`);
  if (steps.length) lines.push(...recordTable(steps.map((step) => step.record), false));
  if (last) {
    const record = last.record;
    lines.push(`  at step ${record.step}, per parameter:`);
    const rows = header.tensors.map((tensor) => {
      const summary = record.effectiveLrByTensor?.[tensor.name] ?? null;
      return [
        tensor.name,
        tensor.shape.length ? tensor.shape.join('×') : 'scalar',
        reportNumber(record.updateRatioByTensor[tensor.name] ?? NaN),
        summary ? `${reportNumber(summary.median)} (${reportNumber(summary.min)} … ${reportNumber(summary.max)})` : '-',
      ];
    });
    const titles = ['parameter', 'shape', 'update/param', 'eff. lr median (min … max)'];
    const widths = titles.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]) => `    ${cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')}`;
    lines.push(line(titles), ...rows.map(line));
    const scalars = Object.entries(record.scalars ?? {});
    if (scalars.length) lines.push(`  logged: ${scalars.map(([name, value]) => `${name} ${reportNumber(value)}`).join(', ')}`);
  }
  const dropped = end?.dropped ?? last?.dropped ?? 0;
  if (dropped > 0) lines.push(`  ${dropped} records were dropped (the dashboard or disk did not keep up; the training was not slowed)`);
  if (end) {
    lines.push(`  ended after step ${end.step} (${reportNumber(end.seconds)} s)${end.failed ? '; the watch stopped recording on an error of its own (see the script\'s stderr)' : ''}`);
  } else {
    lines.push(`  no end: the script was stopped before it closed the watch (killed?), or still runs${log.cutOff ? '; its last line was cut off mid-way and is left out' : ''}`);
  }
  if (!steps.length) lines.push(`  ${file} holds no recorded step yet`);
  return lines.join('\n');
}
