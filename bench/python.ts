/**
 * Python benchmark (`npm run bench:python`; `node out/bench/python.js --quick` for two repetitions,
 * `--reps N`, `--python PATH`, default /usr/bin/python3, Debian's interpreter with NumPy and torch).
 *
 * A full check of bench/problems/cubic_grad.py (NumPy, n = 10,000 parameters, f = mean(w³ + 2w), a few
 * tens of µs per evaluation), three ways in the same run, each repetition rotating which goes first:
 *  - GradLens: checkFile as the CLI calls it (start the runner process and its interpreter, import NumPy and the file,
 *    2n+2 evaluations of f in bulk plans, 2 of grad), the wall time the caller sees, and its two parts:
 *    start + load (until the file's problems are listed) and the check (CheckResult.seconds);
 *  - torch.autograd.gradcheck on the same function written with torch, float64, at the same point with
 *    the same eps, atol and rtol (bench/problems/cubic_torch_gradcheck.py); only gradcheck is timed,
 *    not the import of torch. Its default fast_mode=False builds the numerical Jacobian, 2n evaluations;
 *  - the bare loop (bench/problems/cubic_bare_loop.py): 2n+1 evaluations of the same NumPy f with the
 *    point perturbed in place, and one of grad, in a fresh interpreter; the process's wall time (start,
 *    NumPy, the loop) and the loop alone.
 * Targets: GradLens's wall time / gradcheck ≤ 1.0, GradLens's wall time / the bare loop's ≤ 1.1.
 *
 * Prints markdown tables to stdout (progress to stderr): medians with their ranges, and the ratios of
 * every repetition. Nothing here is a timed assertion: only a side that computes a wrong check (or
 * disagrees with the others) fails the run.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkFile } from '../src/runner/runner';
import { formatMs, formatRatio, median, parseBenchArgs, table } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const PROBLEMS = path.join(ROOT, 'bench', 'problems');
const PROBLEM_FILE = path.join(PROBLEMS, 'cubic_grad.py');
const N = 10_000;
/** Generous: the benchmark measures time, it must not be cut short by the runner's limit. */
const LIMITS = { timeoutSeconds: 3600, memoryMb: 4096 };
/** GradLens and the bare loop compute the same differences the same way; their errors agree to rounding. */
const SAME_ERROR_TOLERANCE = 1e-15;

interface Options {
  reps: number;
  python: string;
}

function parseArgs(argv: string[]): Options {
  const { quick, reps, python } = parseBenchArgs('bench:python', argv, {
    quick: { value: false, help: 'two repetitions instead of --reps' },
    reps: { value: 5, help: 'repetitions' },
    python: { value: '/usr/bin/python3', help: 'interpreter with NumPy (and torch for gradcheck)' },
  });
  return { reps: quick ? 2 : reps, python };
}

function progress(text: string): void {
  process.stderr.write(`[bench:python] ${text}\n`);
}

type Side = 'gradlens' | 'gradcheck' | 'bare';

interface Repetition {
  order: Side[];
  /** checkPythonFile from call to report, its start + load part, its check part, ms. */
  gradlens: { wallMs: number; loadMs: number; checkMs: number };
  /** gradcheck alone, ms (NaN without torch). */
  gradcheckMs: number;
  /** The bare loop's process from spawn to exit, and the loop alone, ms. */
  bare: { wallMs: number; loopMs: number };
}

async function runGradLens(python: string): Promise<{ wallMs: number; loadMs: number; checkMs: number; maxAbsError: number }> {
  const started = performance.now();
  let loaded = NaN;
  const report = await checkFile(PROBLEM_FILE, {}, LIMITS, { onLoaded: () => (loaded = performance.now()), onOutput: (text: string) => process.stderr.write(text) }, null, python);
  const wallMs = performance.now() - started;
  if (report.loadError) throw new Error(report.loadError.message);
  const [result] = report.problems;
  if (result?.verdict !== 'pass' || result.evaluations.f !== 2 * N + 2 || result.evaluations.grad !== 2) {
    throw new Error(`GradLens: expected a pass with f ${2 * N + 2}, grad 2; got ${JSON.stringify(result && { verdict: result.verdict, evaluations: result.evaluations, error: result.error })}`);
  }
  return { wallMs, loadMs: loaded - started, checkMs: result.seconds * 1000, maxAbsError: result.maxAbsError };
}

