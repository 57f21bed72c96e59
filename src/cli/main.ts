/** The `gradlens` command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErrorReport } from '../core/errors';
import { unknownProblemMessage } from '../core/names';
import { type FileReport, PROBLEM_EXTENSIONS, type ProblemReport, checkFile, isProblemFile } from '../runner/runner';
import { analyzeSource, describeSource, optimizeSource } from '../runner/optimize';
import { DEFAULT_PROBLEM_GLOB, findProblemFiles } from '../runner/problem-files';
import { formatFile, formatSummary } from '../report/checks';
import { CLI_SETTINGS, displayPath, errorText } from '../report/errors';
import { InputError } from '../core/errors';
import { readRunLog } from '../core/run-log';
import { analysisJson, formatAnalysis, formatComparison, formatRun, formatRunLog, runJson } from '../report/runs';
import { CHECK_USAGE, type CheckCommand, UsageError, parseCheckArgs } from './args';
import { type OptimizerCommand, optimizerUsage, parseOptimizerArgs } from './optimize-args';
import { RunStream } from './run-output';

const USAGE = `Usage: gradlens <command> [options]

Commands:
  check <file|folder...>                check analytic gradients against finite differences
  optimize <file|builtin:NAME>          step an optimizer and print its telemetry
  compare <file|builtin:NAME>           several optimizers from the same start
  analyze <file|builtin:NAME>           classify the critical point (Hessian eigenvalues)
  show <run.jsonl>                      summarize a gradlens.watch run log (a training script's optimizer)

Run 'gradlens <command> --help' for the options.`;

/** Problem files: TypeScript/JavaScript, or Python (.py). */
function validateFiles(files: string[]): void {
  for (const file of files) {
    if (!isProblemFile(file)) throw new UsageError(`${file}: not a problem file (expected ${PROBLEM_EXTENSIONS.join(' ')})`);
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
    if (fs.statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory, expected a problem file`);
  }
}

/**
 * `check`'s targets as files: a folder stands for its problem files (the extension's glob and excluded
 * folders, sorted), a file for itself; each file once, in the order given.
 */
function expandTargets(targets: string[]): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    let found = [target];
    if (!fs.existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
    if (fs.statSync(target).isDirectory()) {
      const { files: under, unreadable } = findProblemFiles(target);
      for (const { folder, reason } of unreadable) process.stderr.write(`gradlens: skipped ${folder}: cannot read it (${reason})\n`);
      if (under.length === 0) throw new UsageError(`no problem files under ${target} (looked for ${DEFAULT_PROBLEM_GLOB})`);
      found = under;
    } else validateFiles([target]);
    for (const file of found) {
      const key = path.resolve(file);
      if (!seen.has(key)) files.push(file);
      seen.add(key);
    }
  }
  return files;
}

/** An error as the CLI prints it; `errorDetail` keeps its structure for tools. */
const text = (error: ErrorReport | null) => (error ? errorText(error, CLI_SETTINGS) : null);

function errorDetail(error: ErrorReport | null): object | null {
  if (!error) return null;
  const location = error.location ? { file: displayPath(error.location.file), line: error.location.line, column: error.location.column } : null;
  return { message: error.message, kind: error.kind, phase: error.phase, element: error.element, location };
}

/** A GradLens bug gets its stack on stderr, for a bug report; the result says "internal error". */
function reportBug(error: ErrorReport | null): void {
  if (error?.kind === 'internal' && error.stack) process.stderr.write(`gradlens: internal error (please report it): ${error.stack}\n`);
}

function toJson(command: CheckCommand, reports: FileReport[], passed: boolean): string {
  const problems = reports.flatMap((report) => report.problems).map((problem: ProblemReport) => ({
    file: problem.file,
    name: problem.name,
    line: problem.line,
    kind: problem.kind,
    order: problem.order,
    mode: problem.mode,
    verdict: problem.verdict,
    passed: problem.passed,
    maxAbsError: problem.maxAbsError,
    maxRelError: problem.maxRelError,
    evaluations: problem.evaluations,
    size: problem.size,
    checked: problem.checked,
    failed: problem.failed,
    kinks: problem.kinks,
    worst: problem.worst,
    failedElements: problem.failedElements,
    projections: problem.projections,
    batch: problem.batch,
    error: text(problem.error),
    errorDetail: errorDetail(problem.error),
    note: problem.note,
    warnings: problem.warnings,
    seconds: problem.seconds,
  }));
  const errors = reports.filter((report) => report.loadError).map((report) => ({ file: report.file, error: text(report.loadError), errorDetail: errorDetail(report.loadError) }));
  return JSON.stringify({ passed, options: command.options, problems, errors }, null, 2);
}

async function runCheck(command: CheckCommand): Promise<number> {
  const files = expandTargets(command.files);
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const progress = Boolean(process.stderr.isTTY) && !command.json;
  const controller = interruptOnSigint();
  const reports: FileReport[] = [];
  for (const file of files) {
    const events = {
      signal: controller.signal,
      onOutput: (text: string) => process.stderr.write(text),
      onProgress: progress
        ? (_file: string, problem: string, done: number, total: number) => process.stderr.write(`\r\x1b[K  checking ${problem}: ${Math.round((100 * done) / Math.max(1, total))}%`)
        : undefined,
      onResult: progress ? () => process.stderr.write('\r\x1b[K') : undefined,
    };
    const report = await checkFile(path.resolve(file), command.options, command.limits, events, command.problems, command.python ?? null);
    report.file = file;
    for (const problem of report.problems) problem.file = file;
    reports.push(report);
    for (const error of [report.loadError, ...report.problems.map((problem) => problem.error)]) reportBug(error);
    // A file whose problems --problem left out has nothing to show (a folder may hold many).
    const leftOut = command.problems !== null && report.problems.length === 0 && !report.loadError && (report.discovered?.length ?? 0) > 0;
    if (!command.json && !leftOut) process.stdout.write(`${formatFile(report, { color, settings: CLI_SETTINGS })}\n`);
    if (report.cancelled) break;
  }
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError).length;
  // A --problem that names nothing in the files is a usage error (a typo, most likely), as a bad flag is.
  const loaded = reports.filter((report) => report.discovered !== null);
  const existing = loaded.flatMap((report) => report.discovered!.map((problem) => problem.name));
  const interrupted = reports.some((report) => report.cancelled);
  const unknown = interrupted || loaded.length === 0 ? [] : (command.problems ?? []).filter((name) => !existing.includes(name));
  let exitCode: number;
  if (problems.length === 0 || unknown.length > 0) exitCode = 2;
  else exitCode = problems.every((problem) => problem.passed) && loadErrors === 0 ? 0 : 1;
  if (command.json) process.stdout.write(`${toJson(command, reports, exitCode === 0)}\n`);
  else if (problems.length > 0 || unknown.length === 0) process.stdout.write(`\n${formatSummary(problems, loadErrors)}\n`);
  const notLoaded = files.length - loaded.length;
  for (const name of unknown) {
    const message = unknownProblemMessage(name, loaded.map((report) => report.file), existing);
    process.stderr.write(`gradlens: ${message}${notLoaded > 0 ? ` (${notLoaded} of the files did not load)` : ''}\n`);
  }
  return exitCode;
}

function interruptOnSigint(): AbortController {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller;
}

/** Records a terminal table is drawn from (an evenly thinned sample of a longer run): it shows about twenty. */
const TERMINAL_RECORDS = 2000;

/** optimize, compare and analyze: exit 0 done, 1 a run diverged or user code failed mid-run, 2 nothing could run. */
async function runOptimizerCommand(command: OptimizerCommand, userThinned: boolean): Promise<number> {
  if ('file' in command.source) validateFiles([command.source.file]);
  const source = describeSource(command.source);
  const events = { signal: interruptOnSigint().signal, onOutput: (text: string) => process.stderr.write(text) };
  if (command.command === 'analyze') {
    const outcome = await analyzeSource({ source: command.source, problem: command.problem, run: command.runs[0] ?? null, train: command.train }, command.limits, events);
    if (command.output === 'json') {
      process.stdout.write(`${JSON.stringify({ source, at: command.at, run: outcome.run ? runJson(outcome.run, CLI_SETTINGS) : null, analysis: outcome.report && analysisJson(outcome.report), error: text(outcome.error) }, null, 2)}\n`);
    } else {
      if (outcome.run) process.stdout.write(`${formatRun(outcome.run, source, userThinned, CLI_SETTINGS)}\n\n`);
      if (outcome.report) process.stdout.write(`${formatAnalysis(outcome.report, command.at === 'start' ? `${source} at its start` : `${source} after ${outcome.run?.optimizer}`)}\n`);
    }
    if (outcome.error) process.stderr.write(`gradlens: ${text(outcome.error)}\n`);
    reportBug(outcome.error);
    return outcome.report ? 0 : outcome.nothingRan ? 2 : 1;
  }
  // Machine-readable output streams as the runs go (constant memory); the terminal's table keeps a sample.
  const stream = command.output === 'text'
    ? null
    : new RunStream({
      output: command.output,
      command: command.command,
      source,
      tolerance: command.train.tolerance,
      hyperparameters: (run) => command.runs.find((entry) => entry.name === run)?.hyperparameters ?? {},
      write: (chunk) => process.stdout.write(chunk),
    });
  const outcome = await optimizeSource({ source: command.source, problem: command.problem, runs: command.runs, train: command.train }, command.limits, {
    ...events,
    keepRecords: stream ? 'none' : TERMINAL_RECORDS,
    onRunStarted: (started) => stream?.runStarted(started.run, started.tensors),
    onRecords: (run, records) => stream?.records(run, records),
    onTrained: (result) => stream?.trained(result),
  });
  const results = outcome.results;
  if (stream) {
    stream.finish(outcome.error);
  } else if (command.command === 'compare') {
    if (results.length > 0) process.stdout.write(`${formatComparison(results, source, command.train.tolerance ?? 0)}\n`);
  } else {
    for (const result of results) process.stdout.write(`${formatRun(result, source, userThinned, CLI_SETTINGS)}\n`);
  }
  if (outcome.error) process.stderr.write(`gradlens: ${text(outcome.error)}\n`);
  for (const error of [outcome.error, ...results.map((result) => result.failure?.error ?? null)]) reportBug(error);
  if (command.save && results.length === 1) fs.writeFileSync(command.save, `${JSON.stringify(results[0].checkpoint)}\n`);
  if (outcome.nothingRan) return 2;
  return outcome.error || results.some((result) => result.diverged || result.failure) ? 1 : 0;
}

const SHOW_USAGE = `Usage: gradlens show <run.jsonl> [--json]

Summarizes the log of a training script watched with gradlens.watch(optimizer): the run, its recorded
steps (about twenty rows), the last step per parameter and how it ended. A log cut off mid-line (a killed
job) is read up to its last complete record. --json prints the records as GradLens's own runs do.`;

function showRunLog(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${SHOW_USAGE}\n`);
    return 0;
  }
  const json = args.includes('--json');
  const files = args.filter((arg) => arg !== '--json');
  const unknown = files.find((arg) => arg.startsWith('-'));
  if (unknown) throw new UsageError(`show: unknown option ${unknown}\n${SHOW_USAGE}`);
  if (files.length !== 1) throw new UsageError(`show takes one run log\n${SHOW_USAGE}`);
  const [file] = files;
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    const log = readRunLog(content, file);
    process.stdout.write(json ? `${JSON.stringify({ ...log.header, steps: log.steps.map((step) => ({ ...step.record, seconds: step.seconds })), end: log.end, cutOff: log.cutOff })}\n` : `${formatRunLog(log, file)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`gradlens: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      process.stdout.write(`${readVersion()}\n`);
      return 0;
    }
    if (command === 'optimize' || command === 'compare' || command === 'analyze') {
      const parsed = parseOptimizerArgs(command, rest);
      if (parsed === null) {
        process.stdout.write(`${optimizerUsage(command)}\n`);
        return 0;
      }
      return await runOptimizerCommand(parsed, rest.includes('--every'));
    }
    if (command === 'show') return showRunLog(rest);
    if (command !== 'check') throw new UsageError(`unknown command '${command}'\n${USAGE}`);
    const parsed = parseCheckArgs(rest);
    if (parsed === null) {
      process.stdout.write(`${CHECK_USAGE}\n`);
      return 0;
    }
    return await runCheck(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`gradlens: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function readVersion(): string {
  const manifest = path.resolve(__dirname, '..', 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

if (require.main === module) {
  // `gradlens ... | head` closes stdout early: stop quietly, as other command-line tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`gradlens: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
