import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const root = path.resolve(__dirname, '../../..');

function gradlens(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const fixture = 'test/fixtures/optimize.grad.ts';

describe('gradlens optimize | compare | analyze', () => {
  it('optimize --json: the documented object, with the closed-form trajectory of gradient descent', () => {
    const { code, stdout } = gradlens('optimize', fixture, '--problem', 'bowl', '--optimizer', 'sgd', '--lr', '0.1', '--steps', '5', '--json');
    assert.equal(code, 0);
    const report = JSON.parse(stdout);
    assert.equal(report.optimizer, 'sgd');
    assert.deepEqual(report.hyperparameters, { lr: 0.1, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, lookahead: false });
    assert.equal(report.steps.length, 5);
    report.steps.forEach((record: { step: number; params: { x: number[] } }, k: number) => {
      assert.equal(record.step, k + 1);
      assert.ok(Math.abs(record.params.x[0] - 0.6 ** (k + 1)) < 1e-15);
      assert.ok(Math.abs(record.params.x[1] + 0.8 ** (k + 1)) < 1e-15);
    });
    assert.ok(Math.abs(report.final.loss - (2 * 0.6 ** 10 + 0.8 ** 10)) < 1e-15);
  });

  it('optimize on a built-in, thinned with --every, and as CSV', () => {
    const json = JSON.parse(gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'adam', '--steps', '50', '--every', '10', '--json').stdout);
    assert.deepEqual(json.steps.map((record: { step: number }) => record.step), [1, 10, 20, 30, 40, 50]);
    assert.ok(json.steps[0].effectiveLr.min > 0);
    const csv = gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'adam', '--steps', '3', '--csv').stdout.trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[0], /^optimizer,step,epoch,lr,loss,/);
  });

  it('--jsonl: a line per run start, record and end, then done; each a JSON object', () => {
    const lines = gradlens('compare', 'builtin:rosenbrock', '--optimizers', 'sgd,adam', '--steps', '4', '--jsonl').stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((line) => `${line.type}${line.run ? ` ${line.run}` : ''}`), [
      'run sgd', 'record sgd', 'record sgd', 'record sgd', 'record sgd', 'end sgd',
      'run adam', 'record adam', 'record adam', 'record adam', 'record adam', 'end adam',
      'done',
    ]);
    assert.deepEqual(lines[0].layout, [{ name: 'x', shape: [2] }]);
    assert.deepEqual(lines[4].step, 4);
    assert.equal(lines[5].final.step, 4);
    assert.equal(lines.at(-1).error, null);
  });

  it('--json of a run stopped in the middle is still one JSON document, with the records it made and the error', () => {
    const { stdout } = gradlens('optimize', fixture, '--problem', 'stallsLater', '--optimizer', 'sgd', '--steps', '1000', '--timeout', '1', '--json');
    const report = JSON.parse(stdout);
    // f ran ten times: at most nine steps' records (those of the last 100 ms before a hang may not have left).
    assert.ok(Array.isArray(report.steps) && report.steps.length <= 9);
    assert.equal(report.final, null);
    assert.match(report.error, /^timed out after 1 s \(--timeout\) while running sgd on stallsLater, in f \(at .*optimize\.grad\.ts:\d+:\d+\)$/);
  });

  it('sets booleans with --flag and clears them with --no-flag', () => {
    const run = (...flags: string[]) => JSON.parse(gradlens('optimize', fixture, '--problem', 'bowl', '--optimizer', 'adam', '--steps', '1', ...flags, '--json').stdout);
    assert.equal(run().hyperparameters.bias_correction, true);
    const raw = run('--no-bias-correction', '--amsgrad', '--lr', '0.1');
    assert.deepEqual([raw.hyperparameters.bias_correction, raw.hyperparameters.amsgrad], [false, true]);
    // Without bias correction the first step is γ·(1 − β1)g/(√(1 − β2)·|g| + ε), not γ·sign(g).
    assert.ok(Math.abs(raw.final.params.x[0] - (1 - (0.1 * 0.1 * 4) / (Math.sqrt(0.001) * 4 + 1e-8))) < 1e-12);
  });

  it('names and shapes the parameters as the problem does, in JSON, in the terminal and in checkpoints', () => {
    // builtin:linear-regression has w [5] and b (a number); builtin:mlp matrices.
    const run = JSON.parse(gradlens('optimize', 'builtin:linear-regression', '--optimizer', 'sgd', '--steps', '2', '--json').stdout);
    assert.deepEqual(Object.keys(run.final.params), ['w', 'b']);
    assert.equal(run.final.params.w.length, 5);
    assert.equal(typeof run.final.params.b, 'number');
    const mlp = JSON.parse(gradlens('optimize', 'builtin:mlp', '--optimizer', 'adam', '--steps', '1', '--json').stdout);
    const first = Object.values(mlp.final.params)[0] as number[][];
    assert.ok(Array.isArray(first) && Array.isArray(first[0]), 'a weight matrix stays a matrix');
    const text = gradlens('optimize', 'builtin:linear-regression', '--optimizer', 'sgd', '--steps', '2').stdout;
    assert.match(text, /params w \[(\S+, ){4}\S+\]; b \S+$/m);
    // Many tensors: each shows its first two numbers and its size, in the problem's order.
    const mlpText = gradlens('optimize', 'builtin:mlp', '--optimizer', 'adam', '--steps', '1').stdout;
    const names = Object.keys(mlp.final.params);
    const sizes = Object.values(mlp.final.params).map((value) => [value].flat(2).length);
    const expected = names.map((name, index) => `${name} \\[\\S+, \\S+, … ${sizes[index]} in all\\]`).join('; ');
    assert.match(mlpText, new RegExp(`params ${expected}$`, 'm'));
    const checkpoint = path.join(os.tmpdir(), `gradlens-named-${process.pid}.json`);
    assert.equal(gradlens('optimize', 'builtin:linear-regression', '--optimizer', 'sgd', '--steps', '2', '--save', checkpoint).code, 0);
    const saved = JSON.parse(fs.readFileSync(checkpoint, 'utf8'));
    assert.deepEqual(saved.params, run.final.params);
    fs.rmSync(checkpoint);
  });

  it('a checkpoint written with flat parameters (before they were named) still resumes', () => {
    const checkpoint = path.join(os.tmpdir(), `gradlens-flat-${process.pid}.json`);
    const final = (...flags: string[]) => JSON.parse(gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--lr', '0.001', ...flags, '--json').stdout).final;
    const straight = final('--steps', '8');
    assert.equal(gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--lr', '0.001', '--steps', '3', '--save', checkpoint).code, 0);
    const saved = JSON.parse(fs.readFileSync(checkpoint, 'utf8'));
    const old = { step: saved.step, params: Object.values(saved.params as Record<string, number[]>).flat(), optimizerState: saved.optimizerState, scheduleState: saved.scheduleState, batcher: saved.batcher, epochLoss: saved.epochLoss };
    fs.writeFileSync(checkpoint, JSON.stringify(old));
    assert.deepEqual(final('--steps', '8', '--resume', checkpoint), straight);
    fs.rmSync(checkpoint);
  });

  it('--save and --resume continue a run exactly', () => {
    const checkpoint = path.join(os.tmpdir(), `gradlens-checkpoint-${process.pid}.json`);
    const final = (...flags: string[]) => JSON.parse(gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'rmsprop', '--lr', '0.01', ...flags, '--json').stdout).final;
    const straight = final('--steps', '30');
    assert.equal(gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'rmsprop', '--lr', '0.01', '--steps', '12', '--save', checkpoint).code, 0);
    assert.deepEqual(final('--steps', '30', '--resume', checkpoint), straight);
    fs.rmSync(checkpoint);
    const missing = gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'adam', '--resume', checkpoint);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--resume .*: ENOENT/);
  });

  it('keeps user output on stderr', () => {
    const { code, stdout, stderr } = gradlens('optimize', fixture, '--problem', 'loud', '--optimizer', 'sgd', '--steps', '2', '--json');
    assert.equal(code, 0);
    assert.doesNotThrow(() => JSON.parse(stdout));
    assert.match(stderr, /printing from f/);
  });

  it('compare: steps to tolerance from the same start', () => {
    const { code, stdout } = gradlens('compare', fixture, '--problem', 'bowl', '--optimizers', 'sgd,momentum,adam', '--lr', '0.1', '--steps', '500', '--tolerance', '1e-10', '--json');
    assert.equal(code, 0);
    const report = JSON.parse(stdout);
    assert.deepEqual(report.runs.map((run: { optimizer: string }) => run.optimizer), ['sgd', 'momentum', 'adam']);
    // SGD: loss_k = 2·0.36^k + 0.64^k ≤ 1e-10 first at k = 52 (0.64^52 ≈ 8.3e-11), derived by hand.
    assert.equal(report.runs[0].stepsToTolerance, 52);
  });

  it('analyze: the start of a saddle and the end of a run', () => {
    const saddle = JSON.parse(gradlens('analyze', 'builtin:saddle', '--option', 'start=[0,0]', '--json').stdout);
    assert.equal(saddle.analysis.classification, 'saddle');
    assert.deepEqual(saddle.analysis.spectrum.eigenvalues, [-2, 2]);
    // Leave x² − y² along y, the eigenvector of −2, named and shaped as the problem's params.
    assert.deepEqual(saddle.analysis.escape.direction, { x: [0, 1] });
    assert.deepEqual(saddle.analysis.layout, [{ name: 'x', shape: [2] }]);
    const bowl = JSON.parse(gradlens('analyze', fixture, '--problem', 'bowl', '--optimizer', 'lbfgs', '--line-search-fn', 'strong_wolfe', '--steps', '3', '--json').stdout);
    assert.equal(bowl.at, 'final');
    assert.equal(bowl.analysis.classification, 'minimum');
    assert.ok(Math.abs(bowl.analysis.conditionNumber - 2) < 1e-9);
  });

  it('exits 2 with a named error for bad input', () => {
    const cases: [string[], RegExp][] = [
      [['optimize', 'builtin:rosenbrock', '--optimizer', 'adamm'], /unknown optimizer 'adamm'/],
      [['optimize', 'builtin:rosenbrock'], /--optimizer is required/],
      [['optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--lr', '-1'], /--lr must be >= 0, got -1/],
      [['optimize', 'builtin:rosenbrock', '--optimizer', 'adam', '--betas', '0.9,1'], /--betas must be two numbers in \[0, 1\)/],
      [['optimize', 'builtin:rosenbrock', '--optimizer', 'adam', '--momentum', '0.9'], /adam has no hyper-parameter momentum/],
      [['optimize', 'builtin:nowhere', '--optimizer', 'adam'], /no built-in problem 'nowhere'/],
      [['optimize', fixture, '--optimizer', 'adam'], /has 3 scalar problems \(bowl, loud, stallsLater\): choose one with --problem/],
      [['optimize', fixture, '--problem', 'sigmoidLayer', '--optimizer', 'adam'], /sigmoidLayer is a layer/],
      [['optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--schedule', 'step:gama=1'], /--schedule: schedule step has no gama/],
      [['optimize', 'builtin:linear-regression', '--optimizer', 'lbfgs', '--batch-size', '8'], /lbfgs needs the full batch/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = gradlens(...args);
      assert.equal(code, 2, `${args.join(' ')}: exit ${code}, ${stderr}`);
      assert.match(stderr, message, args.join(' '));
    }
  });

  it('exits 1 and keeps the last finite state when a run diverges', () => {
    const { code, stdout } = gradlens('optimize', 'builtin:rosenbrock', '--optimizer', 'sgd', '--lr', '1', '--steps', '50', '--json');
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.equal(report.stopped, 'diverged');
    assert.ok(report.final.params.x.every((value: number) => Number.isFinite(value)));
  });
});
