/**
 * PyTorch benchmark (`npm run bench:torch`; `node out/bench/torch.js --reps N --python PATH`, default
 * three repetitions and /usr/bin/python3, Debian's interpreter with torch).
 *
 * GradLens against torch.autograd.gradcheck on the same custom autograd Functions
 * (bench/problems/torch_functions_grad.py), in one run, each repetition rotating which side goes first:
 *  - `elementwise`: a cheap elementwise Function of n = 10,000 inputs and as many outputs;
 *  - `conv`: a small 1-D convolution written with unfold (444 inputs, 448 outputs);
 * in full mode (GradLens: 2n+2 forward evaluations in bulk plans and 2 backward; torch's default
 * fast_mode=False: the numerical Jacobian, 2n evaluations, and the analytic one, a backward per
 * output element) and in fast mode (GradLens: random directions, then bisection only if one fails;
 * torch's fast_mode=True: one random projection each way).
 * Timed: GradLens's check (CheckResult.seconds) and its whole checkFile (runner process, interpreter,
 * `import torch`, the file, the check); gradcheck alone and the torch process from spawn to exit
 * (bench/problems/torch_functions_gradcheck.py). Target (issue 15): GradLens's check ≤ 1.0 × gradcheck
 * in full mode. Nothing here is a timed assertion: only a side that does not pass fails the run.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CheckMode } from '../src/core/gradcheck';
import { checkFile } from '../src/runner/runner';
import { formatCount, formatMs, formatRatio, median, parseBenchArgs, table } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const PROBLEMS = path.join(ROOT, 'bench', 'problems');
const PROBLEM_FILE = path.join(PROBLEMS, 'torch_functions_grad.py');
const GRADCHECK = path.join(PROBLEMS, 'torch_functions_gradcheck.py');
const LIMITS = { timeoutSeconds: 3600, memoryMb: 16_384 };
const CASES: { problem: string; mode: CheckMode }[] = [
  { problem: 'elementwise', mode: 'full' },
  { problem: 'conv', mode: 'full' },
  { problem: 'elementwise', mode: 'fast' },
  { problem: 'conv', mode: 'fast' },
];

function parseArgs(argv: string[]): { reps: number; python: string } {
  return parseBenchArgs('bench:torch', argv, {
    reps: { value: 3, help: 'repetitions' },
    python: { value: '/usr/bin/python3', help: 'interpreter with torch' },
  });
}

interface Sample {
  gradlens: { wallMs: number; checkMs: number; forward: number; backward: number };
  torch: { processMs: number; gradcheckMs: number; importMs: number };
}

async function runGradLens(python: string, problem: string, mode: CheckMode): Promise<Sample['gradlens']> {
  const started = performance.now();
  const report = await checkFile(PROBLEM_FILE, { mode }, LIMITS, { onOutput: (text) => process.stderr.write(text) }, [problem], python);
  const wallMs = performance.now() - started;
  if (report.loadError) throw new Error(report.loadError.message);
  const [result] = report.problems;
  if (result?.verdict !== 'pass') throw new Error(`GradLens ${problem} ${mode}: ${result?.verdict} ${result?.error?.message ?? ''}`);
  return { wallMs, checkMs: result.seconds * 1000, forward: result.evaluations.forward, backward: result.evaluations.backward };
}

function runTorch(python: string, problem: string, mode: CheckMode): Sample['torch'] {
  const started = performance.now();
  const result = spawnSync(python, [GRADCHECK, problem, mode], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  const processMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`gradcheck ${problem} ${mode}: ${result.stderr || result.error?.message}`);
  const reply = JSON.parse(result.stdout.trim().split('\n').pop()!) as { seconds: number; importSeconds: number; passed: boolean };
  if (!reply.passed) throw new Error(`gradcheck ${problem} ${mode} did not pass`);
  return { processMs, gradcheckMs: reply.seconds * 1000, importMs: reply.importSeconds * 1000 };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const versions = spawnSync(options.python, ['-c', 'import torch, sys; print(torch.__version__, torch.get_num_threads(), sys.version.split()[0])'], { encoding: 'utf8' });
  if (versions.status !== 0) {
    process.stderr.write(`bench:torch: ${options.python} cannot import torch\n`);
    process.exit(2);
  }
  const [torchVersion, threads, pythonVersion] = versions.stdout.trim().split(' ');
  const samples = new Map<string, Sample[]>();
  for (let rep = 0; rep < options.reps; rep++) {
    for (const { problem, mode } of CASES) {
      const key = `${problem}/${mode}`;
      // Rotate which side goes first, so that the machine's drift falls on both.
      const torchFirst = rep % 2 === 1;
      const torch = torchFirst ? runTorch(options.python, problem, mode) : null;
      const gradlens = await runGradLens(options.python, problem, mode);
      const sample = { gradlens, torch: torch ?? runTorch(options.python, problem, mode) };
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      process.stderr.write(`[bench:torch] rep ${rep + 1}/${options.reps} ${key}: GradLens check ${formatMs(gradlens.checkMs)} ms (whole ${formatMs(gradlens.wallMs)}), gradcheck ${formatMs(sample.torch.gradcheckMs)} ms (process ${formatMs(sample.torch.processMs)})\n`);
    }
  }
  const rows = CASES.map(({ problem, mode }) => {
    const list = samples.get(`${problem}/${mode}`)!;
    const pick = (f: (sample: Sample) => number) => median(list.map(f));
    return [
      problem,
      mode,
      formatMs(pick((s) => s.gradlens.checkMs)),
      formatMs(pick((s) => s.torch.gradcheckMs)),
      formatRatio(pick((s) => s.gradlens.checkMs / s.torch.gradcheckMs)),
      list.map((s) => formatRatio(s.gradlens.checkMs / s.torch.gradcheckMs)).join(', '),
      formatMs(pick((s) => s.gradlens.wallMs)),
      formatMs(pick((s) => s.torch.processMs)),
      formatRatio(pick((s) => s.gradlens.wallMs / s.torch.processMs)),
      `${formatCount(list[0].gradlens.forward)}, ${formatCount(list[0].gradlens.backward)}`,
    ];
  });
  const out = [
    '## GradLens and torch.autograd.gradcheck on custom autograd Functions (bench/problems/torch_functions_grad.py)',
    '',
    `torch ${torchVersion} (${threads} threads), Python ${pythonVersion}; ${os.cpus().length} CPUs; ${options.reps} repetitions, the side that goes first alternating; medians. ` +
      '"whole" is GradLens\'s checkFile from the call to the report (runner process, interpreter, import torch, the file, the check); "process" the gradcheck script from spawn to exit (import torch, the file, gradcheck).',
    '',
    table(
      ['problem', 'mode', 'GradLens check ms', 'gradcheck ms', 'check / gradcheck (full: target ≤ 1.0)', 'per repetition', 'GradLens whole ms', 'torch process ms', 'whole / process', 'GradLens forward, backward'],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:torch: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
