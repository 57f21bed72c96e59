import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepRecord, TensorRates } from '../../src/core/optim/train';
import { DEFAULT_TRAIN_OPTIONS } from '../../src/core/optim/train';
import type { RunControlMessage } from '../../src/protocol';
import { type OptimizeEvents, type SurfaceMessage, optimizeSource } from '../../src/runner/optimize';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import type { Hyperparameters } from '../../src/core/optim/optimizer';

const rosenbrock = (x: number, y: number) => (1 - x) ** 2 + 100 * (y - x * x) ** 2;

/** A long run of `optimizer` on Rosenbrock in the sandbox, paused before its first step; `connect` gets its control channel. */
function pausedRosenbrock(optimizer: string, given: Hyperparameters, connect: (post: (message: RunControlMessage) => void) => void, events: OptimizeEvents) {
  return optimizeSource(
    {
      source: { builtin: 'rosenbrock', options: {} },
      problem: null,
      runs: [{ name: optimizer, hyperparameters: resolveHyperparameters(findOptimizer(optimizer)!, given) }],
      train: { ...DEFAULT_TRAIN_OPTIONS, steps: 1_000_000 },
    },
    { timeoutSeconds: 30, memoryMb: 512 },
    {
      ...events,
      onControlChannel: (post) => {
        connect(post);
        post({ type: 'control', action: 'pause' });
      },
    },
  );
}

describe('live optimizer runs in the sandbox', () => {
  it('pause, single steps with a new lr, resume and stop, as the dashboard sends them', async () => {
    let post: ((message: RunControlMessage) => void) | null = null;
    const records: StepRecord[] = [];
    const events: string[] = [];
    let pausedAt = -1;
    let steppedTo = -1;
    const outcome = await pausedRosenbrock('sgd', { lr: 1e-4 }, (send) => (post = send), {
      onRecords: (_run, batch) => records.push(...batch),
      onPaused: (_run, step) => {
        events.push(`paused ${step}`);
        if (pausedAt < 0) {
          pausedAt = step;
          post!({ type: 'setHyperparameters', values: { lr: 2e-4 } });
          post!({ type: 'control', action: 'step' });
        } else if (step === pausedAt + 1) {
          post!({ type: 'control', action: 'step' });
        } else if (steppedTo < 0) {
          steppedTo = step;
          post!({ type: 'control', action: 'resume' });
          setTimeout(() => post!({ type: 'control', action: 'stop' }), 200);
        }
      },
      onResumed: () => events.push('resumed'),
      onHyperparametersChanged: (_run, step, values) => events.push(`lr ${values.lr} from ${step}`),
    });
    assert.equal(outcome.error, null);
    const [result] = outcome.results;
    assert.equal(result.stopped, 'cancelled');
    assert.equal(steppedTo, pausedAt + 2, 'two single steps');
    assert.deepEqual(events.slice(0, 7), [`paused ${pausedAt}`, 'resumed', `lr 0.0002 from ${pausedAt + 1}`, `paused ${pausedAt + 1}`, 'resumed', `paused ${steppedTo}`, 'resumed']);
    const byStep = new Map(records.map((record) => [record.step, record]));
    if (pausedAt > 0) assert.equal(byStep.get(pausedAt)!.lr, 1e-4);
    assert.equal(byStep.get(pausedAt + 1)!.lr, 2e-4);
    assert.ok(result.final.step > steppedTo, 'resumed and ran on until stopped');
    assert.equal(result.hyperparameters.lr, 2e-4);
  });

  it('answers a request for the rates of a tensor at once, from the latest recorded step, while paused', async () => {
    let post: ((message: RunControlMessage) => void) | null = null;
    const records: StepRecord[] = [];
    const answers: { requestId: number; rates: TensorRates | null; error: string | null }[] = [];
    const lr = 0.01;
    await pausedRosenbrock('adagrad', { lr }, (send) => (post = send), {
      onRecords: (_run, batch) => records.push(...batch),
      onPaused: (_run, step) => {
        // Paused before the first step: nothing recorded yet. Then one single step, and the questions.
        if (step === 0) {
          post!({ type: 'detail', tensor: 'x', requestId: 1 });
          post!({ type: 'control', action: 'step' });
        } else if (step === 1) {
          post!({ type: 'detail', tensor: 'nothing', requestId: 2 });
          post!({ type: 'detail', tensor: 'x', requestId: 3 });
        }
      },
      onRates: (requestId, rates, error) => {
        answers.push({ requestId, rates, error });
        if (answers.length === 3) post!({ type: 'control', action: 'stop' });
      },
    });
    assert.deepEqual(answers.map((answer) => answer.requestId), [1, 2, 3]);
    assert.match(answers[0].error!, /^no step has been recorded yet/);
    assert.match(answers[1].error!, /^no tensor nothing \(the parameters are x\)$/);
    const { rates } = answers[2];
    const last = records.at(-1)!;
    assert.deepEqual([rates?.step, last.step], [1, 1]);
    // Adagrad's rate is lr / (sqrt(Σg²) + eps): the accumulator the answer carries gives it back.
    assert.equal(rates!.accumulator!.length, 2);
    rates!.values.forEach((value, i) => assert.ok(Math.abs(value - lr / (Math.sqrt(rates!.accumulator![i]) + 1e-10)) <= 1e-15, `x[${i}]`));
    assert.equal(Math.min(...rates!.values), last.effectiveLr!.min);
    assert.deepEqual(rates!.grad.length, 2);
  });

  it('sends the loss surface of a 2-D problem on the requested grid', async () => {
    let surface: SurfaceMessage | null = null;
    const outcome = await optimizeSource(
      { source: { builtin: 'rosenbrock', options: {} }, problem: null, runs: [], train: { ...DEFAULT_TRAIN_OPTIONS }, surface: { resolution: 5 } },
      { timeoutSeconds: 30, memoryMb: 512 },
      { onSurface: (message) => (surface = message) },
    );
    assert.equal(outcome.error, null);
    assert.ok(surface);
    const { x, y, resolution, values, minima } = surface as SurfaceMessage;
    assert.deepEqual([x, y, resolution, minima], [[-2, 2], [-1, 3], 5, [[1, 1]]]);
    // values[j * n + i] = f(x_i, y_j), x_i = −2 + i, y_j = −1 + j.
    for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) assert.equal(values[j * 5 + i], rosenbrock(-2 + i, -1 + j));
  });
});
