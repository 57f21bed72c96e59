/** The `gradlens` command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROBLEM_FILE_EXTENSIONS } from '../runner/bundle';
import { type FileReport, type ProblemReport, checkFile } from '../runner/runner';
import { CHECK_USAGE, type CheckCommand, UsageError, parseCheckArgs } from './args';
import { formatFile, formatSummary } from './format';

const USAGE = `Usage: gradlens <command> [options]

Commands:
  check <file...>   check analytic gradients against finite differences

Run 'gradlens check --help' for the options.`;

function validateFiles(files: string[]): void {
  for (const file of files) {
    const extension = path.extname(file);
    if (!(PROBLEM_FILE_EXTENSIONS as readonly string[]).includes(extension)) {
      throw new UsageError(`${file}: not a problem file (expected ${PROBLEM_FILE_EXTENSIONS.join(' ')})`);
    }
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
    if (fs.statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory, expected a problem file`);
  }
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
    projections: problem.projections,
    batch: problem.batch,
    error: problem.error,
    note: problem.note,
    seconds: problem.seconds,
  }));
  const errors = reports.filter((report) => report.loadError).map((report) => ({ file: report.file, error: report.loadError }));
  return JSON.stringify({ passed, options: command.options, problems, errors }, null, 2);
}

async function runCheck(command: CheckCommand): Promise<number> {
  validateFiles(command.files);
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const progress = Boolean(process.stderr.isTTY) && !command.json;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const reports: FileReport[] = [];
  for (const file of command.files) {
    const report = await checkFile(path.resolve(file), command.options, command.limits, {
      signal: controller.signal,
      onOutput: (text) => process.stderr.write(text),
      onProgress: progress
        ? (_file, problem, done, total) => process.stderr.write(`\r\x1b[K  checking ${problem}: ${Math.round((100 * done) / Math.max(1, total))}%`)
        : undefined,
      onResult: progress ? () => process.stderr.write('\r\x1b[K') : undefined,
    }, command.problems);
    report.file = file;
    for (const problem of report.problems) problem.file = file;
    reports.push(report);
    if (!command.json) process.stdout.write(`${formatFile(report, { color })}\n`);
    if (report.cancelled) break;
  }
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError).length;
  let exitCode: number;
  if (problems.length === 0) {
    exitCode = 2;
    if (command.problems && loadErrors === 0) {
      process.stderr.write(`gradlens: no problem named ${command.problems.join(', ')} in ${command.files.join(', ')}\n`);
    }
  } else {
    exitCode = problems.every((problem) => problem.passed) && loadErrors === 0 ? 0 : 1;
  }
  if (command.json) process.stdout.write(`${toJson(command, reports, exitCode === 0)}\n`);
  else process.stdout.write(`\n${formatSummary(problems, loadErrors)}\n`);
  return exitCode;
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
