import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

function gradlens(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonReport {
  passed: boolean;
  problems: {
    file: string;
    name: string;
    kind: string;
    order: number;
    mode: string;
    verdict: string;
    passed: boolean;
    maxAbsError: number;
    maxRelError: number;
    evaluations: Record<string, number>;
    worst: { param: string; index: number[]; analytic: number; numeric: number; absError: number; relError: number; passed: boolean }[];
    error: string | null;
  }[];
  errors: { file: string; error: string }[];
}

function json(...args: string[]): { code: number | null; report: JsonReport; stderr: string } {
  const { code, stdout, stderr } = gradlens(...args, '--json');
  return { code, report: JSON.parse(stdout) as JsonReport, stderr };
}

const fixture = (name: string) => `test/fixtures/${name}`;

describe('gradlens check', () => {
  it('exits 0 and prints the documented JSON when everything passes', () => {
    const { code, report } = json('check', fixture('cli.grad.ts'), '--problem', 'correct');
    assert.equal(code, 0);
    assert.equal(report.passed, true);
    const [problem] = report.problems;
    assert.deepEqual(
      ['file', 'name', 'kind', 'order', 'mode', 'verdict', 'passed', 'maxAbsError', 'maxRelError', 'evaluations', 'worst', 'error'].filter((key) => !(key in problem)),
      [],
    );
    assert.equal(problem.file, fixture('cli.grad.ts'));
    assert.deepEqual([problem.name, problem.kind, problem.order, problem.mode, problem.verdict, problem.error], ['correct', 'scalar', 1, 'full', 'pass', null]);
    assert.deepEqual(problem.evaluations, { f: 8, grad: 2, hvp: 0, forward: 0, backward: 0 });
  });

  it('exits 1 and names the wrong element with both values', () => {
    const { code, report } = json('check', fixture('cli.grad.ts'), '--problem', 'signError');
    assert.equal(code, 1);
    assert.equal(report.passed, false);
    const [worst] = report.problems[0].worst;
    assert.deepEqual([worst.param, worst.index, worst.analytic, worst.passed], ['x', [1], -3, false]);
    assert.ok(Math.abs(worst.numeric - 3) < 1e-6);
    assert.ok(Math.abs(worst.relError - 2) < 1e-6);
  });

  it('prints one line per problem and the worst elements, without colour off a terminal', () => {
    const { code, stdout } = gradlens('check', fixture('cli.grad.ts'));
    assert.equal(code, 1);
    assert.match(stdout, /✓ pass +correct +max abs .*f 8, grad 2/);
    assert.match(stdout, /✗ fail +signError .*\n +x 1\/3 wrong\n +x\[1\] +analytic -3 +numeric 3 .*FAIL/);
    assert.match(stdout, /~ kink +reluAtZero .*\n +x 1\/2 wrong \(all at kinks\)\n/);
    assert.match(stdout, /~ kink +reluAtZero/);
    assert.match(stdout, /3 problems: 1 passed, 1 kink, 1 failed/);
    assert.ok(!stdout.includes('\u001b['), 'no ANSI colour codes');
  });

  it('counts kinks as passing unless --strict', () => {
    assert.equal(gradlens('check', fixture('cli.grad.ts'), '--problem', 'reluAtZero').code, 0);
    const strict = json('check', fixture('cli.grad.ts'), '--problem', 'reluAtZero', '--strict');
    assert.equal(strict.code, 1);
    assert.equal(strict.report.problems[0].verdict, 'kink');
    assert.equal(strict.report.problems[0].passed, false);
  });

  it('runs the second-order check with --order 2 and lists problems without hvp as skipped', () => {
    const { code, report } = json('check', fixture('cli.grad.ts'), '--order', '2');
    assert.equal(code, 0);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.order, problem.verdict]), [
      ['correct', 2, 'pass'],
      ['signError', 2, 'skipped'],
      ['reluAtZero', 2, 'skipped'],
    ]);
    assert.equal(report.problems[0].evaluations.hvp, 2);
  });

  it('keeps user output out of --json stdout', () => {
    const { code, report, stderr } = json('check', fixture('failures.grad.ts'), '--problem', 'prints');
    assert.equal(code, 0);
    assert.equal(report.problems[0].verdict, 'pass');
    assert.match(stderr, /user output from f/);
  });

  it('reports sparse and fast modes', () => {
    const sparse = json('check', fixture('cli.grad.ts'), '--problem', 'signError', '--mode', 'sparse', '--samples', '2', '--seed', '3');
    assert.equal(sparse.report.problems[0].mode, 'sparse');
    assert.equal(sparse.report.problems[0].evaluations.f, 2 * 2 + 2);
    const fast = json('check', fixture('cli.grad.ts'), '--problem', 'signError', '--mode', 'fast');
    assert.equal(fast.code, 1);
    assert.equal(fast.report.problems[0].worst.find((element) => !element.passed)?.index[0], 1);
  });

  it('exits 2 when nothing could be checked', () => {
    const cases: [string[], RegExp][] = [
      [['check', fixture('syntax-error.grad.ts')], /syntax-error\.grad\.ts:3:\d+/],
      [['check', fixture('missing-package.grad.js')], /cannot find module 'left-pad-that-is-not-installed'/],
      [['check', fixture('does-not-exist.grad.ts')], /does-not-exist\.grad\.ts: no such file/],
      [['check', fixture('no-problems.grad.ts')], /no problems found/],
      [['check', fixture('cli.grad.ts'), '--problem', 'nope'], /no problem named nope/],
      [['check'], /no file given/],
      [['check', fixture('cli.grad.ts'), '--eps', '-1'], /--eps must be a positive number, got '-1'/],
      [['check', fixture('cli.grad.ts'), '--mode', 'slow'], /--mode must be one of full, fast, sparse, got 'slow'/],
      [['check', fixture('cli.grad.ts'), '--order', '3'], /--order must be one of 1, 2, got '3'/],
      [['check', fixture('cli.grad.ts'), '--samples', '2.5'], /--samples must be a whole number >= 1/],
      [['check', fixture('cli.grad.ts'), '--timeout', 'soon'], /--timeout must be a positive number of seconds, got 'soon'/],
      [['check', fixture('cli.grad.ts'), '--bogus'], /Unknown option '--bogus'/],
      [['check', 'README.md'], /README\.md: not a problem file/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = gradlens(...args);
      assert.equal(code, 2, `${args.join(' ')}: exit ${code}`);
      assert.match(stdout + stderr, message, args.join(' '));
    }
  });

  it('puts load errors in the JSON too', () => {
    const { code, report } = json('check', fixture('syntax-error.grad.ts'));
    assert.equal(code, 2);
    assert.equal(report.problems.length, 0);
    assert.match(report.errors[0].error, /syntax-error\.grad\.ts:3/);
  });

  it('stops quietly when its output is closed early (| head)', () => {
    // Megabytes of JSON: head has certainly gone before the CLI finishes writing.
    const command = `"${process.execPath}" "${cli}" optimize builtin:rosenbrock --optimizer adam --steps 3000 --json | head -c 1`;
    const result = spawnSync('sh', ['-c', command], { cwd: root, encoding: 'utf8' });
    assert.equal(result.stdout, '{');
    assert.doesNotMatch(result.stderr, /EPIPE|Unhandled/);
  });

  it('prints usage for --help', () => {
    const { code, stdout } = gradlens('check', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /--mode MODE/);
  });
});
