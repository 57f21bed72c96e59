/**
 * GradLens benchmark (`npm run bench`; `node out/bench/run.js --quick` for one repetition).
 *
 * Prints three markdown tables to stdout (progress goes to stderr):
 *  (a) evaluations per mode against the 2n+1 minimum of a central-difference check;
 *  (b) the sandboxed runner's overhead: the same full check of bench/problems/cheap.ts
 *      in-process (tsc output, required fresh, classifyExport + checkProblem) and
 *      through checkFile (fork dist/worker.js, esbuild bundle, load, check, IPC);
 *  (c) fast and sparse mode on 1,000,000 parameters through the worker.
 *
 * Repetitions alternate in-process and worker (and which goes first), and the
 * median is reported, so machine noise hits both sides alike. Nothing here is
 * a timed assertion: the numbers are reported, never judged.
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CheckMode, type CheckOptions, type CheckResult, DEFAULT_CHECK_OPTIONS, checkProblem } from '../src/core/gradcheck';
import { classifyExport } from '../src/core/problem';
import { type RunnerLimits, checkFile } from '../src/runner/runner';
// Also what makes tsc emit out/bench/problems/cheap.js (tsconfig excludes bench/problems as roots).
import { makeCheap } from './problems/cheap';
import { formatCount, formatMs, formatRatio, median, table } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
/** What the worker bundles, as `gradlens check bench/problems/cheap.ts` would. */
const SOURCE = path.join(ROOT, 'bench', 'problems', 'cheap.ts');
/** The same file compiled by tsc, for the in-process side. */
const COMPILED = path.join(__dirname, 'problems', 'cheap.js');
/** Generous: the benchmark measures time, it must not be cut short by the runner's limit. */
const LIMITS: RunnerLimits = { timeoutSeconds: 3600, memoryMb: 4096 };
const MINIMUM_LABEL = '2n+1';

const load = createRequire(__filename);

interface Options {
  reps: number;
}

function parseArgs(argv: string[]): Options {
  let reps = 3;
  for (const arg of argv) {
    if (arg === '--quick') reps = 1;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('Usage: node out/bench/run.js [--quick]\n  --quick  one repetition instead of three\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${arg} (try --help)\n`);
      process.exit(2);
    }
  }
  return { reps };
}

function progress(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

interface Measurement {
  /** Wall time seen by the caller, ms. */
  wallMs: number;
  /** The check loop alone (CheckResult.seconds, measured where the check ran), ms. */
  checkMs: number;
  /** Before the check started: in-process the fresh require; in the worker fork + bundle + load + IPC, ms. */
  setupMs: number;
  result: CheckResult;
}

type Side = 'in-process' | 'worker';

/** classifyExport + checkProblem on the tsc-compiled module, required afresh (as the worker loads it afresh). */
async function runInProcess(name: string, options: Partial<CheckOptions>): Promise<Measurement> {
  const started = performance.now();
  delete load.cache[COMPILED];
  const moduleExports = load(COMPILED) as Record<string, unknown>;
  const definition = classifyExport(name, moduleExports[name]);
  if (!definition) throw new Error(`${COMPILED}: ${name} is not a problem`);
  const loaded = performance.now();
  const result = await checkProblem(definition, options);
  return { wallMs: performance.now() - started, checkMs: result.seconds * 1000, setupMs: loaded - started, result };
}

/** checkFile on the TypeScript source: fork, bundle with esbuild, load, check, report over IPC. */
async function runInWorker(name: string, options: Partial<CheckOptions>): Promise<Measurement> {
  const started = performance.now();
  let problemStarted = NaN;
  const report = await checkFile(SOURCE, options, LIMITS, {
    onOutput: (text) => process.stderr.write(text),
    onProblemStarted: () => {
      problemStarted = performance.now();
    },
  }, [name]);
  const wallMs = performance.now() - started;
  if (report.loadError) throw new Error(report.loadError.message);
  const result = report.problems.find((problem) => problem.name === name);
  if (!result) throw new Error(`${SOURCE}: the worker reported no result for ${name}`);
  return { wallMs, checkMs: result.seconds * 1000, setupMs: problemStarted - started, result };
}

const RUNNERS: Record<Side, typeof runInProcess> = { 'in-process': runInProcess, worker: runInWorker };

/** `reps` repetitions of every side, alternating which side goes first. */
async function interleaved(label: string, name: string, options: Partial<CheckOptions>, sides: Side[], reps: number): Promise<Record<Side, Measurement[]>> {
  const runs: Record<Side, Measurement[]> = { 'in-process': [], worker: [] };
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const measurement = await RUNNERS[side](name, options);
      runs[side].push(measurement);
      progress(`${label} rep ${rep + 1}/${reps} ${side}: ${formatMs(measurement.wallMs)} ms wall, ${formatMs(measurement.checkMs)} ms check, ${measurement.result.verdict}`);
    }
  }
  return runs;
}