/** Runs one of the Python scripts beside the problem; its last stdout line is JSON. */
function runScript(python: string, script: string): { wallMs: number; reply: Record<string, unknown> } {
  const started = performance.now();
  const result = spawnSync(python, [path.join(PROBLEMS, script)], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${script} exited with ${result.status ?? result.signal}: ${result.stderr || result.error?.message}`);
  return { wallMs, reply: JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown> };
}

function runBare(python: string): { wallMs: number; loopMs: number; maxAbsError: number } {
  const { wallMs, reply } = runScript(python, 'cubic_bare_loop.py');
  if (reply.passed !== true || reply.evaluations !== 2 * N + 1) throw new Error(`bare loop: ${JSON.stringify(reply)}`);
  return { wallMs, loopMs: (reply.seconds as number) * 1000, maxAbsError: reply.maxAbsError as number };
}

function runGradcheck(python: string): number {
  const { reply } = runScript(python, 'cubic_torch_gradcheck.py');
  if (reply.passed !== true) throw new Error(`torch gradcheck: ${JSON.stringify(reply)}`);
  return (reply.seconds as number) * 1000;
}

function pythonVersions(python: string): { numpy: string; torch: string | null; python: string } | string {
  const probe = spawnSync(python, ['-c', 'import json, sys, numpy\ntry:\n import torch; t = "%s, %d threads" % (torch.__version__, torch.get_num_threads())\nexcept ImportError:\n t = None\nprint(json.dumps({"python": sys.version.split()[0], "numpy": numpy.__version__, "torch": t}))'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${python} cannot import numpy: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(probe.stdout) as { numpy: string; torch: string | null; python: string };
}

function range(values: number[]): string {
  return `${formatMs(Math.min(...values))} – ${formatMs(Math.max(...values))}`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const versions = pythonVersions(options.python);
  if (typeof versions === 'string') {
    process.stderr.write(`bench:python: ${versions}\n`);
    process.exit(2);
  }
  const sides: Side[] = versions.torch ? ['gradlens', 'gradcheck', 'bare'] : ['gradlens', 'bare'];
  const reps: Repetition[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    const order = [...sides.slice(rep % sides.length), ...sides.slice(0, rep % sides.length)];
    const repetition: Repetition = { order, gradlens: { wallMs: NaN, loadMs: NaN, checkMs: NaN }, gradcheckMs: NaN, bare: { wallMs: NaN, loopMs: NaN } };
    let gradlensError = NaN;
    let bareError = NaN;
    for (const side of order) {
      if (side === 'gradlens') {
        const { maxAbsError, ...times } = await runGradLens(options.python);
        repetition.gradlens = times;
        gradlensError = maxAbsError;
      } else if (side === 'gradcheck') {
        repetition.gradcheckMs = runGradcheck(options.python);
      } else {
        const { maxAbsError, ...times } = runBare(options.python);
        repetition.bare = times;
        bareError = maxAbsError;
      }
    }
    if (!(Math.abs(gradlensError - bareError) <= SAME_ERROR_TOLERANCE)) throw new Error(`GradLens's max abs error ${gradlensError} differs from the bare loop's ${bareError}`);
    reps.push(repetition);
    progress(`rep ${rep + 1}/${options.reps} (${order.join(', ')}): GradLens ${formatMs(repetition.gradlens.wallMs)} ms (load ${formatMs(repetition.gradlens.loadMs)}, check ${formatMs(repetition.gradlens.checkMs)}), gradcheck ${formatMs(repetition.gradcheckMs)} ms, bare loop ${formatMs(repetition.bare.wallMs)} ms (loop ${formatMs(repetition.bare.loopMs)})`);
  }

  const column = (pick: (rep: Repetition) => number) => reps.map(pick);
  const timeRow = (label: string, what: string, values: number[]) => [label, what, formatMs(median(values)), range(values)];
  const out: string[] = [];
  out.push(`## Full check of a NumPy problem, n = ${N.toLocaleString('en-US')} (bench/problems/cubic_grad.py)`);
  out.push('');
  out.push(`Python ${versions.python}, NumPy ${versions.numpy}, torch ${versions.torch ?? 'not installed (gradcheck side skipped)'}; ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)} at the end; ${options.reps} repetitions, the order of the sides rotated.`);
  out.push('');
  out.push(table(['side', 'what is timed', 'median ms', 'min – max ms'], [
    timeRow('GradLens', 'checkFile: runner process, interpreter, load, check (2n+2 f, 2 grad)', column((rep) => rep.gradlens.wallMs)),
    timeRow('  start + load', 'runner process, interpreter, NumPy, the file, until listed', column((rep) => rep.gradlens.loadMs)),
    timeRow('  check', 'the check itself (bulk evaluation plans over JSON-RPC)', column((rep) => rep.gradlens.checkMs)),
    ...(versions.torch ? [timeRow('torch gradcheck', 'gradcheck alone, float64, fast_mode=False (2n evaluations)', column((rep) => rep.gradcheckMs))] : []),
    timeRow('bare loop', 'a fresh interpreter: start, NumPy, 2n+1 f, 1 grad', column((rep) => rep.bare.wallMs)),
    timeRow('  loop', 'the loop alone', column((rep) => rep.bare.loopMs)),
  ], ['l', 'l', 'r', 'r']));
  out.push('');
  const ratios = {
    gradcheck: column((rep) => rep.gradlens.wallMs / rep.gradcheckMs),
    bare: column((rep) => rep.gradlens.wallMs / rep.bare.wallMs),
    loops: column((rep) => rep.gradlens.checkMs / rep.bare.loopMs),
  };
  const header = ['repetition', 'order', ...(versions.torch ? ['GradLens / gradcheck (target ≤ 1.0)'] : []), 'GradLens / bare loop (target ≤ 1.1)', 'check / loop alone'];
  const ratioRow = (label: string, order: string, pick: (values: number[]) => number) => [
    label,
    order,
    ...(versions.torch ? [formatRatio(pick(ratios.gradcheck))] : []),
    formatRatio(pick(ratios.bare)),
    formatRatio(pick(ratios.loops)),
  ];
  out.push(table(header, [
    ...reps.map((rep, k) => ratioRow(String(k + 1), rep.order.join(', '), (values) => values[k])),
    ratioRow('median', '', median),
  ], ['l', 'l', ...(versions.torch ? ['r' as const] : []), 'r', 'r']));
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:python: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
