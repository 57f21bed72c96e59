/**
 * --jobs benchmark (`npm run bench:jobs`; `node out/bench/jobs.js --reps N --python PATH`, default three
 * repetitions and /usr/bin/python3, Debian's interpreter with NumPy and torch).
 *
 * Full checks with one runner process (--jobs 1) and shared with helpers (--jobs 2), side by side in one
 * run, each repetition alternating which goes first:
 *  - `typescript`: f(x) = ½Σx² + Σ sin x over n = 10,000 (bench/problems/sine_quadratic.grad.ts), 2n + 2 calls of f;
 *  - `numpy`: the same function in NumPy (sine_quadratic_grad.py);
 *  - `numpy layer`: a naive NumPy convolution, ~4 ms a forward (naive_conv_grad.py, 972 inputs);
 *  - `torch`: the same function in torch (sine_quadratic_torch_grad.py), beside torch.autograd.gradcheck
 *    on it (sine_quadratic_gradcheck.py).
 * Timed: checkFile from the call to the report (runner processes, interpreters, the file, the check) and
 * the check itself (CheckResult.seconds). Targets (issue 17): --jobs 2 ÷ --jobs 1 ≤ 0.6 on two cores, and
 * GradLens ≤ 0.6 × gradcheck's time. The results of both sides must be equal (checked here, not timed).
 */
import { spawnSync } from 'node:child_process';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { type FileReport, checkFile } from '../src/runner/runner';
import { formatMs, formatRatio, median, parseBenchArgs, table } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const PROBLEMS = path.join(ROOT, 'bench', 'problems');
const CASES = [
  { name: 'typescript', file: 'sine_quadratic.grad.ts' },
  { name: 'numpy', file: 'sine_quadratic_grad.py' },
  { name: 'numpy layer', file: 'naive_conv_grad.py' },
  { name: 'torch', file: 'sine_quadratic_torch_grad.py' },
];

function parseArgs(argv: string[]): { reps: number; python: string } {
  return parseBenchArgs('bench:jobs', argv, {
    reps: { value: 3, help: 'repetitions' },
    python: { value: '/usr/bin/python3', help: 'interpreter with NumPy and torch' },
  });
}

interface Timing {
  wallMs: number;
  checkMs: number;
}

async function runCheck(file: string, jobs: number, python: string): Promise<{ timing: Timing; report: FileReport }> {
  const started = performance.now();
  const report = await checkFile(path.join(PROBLEMS, file), {}, { timeoutSeconds: 3600, memoryMb: 8192, jobs }, {}, null, python);
  const wallMs = performance.now() - started;
  if (report.loadError) throw new Error(`${file}: ${report.loadError.message}`);
  const [result] = report.problems;
  if (result?.verdict !== 'pass') throw new Error(`${file} --jobs ${jobs}: ${result?.verdict} ${result?.error?.message ?? ''}`);
  return { timing: { wallMs, checkMs: result.seconds * 1000 }, report };
}

/** What must not depend on --jobs: everything but the timing. */
const withoutTiming = (report: FileReport) => report.problems.map(({ seconds: _seconds, ...rest }) => rest);

function gradcheckMs(python: string): number {
  const result = spawnSync(python, [path.join(PROBLEMS, 'sine_quadratic_gradcheck.py')], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (result.status !== 0) throw new Error(`gradcheck: ${result.stderr || result.error?.message}`);
  const reply = JSON.parse(result.stdout.trim().split('\n').pop()!) as { seconds: number; passed: boolean };
  if (!reply.passed) throw new Error('gradcheck did not pass');
  return reply.seconds * 1000;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const samples = new Map<string, { alone: Timing; shared: Timing }[]>();
  const gradchecks: number[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    for (const { name, file } of CASES) {
      // Alternate which side goes first, so that the machine's drift falls on both.
      const order = rep % 2 === 0 ? [1, 2] : [2, 1];
      const runs = new Map<number, Awaited<ReturnType<typeof runCheck>>>();
      for (const jobs of order) runs.set(jobs, await runCheck(file, jobs, options.python));
      assert.deepEqual(withoutTiming(runs.get(2)!.report), withoutTiming(runs.get(1)!.report), `${name}: --jobs 2 gave another result than --jobs 1`);
      const sample = { alone: runs.get(1)!.timing, shared: runs.get(2)!.timing };
      samples.set(name, [...(samples.get(name) ?? []), sample]);
      process.stderr.write(`[bench:jobs] rep ${rep + 1}/${options.reps} ${name}: --jobs 1 ${formatMs(sample.alone.wallMs)} ms, --jobs 2 ${formatMs(sample.shared.wallMs)} ms\n`);
    }
    gradchecks.push(gradcheckMs(options.python));
  }
  const rows = CASES.map(({ name, file }) => {
    const list = samples.get(name)!;
    const pick = (f: (sample: { alone: Timing; shared: Timing }) => number) => median(list.map(f));
    return [
      name,
      file,
      formatMs(pick((s) => s.alone.wallMs)),
      formatMs(pick((s) => s.shared.wallMs)),
      formatRatio(pick((s) => s.shared.wallMs / s.alone.wallMs)),
      list.map((s) => formatRatio(s.shared.wallMs / s.alone.wallMs)).join(', '),
      formatMs(pick((s) => s.alone.checkMs)),
      formatMs(pick((s) => s.shared.checkMs)),
    ];
  });
  const torch = samples.get('torch')!;
  const best = (s: { alone: Timing; shared: Timing }) => Math.min(s.alone.checkMs, s.shared.checkMs);
  const out = [
    '## Full checks shared over runner processes (--jobs), and against torch.autograd.gradcheck',
    '',
    `${os.cpus().length} CPUs; ${options.reps} repetitions, the side that goes first alternating; medians. "whole" is checkFile from the call to the report (processes, interpreters, the file, the check); "check" the check itself. Results of --jobs 2 equal those of --jobs 1 (asserted).`,
    '',
    table(
      ['case', 'file', 'whole ms, --jobs 1', 'whole ms, --jobs 2', 'jobs 2 / jobs 1 (target ≤ 0.6)', 'per repetition', 'check ms, --jobs 1', 'check ms, --jobs 2'],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r'],
    ),
    '',
    `torch: GradLens's check of the torch function ${formatMs(median(torch.map(best)))} ms (the faster of --jobs 1 and 2; a check this short stays in one process) against torch.autograd.gradcheck ${formatMs(median(gradchecks))} ms: ` +
      `${formatRatio(median(torch.map((s, k) => best(s) / gradchecks[k])))} (target ≤ 0.6).`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:jobs: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