function medianOf(runs: Measurement[], key: 'wallMs' | 'checkMs' | 'setupMs'): number {
  return median(runs.map((run) => run[key]));
}

/**
 * What each mode should cost for a passing problem (f, grad). Full mode is the
 * contract: 2n+1 calls of f plus one repeat of f and of grad. Sparse and fast
 * follow the engine as it is (fast: steps h and 2h along each direction).
 */
function expectedEvaluations(mode: CheckMode, n: number): { f: number; grad: number; formula: string } {
  const { samples, projections } = DEFAULT_CHECK_OPTIONS;
  switch (mode) {
    case 'full':
      return { f: 2 * n + 2, grad: 2, formula: '2n+1, +1 repeat' };
    case 'sparse':
      return { f: 2 * Math.min(samples, n) + 2, grad: 2, formula: `2k+1, +1 repeat; k=${Math.min(samples, n)}` };
    case 'fast':
      return { f: 4 * projections + 2, grad: 2, formula: `4m+1, +1 repeat; m=${projections}` };
  }
}

interface CountRow {
  n: number;
  mode: CheckMode;
  result: CheckResult;
  where: string;
}

const problems: string[] = [];

function noteProblems(label: string, result: CheckResult): void {
  if (result.verdict !== 'pass') problems.push(`${label}: verdict ${result.verdict}${result.error ? ` (${result.error})` : ''}`);
}

