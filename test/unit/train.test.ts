import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import { parseSchedule } from '../../src/core/optim/schedules';
import { type TrainOptions, train } from '../../src/core/optim/train';
import { asObjective, scalarObjective } from '../../src/core/definitions';
import { type ScalarDefinition, classifyExport } from '../../src/core/problem';
import { findBuiltin } from '../../src/core/problems';

function scalar(value: object): ScalarDefinition {
  return classifyExport('problem', value) as ScalarDefinition;
}

async function run(definition: ScalarDefinition, name: string, given: Record<string, unknown>, options: Partial<TrainOptions>) {
  const choice = findOptimizer(name)!;
  const hyper = resolveHyperparameters(choice, given as never);
  return train(asObjective(definition), name, choice.optimizer, hyper, options);
}

/** f(x) = a/2·x²: gradient descent gives x_k = (1 − γa)^k·x0 exactly. */
const parabola = (a: number, x0: number) => scalar({ params: { x: x0 }, f: (p: { x: number }) => (a / 2) * p.x * p.x, grad: (p: { x: number }) => ({ x: a * p.x }) });

describe('training loop', () => {
  it('follows the closed form of gradient descent and records each step', async () => {
    const result = await run(parabola(4, 1), 'sgd', { lr: 0.1 }, { steps: 5, recordParams: true });
    assert.equal(result.steps.length, 5);
    result.steps.forEach((record, k) => {
      const before = 0.6 ** k;
      assert.ok(Math.abs(record.params![0] - 0.6 ** (k + 1)) < 1e-15);
      assert.ok(Math.abs(record.loss - 2 * before * before) < 1e-15);
      assert.equal(record.fullLoss, record.loss);
      assert.ok(Math.abs(record.gradNorm - 4 * before) < 1e-14);
      assert.ok(Math.abs(record.updateNorm - 0.4 * before) < 1e-14);
      assert.ok(Math.abs(record.updateRatio - 0.4) < 1e-12);
      assert.equal(record.effectiveLr, null);
    });
    assert.ok(Math.abs(result.final.loss! - 2 * 0.6 ** 10) < 1e-15);
    assert.equal(result.stopped, 'steps');
  });

  it('thins records with every, never the computation', async () => {
    const thin = await run(parabola(4, 1), 'sgd', { lr: 0.1 }, { steps: 10, every: 4 });
    const full = await run(parabola(4, 1), 'sgd', { lr: 0.1 }, { steps: 10 });
    assert.deepEqual(thin.steps.map((record) => record.step), [1, 4, 8, 10]);
    assert.deepEqual(thin.final, full.final);
  });

  it('applies schedules per epoch: step, exponential, cosine, warm-up', async () => {
    const lrs = async (schedule: string) => (await run(parabola(1, 1), 'sgd', { lr: 0.1 }, { steps: 4, schedule: parseSchedule(schedule) })).steps.map((r) => r.lr);
    assert.deepEqual(await lrs('step:step_size=2,gamma=0.5'), [0.1, 0.1, 0.05, 0.05]);
    (await lrs('exponential:gamma=0.9')).forEach((lr, k) => assert.ok(Math.abs(lr - 0.1 * 0.9 ** k) < 1e-17));
    (await lrs('cosine:T_max=2,eta_min=0.02')).forEach((lr, k) => assert.ok(Math.abs(lr - (0.02 + 0.04 * (1 + Math.cos((Math.PI * k) / 2)))) < 1e-16));
    (await lrs('warmup:start_factor=0.25,total_iters=2')).forEach((lr, k) => assert.ok(Math.abs(lr - 0.1 * (0.25 + 0.375 * Math.min(k, 2))) < 1e-16));
  });

  it('reduces the rate on a plateau after patience epochs without improvement', async () => {
    const flat = scalar({ params: { x: 1 }, f: () => 1, grad: () => ({ x: 0 }) });
    const result = await run(flat, 'sgd', { lr: 0.1 }, { steps: 6, schedule: parseSchedule('plateau:patience=2,factor=0.5') });
    // Epoch 0 sets the best; epochs 1, 2 and 3 do not improve: after the third, 3 > patience.
    assert.deepEqual(result.steps.map((r) => r.lr), [0.1, 0.1, 0.1, 0.1, 0.05, 0.05]);
  });

  it('rejects bad schedules by name', () => {
    assert.throws(() => parseSchedule('linear'), /unknown schedule 'linear'/);
    assert.throws(() => parseSchedule('step:gama=0.5'), /schedule step has no gama/);
    assert.throws(() => parseSchedule('step:gamma=x'), /gamma must be a number, got 'x'/);
    assert.throws(() => parseSchedule('step:step_size=0'), /step_size must be a whole number >= 1/);
  });

  it('cuts shuffled epochs into mini-batches, the same ones for the same seed', async () => {
    const seen: number[][] = [];
    const data = () => scalar({
      params: { w: 0 },
      data: { size: 10 },
      f: (p: { w: number }, batch: number[] = []) => batch.reduce((s, i) => s + (p.w - i) ** 2, 0) / Math.max(1, batch.length),
      grad: (p: { w: number }, batch?: number[]) => {
        if (batch) seen.push(batch);
        const all = batch ?? Array.from({ length: 10 }, (_, i) => i);
        return { w: all.reduce((s, i) => s + 2 * (p.w - i), 0) / all.length };
      },
    });
    const result = await run(data(), 'sgd', { lr: 0.01 }, { steps: 8, batchSize: 3, seed: 7 });
    assert.deepEqual(result.steps.map((r) => r.epoch), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(seen.map((batch) => batch.length), [3, 3, 3, 1, 3, 3, 3, 1]);
    assert.deepEqual(seen.slice(0, 4).flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(seen.slice(4).flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(seen.slice(0, 4), seen.slice(4));
    const again = seen.splice(0).slice(0, 4);
    await run(data(), 'sgd', { lr: 0.01 }, { steps: 4, batchSize: 3, seed: 7 });
    assert.deepEqual(seen, again);
  });

  it('stops on divergence and keeps the last finite state', async () => {
    const exploding = scalar({ params: { x: 1 }, f: (p: { x: number }) => (Math.abs(p.x) > 1e3 ? NaN : p.x * p.x), grad: (p: { x: number }) => ({ x: 2 * p.x }) });
    const result = await run(exploding, 'sgd', { lr: 3 }, { steps: 100, recordParams: true });
    // x_k = (1 − 6)^k: |x_4| = 625, |x_5| = 3125 > 1e3.
    assert.equal(result.stopped, 'diverged');
    assert.equal(result.diverged!.step, 6);
    assert.match(result.diverged!.message, /f\(p\) returned NaN/);
    assert.equal(result.final.params[0], -3125);
  });

  it('a throw in user code ends the run as that error, not as divergence, and keeps the parameters', async () => {
    const fragile = scalar({ params: { x: 1 }, f: (p: { x: number }) => p.x * p.x, grad: (p: { x: number }) => {
      if (p.x < 0.5) throw new RangeError('x fell below 0.5');
      return { x: 2 * p.x };
    } });
    // x_1 = 1 − 0.3·2 = 0.4: grad throws at step 2.
    const result = await run(fragile, 'sgd', { lr: 0.3 }, { steps: 10 });
    assert.equal(result.stopped, 'failed');
    assert.equal(result.diverged, null);
    assert.deepEqual([result.failure?.step, result.failure?.error.kind, result.failure?.error.phase], [2, 'user', 'optimize']);
    assert.equal(result.failure?.error.message, 'grad threw RangeError: x fell below 0.5 during the step');
    assert.deepEqual(result.final.params, [0.4]);
    assert.equal(result.checkpoint.step, 2);
  });

  it('a wrong gradient shape is the user error it is, and a bug in GradLens an internal error with its stack', async () => {
    const misshapen = scalar({ params: { x: [1, 2] }, f: () => 0, grad: () => ({ x: [1] }) });
    const shaped = await run(misshapen, 'sgd', { lr: 0.1 }, { steps: 3 });
    assert.deepEqual([shaped.stopped, shaped.failure?.error.kind], ['failed', 'user']);
    assert.match(shaped.failure!.error.message, /^grad\(p\)\.x has shape \[1\], expected \[2\]/);
    // Of the right size but transposed: a check reads it row-major to judge its values; a step must not.
    const transposed = scalar({ params: { W: [[1, 2, 3], [4, 5, 6]] }, f: () => 0, grad: () => ({ W: [[1, 4], [2, 5], [3, 6]] }) });
    const moved = await run(transposed, 'sgd', { lr: 0.1 }, { steps: 3 });
    assert.deepEqual([moved.stopped, moved.failure?.step, moved.failure?.error.kind], ['failed', 1, 'user']);
    assert.match(moved.failure!.error.message, /^grad\(p\)\.W has shape \[3,2\], expected \[2,3\] like params\.W/);
    const objective = scalarObjective(parabola(4, 1));
    const broken = { ...objective, lossAndGradient: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading '0')")) };
    const choice = findOptimizer('sgd')!;
    const internal = await train(broken, 'sgd', choice.optimizer, resolveHyperparameters(choice, {}), { steps: 3 });
    assert.deepEqual([internal.stopped, internal.failure?.step, internal.failure?.error.kind], ['failed', 1, 'internal']);
    assert.match(internal.failure!.error.message, /^internal error: TypeError: Cannot read properties of undefined/);
    assert.match(internal.failure!.error.stack!, /TypeError/);
  });

  it('stops when the parameters become non-finite, on recorded and on thinned steps alike', async () => {
    // g = 1 at x = 1, then 1e308 at x = −9: SGD with lr 10 reaches −∞ at step 2 while f stays finite.
    const overshooting = scalar({ params: { x: 1 }, f: () => 0, grad: (p: { x: number }) => ({ x: p.x === 1 ? 1 : 1e308 }) });
    for (const every of [1, 5]) {
      const result = await run(overshooting, 'sgd', { lr: 10 }, { steps: 10, every });
      assert.equal(result.stopped, 'diverged', `every ${every}`);
      assert.equal(result.diverged!.step, 2);
      assert.match(result.diverged!.message, /the parameters became non-finite/);
      assert.deepEqual(result.final.params, [-9]);
    }
  });

  it('does not mistake an update whose squares overflow for divergence', async () => {
    // Δx = −1e199: (Δx)² overflows to ∞, yet x stays finite.
    const leaping = scalar({ params: { x: 1 }, f: () => 0, grad: (p: { x: number }) => ({ x: p.x === 1 ? 1e199 : 0 }) });
    const result = await run(leaping, 'sgd', { lr: 1 }, { steps: 3 });
    assert.equal(result.stopped, 'steps');
    assert.equal(result.steps[0].updateNorm, Infinity);
    assert.deepEqual(result.final.params, [1 - 1e199]);
  });

  it('refuses mini-batches for L-BFGS', async () => {
    const definition = findBuiltin('linear-regression')!.create();
    await assert.rejects(run(classifyExport('lr', definition) as ScalarDefinition, 'lbfgs', {}, { steps: 1, batchSize: 8 }), /lbfgs needs the full batch/);
  });

  it('reports per-dimension effective learning rates of adaptive methods', async () => {
    const twoD = scalar({ params: { x: [1, -2] }, f: (p: { x: number[] }) => p.x[0] ** 2 + 10 * p.x[1] ** 2, grad: (p: { x: number[] }) => ({ x: [2 * p.x[0], 20 * p.x[1]] }) });
    const [record] = (await run(twoD, 'adagrad', { lr: 0.5 }, { steps: 1 })).steps;
    // Step 1: γ/(|g_i| + ε) with g = (2, −40).
    assert.ok(Math.abs(record.effectiveLr!.max - 0.5 / (2 + 1e-10)) < 1e-15);
    assert.ok(Math.abs(record.effectiveLr!.min - 0.5 / (40 + 1e-10)) < 1e-15);
    assert.equal(record.effectiveLrByTensor!.x!.max, record.effectiveLr!.max);
  });

  it('converges on the built-ins: L-BFGS on Rosenbrock, Adam on the ill-conditioned quadratic', async () => {
    const rosenbrock = classifyExport('rosenbrock', findBuiltin('rosenbrock')!.create()) as ScalarDefinition;
    const lbfgs = await run(rosenbrock, 'lbfgs', { line_search_fn: 'strong_wolfe' }, { steps: 5 });
    assert.ok(lbfgs.final.loss! < 1e-8, `L-BFGS loss ${lbfgs.final.loss}`);
    const quadratic = classifyExport('quadratic', findBuiltin('quadratic')!.create()) as ScalarDefinition;
    const adam = await run(quadratic, 'adam', { lr: 0.05 }, { steps: 2000 });
    assert.ok(adam.final.loss! < 1e-8, `Adam loss ${adam.final.loss}`);
  });
});

describe('every optimizer on the built-in quadratic (κ = 10)', () => {
  const cases: [string, Record<string, unknown>, number][] = [
    ['sgd', { lr: 0.1 }, 300],
    ['momentum', { lr: 0.05 }, 300],
    ['nesterov', { lr: 0.05 }, 300],
    ['adagrad', { lr: 0.5 }, 500],
    ['rmsprop', { lr: 0.01 }, 500],
    ['adadelta', { lr: 1 }, 3000],
    ['adam', { lr: 0.05 }, 500],
    ['adamw', { lr: 0.05, weight_decay: 0 }, 500],
    ['adamax', { lr: 0.05 }, 500],
    ['nadam', { lr: 0.05 }, 500],
    ['radam', { lr: 0.05 }, 500],
    ['lbfgs', { line_search_fn: 'strong_wolfe' }, 5],
    ['newton', {}, 2],
  ];
  for (const [name, hyper, steps] of cases) {
    it(`${name} lowers the loss at least 1000-fold`, async () => {
      const definition = classifyExport('quadratic', findBuiltin('quadratic')!.create({ condition: 10 })) as ScalarDefinition;
      const result = await run(definition, name, hyper, { steps });
      const start = result.steps[0].loss;
      assert.equal(result.stopped, 'steps');
      assert.ok(result.final.loss! < start / 1000, `${name}: ${start} → ${result.final.loss}`);
    });
  }

  it('gives the full effective rates of one tensor on request', async () => {
    const definition = classifyExport('quadratic', findBuiltin('quadratic')!.create({ condition: 10 })) as ScalarDefinition;
    const [record] = (await run(definition, 'adam', {}, { steps: 1, detailTensor: 'x' })).steps;
    assert.equal(record.effectiveLrDetail!.length, 2);
    assert.equal(Math.min(...record.effectiveLrDetail!), record.effectiveLr!.min);
    await assert.rejects(run(definition, 'adam', {}, { steps: 1, detailTensor: 'W' }), /no tensor W \(the parameters are x\)/);
  });

  it('gives the detail tensor\'s gradient and accumulator with its rates (Adagrad: sum = initial + Σ g², rate = lr / (√sum + eps))', async () => {
    // f = ½ (3x² + y²) from (1, 2): g = (3, 2) at the first step.
    const definition = scalar({ params: { v: [1, 2] }, f: (p: { v: number[] }) => 0.5 * (3 * p.v[0] ** 2 + p.v[1] ** 2), grad: (p: { v: number[] }) => ({ v: [3 * p.v[0], p.v[1]] }) });
    const [record] = (await run(definition, 'adagrad', { lr: 0.1, initial_accumulator_value: 0.5 }, { steps: 1, detailTensor: 'v' })).steps;
    assert.deepEqual(record.gradDetail, [3, 2]);
    assert.deepEqual(record.accumulatorDetail, [0.5 + 9, 0.5 + 4]);
    assert.ok(Math.abs(record.effectiveLrDetail![0] - 0.1 / (Math.sqrt(9.5) + 1e-10)) < 1e-15);
  });
});

describe('checkpoints', () => {
  it('a run paused, saved as JSON and resumed ends exactly where an uninterrupted run does', async () => {
    const definition = () => classifyExport('lr', findBuiltin('linear-regression')!.create()) as ScalarDefinition;
    const options = { batchSize: 48, seed: 3, schedule: parseSchedule('plateau:patience=0,factor=0.5,threshold=0.5') };
    const straight = await run(definition(), 'adam', { lr: 0.05, amsgrad: true }, { ...options, steps: 20 });
    const first = await run(definition(), 'adam', { lr: 0.05, amsgrad: true }, { ...options, steps: 7 });
    const saved = JSON.parse(JSON.stringify(first.checkpoint));
    const resumed = await run(definition(), 'adam', { lr: 0.05, amsgrad: true }, { ...options, steps: 20, resume: saved });
    assert.deepEqual(resumed.final, straight.final);
    assert.deepEqual(resumed.steps.map((r) => [r.step, r.epoch, r.lr, r.loss]), straight.steps.slice(7).map((r) => [r.step, r.epoch, r.lr, r.loss]));
    assert.ok(straight.steps.some((r) => r.lr < 0.05), 'the plateau schedule reduced the rate (its state is part of the checkpoint)');
  });

  it('refuses a checkpoint of another optimizer or another problem before any step', async () => {
    const saved = JSON.parse(JSON.stringify((await run(parabola(4, 1), 'sgd', { lr: 0.1 }, { steps: 5 })).checkpoint));
    assert.deepEqual([saved.problem, saved.optimizer, saved.layout], ['problem', 'sgd', [{ name: 'x', shape: [] }]]);
    let steps = 0;
    const counting = scalar({ params: { x: 1 }, f: (p: { x: number }) => (steps++, p.x * p.x), grad: (p: { x: number }) => ({ x: 2 * p.x }) });
    await assert.rejects(run(counting, 'adam', {}, { steps: 10, resume: saved }), /^InputError: the checkpoint was saved by a sgd run; resume it with sgd, not adam$/);
    const other = classifyExport('other', { params: { x: 1 }, f: (p: { x: number }) => p.x, grad: () => ({ x: 1 }) }) as ScalarDefinition;
    await assert.rejects(run(other, 'sgd', {}, { steps: 10, resume: saved }), /the checkpoint is of a run on problem, not on other/);
    const wider = scalar({ params: { x: [1, 2] }, f: () => 0, grad: () => ({ x: [0, 0] }) });
    await assert.rejects(run(wider, 'sgd', {}, { steps: 10, resume: saved }), /the checkpoint is of a problem with parameters x \[\]; this one has x \[2\]/);
    // A checkpoint from before the metadata: the optimizer state itself tells Adam's from SGD's.
    const old = { ...saved, problem: undefined, optimizer: undefined, layout: undefined };
    await assert.rejects(run(counting, 'adam', {}, { steps: 10, resume: old }), /optimizer state does not fit adam on this problem/);
    assert.equal(steps, 0, 'no step ran');
  });
});
