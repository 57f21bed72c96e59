import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import { DEFAULT_TRAIN_OPTIONS, train } from '../../src/core/optim/train';
import { type SurfaceMessage, optimizeSource } from '../../src/runner/optimize';
import { type LoadReply, RemoteProblem, pythonObjective } from '../../src/runner/python/problems';
import { PythonSession } from '../../src/runner/python/session';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const root = path.resolve(__dirname, '../../..');
const pythonFile = 'test/fixtures/python/optimize_grad.py';
const tsFile = 'test/fixtures/twins/optimize.grad.ts';
const skip = WITHOUT_NUMPY;

function gradlens(...args: string[]) {
  return gradlensWith({}, ...args);
}

function gradlensWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether a process runs (a zombie has ended: it only waits for init to collect it). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

interface RunJson {
  steps: { step: number; loss: number; gradNorm: number; params: Record<string, number[]> }[];
  final: { params: Record<string, number[]>; loss: number };
  stopped: string;
  diverged: { step: number; message: string } | null;
  failure: { step: number; error: string } | null;
}

/** |a − b| ≤ 1e-12·max(1, |a|) for every number of two trajectories. */
function assertSameTrajectory(python: RunJson, typescript: RunJson, label: string): void {
  assert.equal(python.steps.length, typescript.steps.length, label);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${label} ${what}: ${a} vs ${b}`);
  python.steps.forEach((record, k) => {
    const twin = typescript.steps[k];
    close(record.loss, twin.loss, `loss at step ${record.step}`);
    close(record.gradNorm, twin.gradNorm, `|grad| at step ${record.step}`);
    const twinParams = Object.values(twin.params).flat();
    Object.values(record.params).flat().forEach((value, i) => close(value, twinParams[i], `param ${i} at step ${record.step}`));
  });
  close(python.final.loss, typescript.final.loss, 'final loss');
}

describe('optimizers and analysis on Python problems', { skip }, () => {
  it('trajectories equal those of the same problem written in TypeScript, to 1e-12', () => {
    const runs: [string, string[]][] = [
      ['rosenbrock', ['--optimizer', 'sgd', '--lr', '1e-3', '--momentum', '0.9', '--nesterov', '--steps', '60']],
      ['rosenbrock', ['--optimizer', 'adam', '--lr', '0.05', '--amsgrad', '--steps', '60']],
      ['rosenbrock', ['--optimizer', 'rmsprop', '--lr', '0.01', '--centered', '--steps', '40']],
      ['rosenbrock', ['--optimizer', 'adagrad', '--lr', '0.1', '--steps', '40']],
      ['rosenbrock', ['--optimizer', 'lbfgs', '--line-search-fn', 'strong_wolfe', '--steps', '5']],
      ['rosenbrock', ['--optimizer', 'newton', '--steps', '8']],
      ['logistic', ['--optimizer', 'sgd', '--lr', '0.5', '--batch-size', '3', '--steps', '24', '--seed', '7']],
      ['logistic', ['--optimizer', 'adam', '--lr', '0.05', '--batch-size', '1', '--steps', '24', '--schedule', 'step:step_size=1,gamma=0.9']],
    ];
    for (const [problem, flags] of runs) {
      const label = `${problem} ${flags.join(' ')}`;
      const python = gradlens('optimize', pythonFile, '--python', PYTHON, '--problem', problem, ...flags, '--json');
      const typescript = gradlens('optimize', tsFile, '--problem', problem, ...flags, '--json');
      assert.equal(python.code, 0, `${label}: ${python.stderr}`);
      assert.equal(typescript.code, 0, `${label}: ${typescript.stderr}`);
      assertSameTrajectory(JSON.parse(python.stdout) as RunJson, JSON.parse(typescript.stdout) as RunJson, label);
    }
  });

  it('analyze and compare agree with the TypeScript twin', () => {
    const analyze = (file: string, ...extra: string[]) => JSON.parse(gradlens('analyze', file, '--problem', 'rosenbrock', ...extra, '--json').stdout);
    const python = analyze(pythonFile, '--python', PYTHON);
    const typescript = analyze(tsFile);
    assert.equal(python.analysis.classification, typescript.analysis.classification);
    python.analysis.spectrum.eigenvalues.forEach((value: number, i: number) => assert.ok(Math.abs(value - typescript.analysis.spectrum.eigenvalues[i]) < 1e-9 * Math.abs(value)));
    const compare = (file: string, ...extra: string[]) => JSON.parse(gradlens('compare', file, '--problem', 'rosenbrock', '--optimizers', 'sgd,adam', '--lr', '1e-3', '--steps', '30', ...extra, '--json').stdout);
    const pythonRuns = compare(pythonFile, '--python', PYTHON).runs as RunJson[];
    const tsRuns = compare(tsFile).runs as RunJson[];
    pythonRuns.forEach((run, k) => assertSameTrajectory(run, tsRuns[k], `compare run ${k}`));
  });

  it('the contour grid of a 2-D problem equals the TypeScript twin\'s', async () => {
    const surface = async (source: { file: string; python?: string }) => {
      let grid: SurfaceMessage | null = null;
      const outcome = await optimizeSource(
        { source, problem: 'rosenbrock', runs: [], train: DEFAULT_TRAIN_OPTIONS, surface: { resolution: 9 } },
        { timeoutSeconds: 20, memoryMb: 4096 },
        { onSurface: (message) => (grid = message) },
      );
      assert.equal(outcome.error, null);
      return grid! as SurfaceMessage;
    };
    const python = await surface({ file: path.join(root, pythonFile), python: PYTHON });
    const typescript = await surface({ file: path.join(root, tsFile) });
    assert.equal(python.values.length, 81);
    assert.deepEqual([python.x, python.y], [typescript.x, typescript.y]);
    python.values.forEach((value, k) => assert.ok(Math.abs(value - typescript.values[k]) <= 1e-12 * Math.max(1, Math.abs(value)), `grid point ${k}: ${value} vs ${typescript.values[k]}`));
  });

  it('one exchange with the interpreter per optimizer step', async () => {
    const session = new PythonSession(PYTHON);
    try {
      const loaded = await session.request<LoadReply>('load', { file: path.join(root, pythonFile) });
      const problem = loaded.problems.find((entry) => entry.name === 'rosenbrock')!;
      const before = session.requests;
      const adam = findOptimizer('adam')!;
      const result = await train(pythonObjective(new RemoteProblem(session, problem, 0)), 'adam', adam.optimizer, resolveHyperparameters(adam, { lr: 0.01 }), { steps: 25 });
      assert.equal(result.steps.length, 25);
      // 25 steps (f and grad together) and the final loss.
      assert.equal(session.requests - before, 25 + 1);
      const objective = pythonObjective(new RemoteProblem(session, problem, 0));
      const grid = Array.from({ length: 100 }, (_, k) => Float64Array.of(k / 10, 1));
      const afterTraining = session.requests;
      const values = await objective.lossesOrNaN!(grid);
      assert.equal(session.requests - afterTraining, 1, 'a contour grid is one exchange');
      grid.forEach(([x, y], k) => assert.ok(Math.abs(values[k] - ((1 - x) ** 2 + 100 * (y - x * x) ** 2)) < 1e-9 * Math.max(1, values[k])));
      // Where f raises (log of x <= 0) the grid has a hole, and the rest is still evaluated.
      const barrier = pythonObjective(new RemoteProblem(session, loaded.problems.find((entry) => entry.name === 'log_barrier')!, 0));
      assert.deepEqual(await barrier.lossesOrNaN!([Float64Array.of(-1, 0), Float64Array.of(0, 2), Float64Array.of(Math.E, 2)]), [NaN, NaN, 1 + 4]);
    } finally {
      session.stop('finished');
    }
  });

  it('user code that raises mid-run ends the run with the Python exception and its place (not as divergence)', () => {
    const { code, stdout } = gradlens('optimize', pythonFile, '--python', PYTHON, '--problem', 'fragile', '--optimizer', 'sgd', '--lr', '0.3', '--steps', '10', '--json');
    assert.equal(code, 1);
    const run = JSON.parse(stdout) as RunJson;
    assert.equal(run.stopped, 'failed');
    assert.equal(run.diverged, null);
    assert.equal(run.failure?.step, 2);
    assert.match(run.failure!.error, /^grad threw ValueError: x fell below 0\.5 during the step \(at test\/fixtures\/python\/optimize_grad\.py:\d+\)$/);
    assert.deepEqual(run.final.params, { x: [1 - 0.3 * 2] });
  });

  it('a hang meets the time limit with its place in the Python file, and the interpreter is gone', async () => {
    const pidFile = path.join(os.tmpdir(), `gradlens-stuck-${process.pid}`);
    const { code, stderr } = gradlensWith({ GRADLENS_TEST_PID_FILE: pidFile }, 'optimize', pythonFile, '--python', PYTHON, '--problem', 'stuck', '--optimizer', 'sgd', '--timeout', '1.5');
    assert.equal(code, 2);
    assert.match(stderr, /timed out after 1\.5 s \(--timeout\) while running sgd on stuck, in _spin \(at test\/fixtures\/python\/optimize_grad\.py:\d+\)/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    fs.rmSync(pidFile);
    // The interpreter leaves with its parent (a watcher thread polls every 0.25 s).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(running(pid), false, `interpreter ${pid} still running`);
  });

  it('keeps Python output on stderr, refuses layers, names a missing interpreter', () => {
    const loud = gradlens('optimize', pythonFile, '--python', PYTHON, '--problem', 'loud', '--optimizer', 'sgd', '--steps', '2', '--json');
    assert.equal(loud.code, 0);
    assert.doesNotThrow(() => JSON.parse(loud.stdout));
    assert.match(loud.stderr, /printing from f/);
    const cases: [string[], RegExp][] = [
      [['--problem', 'relu'], /relu is a layer: optimizers need a scalar problem/],
      [[], /has 6 scalar problems \(rosenbrock, logistic, fragile, stuck, loud, log_barrier\): choose one with --problem/],
      [['--problem', 'rosenbrock', '--python', '/nonexistent/python3'], /Python interpreter '\/nonexistent\/python3' not found/],
    ];
    for (const [flags, message] of cases) {
      const result = gradlens('optimize', pythonFile, '--optimizer', 'sgd', ...(flags.includes('--python') ? [] : ['--python', PYTHON]), ...flags);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, flags.join(' '));
    }
    const fullBatch = gradlens('optimize', pythonFile, '--python', PYTHON, '--problem', 'logistic', '--optimizer', 'lbfgs', '--batch-size', '2');
    assert.equal(fullBatch.code, 2);
    assert.match(fullBatch.stderr, /lbfgs needs the full batch/);
    const flag = gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--python', PYTHON);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--python is for Python problem files/);
  });
});

describe('the Python session', { skip }, () => {
  it('rejects a request whose write fails (the interpreter is gone) instead of ending this process', async () => {
    const session = new PythonSession(PYTHON);
    await session.request<LoadReply>('load', { file: path.join(root, pythonFile) });
    // What a dying interpreter leaves behind: its input pipe closed before its exit is seen.
    (session as unknown as { child: ChildProcess }).child.stdin!.destroy();
    await assert.rejects(session.request('evaluate', { problem: 'rosenbrock', plan: { kind: 'f', points: [] } }), /the Python runner .* exited/);
    session.stop('finished');
  });
});
