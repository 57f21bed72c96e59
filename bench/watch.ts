/**
 * gradlens.watch's cost in a real training loop (`npm run bench:watch`; `node out/bench/watch.js --rounds N
 * --steps S --python PATH`, default 5 rounds of 200 steps and /usr/bin/python3, Debian's interpreter with torch).
 *
 * bench/problems/watch_loop.py trains an MLP 784-256-10 on seeded synthetic data (batch 64, AdamW, torch CPU)
 * without the watch, with watch(every=1) and with watch(every=10), each round in a rotating order from the same
 * weights and batches, in one process; the records go to a JSON Lines log (a plain terminal's case). Reported:
 * the ratio of the process's CPU time with the watch to without (the writer thread's included), per round and
 * the median, and wall time beside it. Targets (issue 16): every=1 ≤ 1.05, every=10 ≤ 1.01. Then a
 * 10M-parameter MLP (1000-5000-1000, AdamW): the resident memory its loop adds with the watch against without,
 * and each process's peak. Nothing here is a timed assertion.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatRatio, median, parseBenchArgs, table } from './report';

const ROOT = path.resolve(__dirname, '..', '..');
const LOOP = path.join(ROOT, 'bench', 'problems', 'watch_loop.py');
const VARIANTS = ['none', 'every1', 'every10'] as const;
type Variant = (typeof VARIANTS)[number];

function parseArgs(argv: string[]): { rounds: number; steps: number; python: string } {
  return parseBenchArgs('bench:watch', argv, {
    rounds: { value: 5, help: 'rounds of each variant' },
    steps: { value: 200, help: 'training steps per round' },
    python: { value: '/usr/bin/python3', help: 'interpreter with torch' },
  });
}

function python(interpreter: string, args: string[]): unknown {
  const result = spawnSync(interpreter, [LOOP, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`watch_loop.py ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-bench-watch-'));
  try {
    process.stderr.write(`[bench:watch] ${options.rounds} rounds of ${options.steps} steps per variant (one warm-up round more)\n`);
    const overhead = python(options.python, ['overhead', String(options.rounds), String(options.steps), logs]) as {
      times: Record<Variant, { wall: number; cpu: number }[]>;
      threads: number;
      torch: string;
    };
    const { times } = overhead;
    const ratios = (variant: Variant, kind: 'wall' | 'cpu') => times[variant].map((time, round) => time[kind] / times.none[round][kind]);
    const perStep = (variant: Variant) => (median(times[variant].map((time) => time.cpu)) / options.steps) * 1000;
    const rows = (['every1', 'every10'] as const).map((variant) => [
      `watch(every=${variant === 'every1' ? 1 : 10})`,
      variant === 'every1' ? '≤ 1.05' : '≤ 1.01',
      formatRatio(median(ratios(variant, 'cpu'))),
      ratios(variant, 'cpu').map(formatRatio).join(', '),
      formatRatio(median(ratios(variant, 'wall'))),
      `${(perStep(variant) - perStep('none')).toFixed(2)} ms`,
    ]);
    process.stderr.write('[bench:watch] memory: a 10M-parameter model, one process per variant\n');
    const memory = Object.fromEntries(VARIANTS.map((variant) => [variant, python(options.python, ['memory', variant, '30', logs])])) as Record<Variant, { peakBytes: number; grownBytes: number; heldBytes: number; parameters: number; parameterBytes: number }>;
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const out = [
      '## gradlens.watch in a training loop (bench/problems/watch_loop.py)',
      '',
      `MLP 784-256-10 (203,530 parameters), batch 64, AdamW, synthetic seeded data; torch ${overhead.torch} (${overhead.threads} threads), ${os.cpus().length} CPUs; ` +
        `${options.rounds} rounds of ${options.steps} steps per variant, rotating order; medians. Ratios of the process's CPU time with the watch to without ` +
        '(its writer thread included; the records go to a JSON Lines log); wall time beside it (on a shared machine mostly the neighbours).',
      '',
      table(['variant', 'target', 'CPU ratio', 'per round', 'wall ratio', 'CPU per step'], rows, ['l', 'l', 'r', 'l', 'r', 'r']),
      '',
      `10M-parameter MLP (1000-5000-1000, ${memory.none.parameters.toLocaleString('en-US')} float32 parameters = ${mb(memory.none.parameterBytes)}), AdamW, 30 steps, one process per variant: ` +
        'what the watch holds between records (its scratch buffers and sample indices, counted exactly), the resident memory the training loop added ' +
        '(AdamW\'s state, the watch\'s buffers: it moves with the allocator by tens of MiB), and the process\'s peak.',
      '',
      table(
        ['variant', 'held by the watch', 'added by the loop', 'over no watch', 'in parameter copies', 'peak RSS'],
        VARIANTS.map((variant) => [
          variant === 'none' ? 'no watch' : `watch(every=${variant === 'every1' ? 1 : 10})`,
          variant === 'none' ? '-' : mb(memory[variant].heldBytes),
          mb(memory[variant].grownBytes),
          variant === 'none' ? '-' : mb(memory[variant].grownBytes - memory.none.grownBytes),
          variant === 'none' ? '-' : ((memory[variant].grownBytes - memory.none.grownBytes) / memory.none.parameterBytes).toFixed(2),
          mb(memory[variant].peakBytes),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    fs.rmSync(logs, { recursive: true, force: true });
  }
}

main();
