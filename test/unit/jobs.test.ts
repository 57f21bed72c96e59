/**
 * Checks shared by several runner processes (--jobs): the same results as one process, bit for bit;
 * small checks kept in one; a hang, an out-of-memory and process.exit inside one job reported as in
 * one process; cancellation ending every job. The fixtures record which processes evaluated them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const root = path.resolve(__dirname, '../../..');
const fixture = path.join(root, 'test/fixtures/shared-check.grad.ts');

/** A fresh file the fixtures append their process ids to. */
function pidFile(): string {
  const file = path.join(os.tmpdir(), `gradlens-pids-${process.pid}-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, '');
  return file;
}

const processesIn = (file: string) => new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)).size;

/** `gradlens check` as JSON, with the processes that evaluated the problem. */
function check(file: string, ...flags: string[]) {
  const pids = pidFile();
  const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'check', file, '--json', ...flags], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GRADLENS_TEST_PIDS: pids },
  });
  const report = JSON.parse(result.stdout) as { problems: Record<string, unknown>[] };
  // Timing is the one thing that may differ.
  for (const problem of report.problems) delete problem.seconds;
  const processes = processesIn(pids);
  fs.rmSync(pids);
  return { report, processes };
}

describe('checks shared by several runner processes (--jobs)', () => {
  it('a costly check shared with a helper gives the result of one process, bit for bit', () => {
    const alone = check(fixture, '--problem', 'slowBuggy', '--jobs', '1');
    const shared = check(fixture, '--problem', 'slowBuggy', '--jobs', '2');
    assert.equal(alone.processes, 1);
    assert.equal(shared.processes, 2, 'a helper evaluated part of the check');
    assert.deepEqual(shared.report, alone.report);
    // And the result itself is right: exactly the three wrong elements.
    assert.deepEqual(alone.report.problems[0].failedElements, ['x[5]', 'x[150]', 'x[299]']);
  });

  it('keeps a cheap check in one process', () => {
    const { report, processes } = check(fixture, '--problem', 'quickBuggy', '--jobs', '2');
    assert.equal(processes, 1);
    assert.deepEqual(report.problems[0].failedElements, ['x[5]', 'x[150]', 'x[299]']);
  });

  it('reports a hang, an out-of-memory and process.exit in one job as one process reports them', () => {
    // The hang meets a short time limit; the others get a long one, so that a loaded machine cannot turn
    // the out-of-memory (a heap filling up, slower near its limit) into a time-out.
    const errors = (jobs: string) =>
      [
        ...check(fixture, '--problem', 'hangsAtOneElement', '--jobs', jobs, '--timeout', '3').report.problems,
        ...check(fixture, '--problem', 'exitsAtOneElement', '--problem', 'allocatesAtOneElement', '--jobs', jobs, '--timeout', '60', '--memory', '256').report.problems,
      ].map((problem) => [problem.name, problem.verdict, problem.error]);
    const alone = errors('1');
    assert.deepEqual(alone.map(([name, verdict]) => [name, verdict]), [
      ['hangsAtOneElement', 'error'],
      ['exitsAtOneElement', 'error'],
      ['allocatesAtOneElement', 'error'],
    ]);
    assert.match(String(alone[0][2]), /^timed out after 3 s \(--timeout\) while checking hangsAtOneElement, in f \(at test\/fixtures\/shared-check\.grad\.ts:\d+:\d+\)$/);
    assert.match(String(alone[1][2]), /^f threw Error: process\.exit\(3\) called in user code with x\[230\] \+ 0\.000001 \(at test\/fixtures\/shared-check\.grad\.ts:\d+:\d+\)$/);
    assert.match(String(alone[2][2]), /^ran out of memory at 256 MB \(--memory\) while checking allocatesAtOneElement, in f \(at test\/fixtures\/shared-check\.grad\.ts:\d+:\d+\)$/);
    assert.deepEqual(errors('2'), alone);
  });

  it('calls a value that differs between processes nondeterminism', () => {
    const shared = check(fixture, '--problem', 'differsBetweenProcesses', '--jobs', '2').report.problems[0];
    assert.equal(shared.verdict, 'nondeterministic');
    assert.match(String(shared.error), /^f\(p\) returned \S+ in this process and \S+ in another runner process at the same point/);
    // One process alone cannot see it: every call there returns the same.
    assert.equal(check(fixture, '--problem', 'differsBetweenProcesses', '--jobs', '1').report.problems[0].verdict, 'pass');
  });

  it('merges progress, and cancelling ends every job', async () => {
    const pids = pidFile();
    process.env.GRADLENS_TEST_PIDS = pids;
    const progress: number[] = [];
    const controller = new AbortController();
    try {
      const whole = await checkFile(fixture, {}, { timeoutSeconds: 30, memoryMb: 512, jobs: 2 }, { onProgress: (_file, _name, done) => progress.push(done) }, ['slowBuggy']);
      assert.equal(whole.problems[0].verdict, 'fail');
      assert.ok(progress.every((done, k) => k === 0 || done >= progress[k - 1]), `progress only grows: ${progress.join(', ')}`);
      assert.ok(progress.length > 1);
      fs.writeFileSync(pids, '');
      const pending = checkFile(fixture, {}, { timeoutSeconds: 30, memoryMb: 512, jobs: 2 }, { signal: controller.signal }, ['slowBuggy']);
      // Cancel once the helper has started evaluating.
      while (processesIn(pids) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      const report = await pending;
      assert.equal(report.cancelled, true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const pid of fs.readFileSync(pids, 'utf8').split('\n').filter(Boolean)) {
        assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `runner process ${pid} was ended`);
      }
    } finally {
      delete process.env.GRADLENS_TEST_PIDS;
      fs.rmSync(pids);
    }
  });

  it('shares a costly Python check too, with the same result', { skip: WITHOUT_NUMPY }, () => {
    const file = path.join(root, 'test/fixtures/python/slow_grad.py');
    const alone = check(file, '--python', PYTHON, '--jobs', '1');
    const shared = check(file, '--python', PYTHON, '--jobs', '2');
    assert.equal(shared.processes, 2, 'a helper interpreter evaluated part of the check');
    assert.deepEqual(shared.report, alone.report);
    assert.deepEqual(alone.report.problems[0].failedElements, ['x[5]', 'x[150]', 'x[299]']);
  });

  it('refuses --jobs outside 1 to 32', () => {
    for (const jobs of ['0', '33', '1.5', 'many']) {
      const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'check', fixture, '--jobs', jobs], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 2);
      assert.match(result.stderr, new RegExp(`--jobs must be a whole number from 1 to 32, got '${jobs.replace('.', '\\.')}'`));
    }
  });
});