async function main(): Promise<void> {
  const { reps } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const cpus = os.cpus();
  const out: string[] = [];
  out.push('# GradLens benchmark');
  out.push('');
  out.push(`node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `${reps} repetition${reps === 1 ? '' : 's'} per measurement (median reported)${reps === 1 ? ', --quick' : ''}.`);
  out.push('Loss: bench/problems/cheap.ts, f = Σ c_i x_i² + Σ s_i x_i x_{i+1} (O(n) per call), default options (eps 1e-6, atol 1e-5, rtol 1e-3, seed 0).');
  out.push('');

  const countRows: CountRow[] = [];

  // (b) runner overhead, full mode, interleaved.
  const overhead: { name: string; n: number; runs: Record<Side, Measurement[]> }[] = [];
  for (const [name, n] of [['cheap10', 10], ['cheap100k', 100_000]] as const) {
    const runs = await interleaved(`(b) ${name} full`, name, { mode: 'full' }, ['in-process', 'worker'], reps);
    overhead.push({ name, n, runs });
    for (const side of ['in-process', 'worker'] as const) {
      runs[side].forEach((run, rep) => noteProblems(`(b) ${name} full ${side} rep ${rep + 1}`, run.result));
    }
    countRows.push({ n, mode: 'full', result: runs.worker[0].result, where: `worker (${name})` });
    const mismatch = [...runs['in-process'], ...runs.worker].find(
      (run) => run.result.evaluations.f !== runs.worker[0].result.evaluations.f || run.result.evaluations.grad !== runs.worker[0].result.evaluations.grad,
    );
    if (mismatch) problems.push(`(b) ${name}: evaluation counts differ between runs`);
  }

  // (c) 1,000,000 parameters, fast and sparse, through the worker (in-process alongside for reference).
  const large: { mode: CheckMode; runs: Record<Side, Measurement[]> }[] = [];
  for (const mode of ['fast', 'sparse'] as const) {
    const runs = await interleaved(`(c) cheap1m ${mode}`, 'cheap1m', { mode }, ['in-process', 'worker'], reps);
    large.push({ mode, runs });
    for (const side of ['in-process', 'worker'] as const) {
      runs[side].forEach((run, rep) => noteProblems(`(c) cheap1m ${mode} ${side} rep ${rep + 1}`, run.result));
    }
    countRows.push({ n: 1_000_000, mode, result: runs.worker[0].result, where: 'worker (cheap1m)' });
  }

  // (a) the remaining counts, in-process (counts do not depend on where the check runs).
  for (const n of [10, 1000, 100_000]) {
    for (const mode of ['full', 'sparse', 'fast'] as const) {
      if (countRows.some((row) => row.n === n && row.mode === mode)) continue;
      const result = await checkProblem(classifyExport(`cheap(${n})`, makeCheap(n))!, { mode });
      noteProblems(`(a) n=${n} ${mode}`, result);
      countRows.push({ n, mode, result, where: 'in-process' });
      progress(`(a) n=${n} ${mode}: f ${result.evaluations.f}, grad ${result.evaluations.grad}`);
    }
  }
  const modeOrder: CheckMode[] = ['full', 'sparse', 'fast'];
  countRows.sort((a, b) => a.n - b.n || modeOrder.indexOf(a.mode) - modeOrder.indexOf(b.mode));

  out.push(`## (a) Evaluations per mode against the ${MINIMUM_LABEL} minimum`);
  out.push('');
  out.push(`A central-difference check of every element needs at least ${MINIMUM_LABEL} evaluations of f (f(x), then f(x±h e_i)); ` +
    'GradLens adds one repeat call of f and of grad at the unperturbed point (the nondeterminism check). ' +
    `Sparse mode checks k=${DEFAULT_CHECK_OPTIONS.samples} elements; fast mode takes m=${DEFAULT_CHECK_OPTIONS.projections} random directions, ` +
    'each differenced with steps h and 2h (2 calls each) to estimate its own error; a suspicious direction would add O(log n) calls to localize.');
  out.push('');
  const rowsA: string[][] = [];
  for (const n of [10, 1000, 100_000, 1_000_000]) {
    for (const mode of modeOrder) {
      const row = countRows.find((entry) => entry.n === n && entry.mode === mode);
      const expected = expectedEvaluations(mode, n);
      const minimum = 2 * n + 1;
      if (!row) {
        rowsA.push([formatCount(n), mode, '(not run)', '', formatCount(minimum), '', `${formatCount(expected.f)}, ${expected.grad}`, '', 'a full check of 1M is 2,000,002 calls of an O(n) loss']);
        continue;
      }
      const { f, grad } = row.result.evaluations;
      const matches = f === expected.f && grad === expected.grad;
      // Only full mode is a contract; sparse and fast follow the engine's current design.
      if (!matches && mode === 'full') problems.push(`(a) n=${n} ${mode}: f ${f}, grad ${grad}, expected ${expected.f}, ${expected.grad}`);
      rowsA.push([
        formatCount(n),
        mode,
        formatCount(f),
        formatCount(grad),
        formatCount(minimum),
        formatRatio(f / minimum),
        `${formatCount(expected.f)}, ${expected.grad} (${expected.formula})`,
        matches ? 'yes' : 'NO',
        `${row.where}, ${row.result.verdict}`,
      ]);
    }
  }
  out.push(table(['n', 'mode', 'f evals', 'grad evals', MINIMUM_LABEL, `f / (${MINIMUM_LABEL})`, 'expected f, grad', 'as expected', 'measured / verdict'], rowsA,
    ['r', 'l', 'r', 'r', 'r', 'r', 'l', 'l', 'l']));
  out.push('');

  out.push('## (b) Runner overhead: full check in-process vs sandboxed worker');
  out.push('');
  out.push('In-process: require the tsc output afresh + classifyExport + checkProblem. ' +
    'Worker: checkFile on the .ts source (fork dist/worker.js, esbuild bundle, load, check, IPC). ' +
    '"setup" is what happens before the check loop (in-process: the require; worker: spawn to the "started" message). ' +
    '"check" is CheckResult.seconds, timed where the loop ran. Times in ms, medians. ' +
    'Loading cheap.ts builds the params of all its exports (1.1M elements with sin/cos) on both sides, which is most of the in-process time at n=10. ' +
    'Per-rep ratios pair the runs of one repetition: their spread is this machine\'s noise.');
  out.push('');
  const rowsB: string[][] = [];
  for (const { name, n, runs } of overhead) {
    const inProcess = medianOf(runs['in-process'], 'wallMs');
    const worker = medianOf(runs.worker, 'wallMs');
    const perRep = runs.worker.map((run, rep) => formatRatio(run.wallMs / runs['in-process'][rep].wallMs)).join(', ');
    rowsB.push([
      `${name} (n=${formatCount(n)})`,
      formatMs(inProcess),
      formatMs(worker),
      formatRatio(worker / inProcess),
      perRep,
      formatMs(worker - inProcess),
      `${formatMs(medianOf(runs['in-process'], 'setupMs'))} / ${formatMs(medianOf(runs.worker, 'setupMs'))}`,
      `${formatMs(medianOf(runs['in-process'], 'checkMs'))} / ${formatMs(medianOf(runs.worker, 'checkMs'))}`,
      formatCount(runs.worker[0].result.evaluations.f),
    ]);
  }
  out.push(table(
    ['problem', 'in-process wall', 'worker wall', 'ratio worker/in-process', 'per-rep ratios', 'overhead', 'setup in-proc / worker', 'check in-proc / worker', 'f evals'],
    rowsB,
    ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
  ));
  out.push('');
  const big = overhead.find((entry) => entry.n === 100_000);
  if (big) {
    const ratio = medianOf(big.runs.worker, 'wallMs') / medianOf(big.runs['in-process'], 'wallMs');
    out.push(`Target ratio <= 1.05 at n = 100,000: measured ${formatRatio(ratio)} (${ratio <= 1.05 ? 'within' : 'misses'} the target).`);
    out.push('');
  }

  out.push('## (c) 1,000,000 parameters, fast and sparse, through the worker');
  out.push('');
  out.push('Times in ms, medians; the in-process wall time of the same check is given for reference.');
  out.push('');
  const rowsC: string[][] = [];
  for (const { mode, runs } of large) {
    const result = runs.worker[0].result;
    rowsC.push([
      mode,
      formatMs(medianOf(runs.worker, 'wallMs')),
      formatMs(medianOf(runs.worker, 'setupMs')),
      formatMs(medianOf(runs.worker, 'checkMs')),
      formatMs(medianOf(runs['in-process'], 'wallMs')),
      formatCount(result.evaluations.f),
      formatCount(result.evaluations.grad),
      formatCount(result.checked),
      result.verdict,
    ]);
  }
  out.push(table(['mode', 'worker wall', 'worker setup', 'worker check', 'in-process wall', 'f evals', 'grad evals', 'elements checked', 'verdict'], rowsC,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push(`Total benchmark time: ${(((performance.now() - started) / 1000)).toFixed(1)} s.`);
  process.stdout.write(`${out.join('\n')}\n`);

  if (problems.length > 0) {
    process.stderr.write(`bench: unexpected results:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
});
