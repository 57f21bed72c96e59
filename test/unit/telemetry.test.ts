import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import type { Hyperparameters, Closure } from '../../src/core/optim/optimizer';
import { SAMPLE_LIMIT, stepStatistics, summarize } from '../../src/core/optim/telemetry';
import type { Layout } from '../../src/core/tensor';

describe('telemetry summaries', () => {
  it('reads quartiles of 1..1000 off the histogram to within one bin', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    const summary = summarize(values)!;
    assert.deepEqual([summary.min, summary.max], [1, 1000]);
    // Log bins from 1 to 1000: a bin spans a factor 1000^(1/32) ≈ 1.24.
    for (const [estimate, exact] of [[summary.q25, 250], [summary.median, 500], [summary.q75, 750]]) {
      assert.ok(estimate / exact < 1.25 && exact / estimate < 1.25, `${estimate} vs ${exact}`);
    }
    assert.equal(summary.histogram.counts.reduce((a, b) => a + b, 0), 1000);
    assert.equal(summary.histogram.sampled, 1000);
  });

  it('keeps min and max exact and samples the histogram of large vectors', () => {
    const n = 1_000_003;
    const values = new Float64Array(n).fill(0.5);
    values[777_777] = 1e-9; // off the sampling stride: only the exact pass sees it
    values[n - 1] = 7;
    const summary = summarize(values)!;
    assert.deepEqual([summary.min, summary.max], [1e-9, 7]);
    assert.ok(summary.histogram.sampled <= SAMPLE_LIMIT);
    assert.equal(summary.histogram.counts.reduce((a, b) => a + b, 0), summary.histogram.sampled);
    assert.ok(Math.abs(summary.median - 0.5) / 0.5 < 0.9, `median ${summary.median}`);
  });

  it('handles constant, empty and non-positive vectors', () => {
    assert.equal(summarize(new Float64Array(0)), null);
    const constant = summarize(new Float64Array(5).fill(3))!;
    assert.deepEqual([constant.min, constant.median, constant.max], [3, 3, 3]);
    const signed = summarize(Float64Array.from([-1, 0, 1, 2]))!;
    assert.deepEqual([signed.min, signed.max], [-1, 2]);
  });

  it('uses no more bins than sampled elements, and one for equal values', () => {
    const two = summarize(Float64Array.of(1e-3, 1))!;
    // Two logarithmic bins split at the geometric mean √(1e−3 · 1).
    assert.deepEqual(two.histogram.counts, [1, 1]);
    assert.equal(two.histogram.edges.length, 3);
    assert.ok(Math.abs(two.histogram.edges[1] - Math.sqrt(1e-3)) < 1e-15);
    assert.deepEqual([two.histogram.edges[0], two.histogram.edges[2]], [1e-3, 1]);
    const constant = summarize(new Float64Array(7).fill(0.25))!;
    assert.deepEqual(constant.histogram, { edges: [0.25, 0.25], counts: [7], sampled: 7 });
    assert.deepEqual([constant.q25, constant.median, constant.q75], [0.25, 0.25, 0.25]);
  });
});

/** A layout of named tensors of these sizes, in order. */
function layoutOf(sizes: Record<string, number>): Layout {
  let offset = 0;
  const tensors = Object.entries(sizes).map(([name, size]) => {
    const spec = { name, shape: [size], offset, size, form: 'typed' as const };
    offset += size;
    return spec;
  });
  return { tensors, size: offset };
}

describe('stepStatistics', () => {
  it('sums squares of parameters, update and gradient and effective-rate ranges per tensor, and Σv² over all, by hand', () => {
    const layout = layoutOf({ W: 2, b: 1 });
    const before = Float64Array.of(1, -2, 3);
    const after = Float64Array.of(0.5, -1, 3.5);
    const grad = Float64Array.of(2, 0, -1);
    const effective = Float64Array.of(0.1, 0.3, 0.2);
    const velocity = Float64Array.of(1, 2, -2);
    const statistics = stepStatistics(layout, before, after, grad, effective, velocity);
    assert.deepEqual(statistics.before, [1 + 4, 9]);
    assert.deepEqual(statistics.update, [0.25 + 1, 0.25]);
    assert.deepEqual(statistics.grad, [4, 1]);
    assert.deepEqual(statistics.effectiveRange, [[0.1, 0.3], [0.2, 0.2]]);
    assert.equal(statistics.velocity, 1 + 4 + 4);
    const plain = stepStatistics(layout, before, after, grad, null, null);
    assert.deepEqual([plain.effectiveRange, plain.velocity], [[], null]);
  });
});

/** f = Σ aᵢxᵢ²/2 + bᵢxᵢ, with its exact Hessian-vector product (Newton and L-BFGS evaluate it). */
function quadratic(size: number): Closure & { gradient(x: Float64Array): Float64Array } {
  const a = Float64Array.from({ length: size }, (_, i) => 1 + (i % 7) / 2);
  const b = Float64Array.from({ length: size }, (_, i) => Math.cos(i));
  const gradient = (x: Float64Array) => x.map((value, i) => a[i] * value + b[i]);
  return {
    gradient,
    evaluate: async (x) => ({ loss: x.reduce((sum, value, i) => sum + (a[i] * value * value) / 2 + b[i] * value, 0), grad: gradient(x) }),
    hessianVectorProduct: async (_x, vector) => vector.map((value, i) => a[i] * value),
  };
}

interface RuleCase {
  name: string;
  hyper: Hyperparameters;
  /** The rule's momentum buffer or first moment, which the record's velocity norm measures. */
  velocity: (state: never) => Float64Array | null;
}

describe('the statistics of every rule', () => {
  const none = () => null;
  const buffer = (state: { buffer: Float64Array | null }) => state.buffer;
  const expAvg = (state: { expAvg: Float64Array }) => state.expAvg;
  const cases: RuleCase[] = [
    { name: 'sgd', hyper: { lr: 0.05 }, velocity: none },
    { name: 'momentum', hyper: { lr: 0.05, weight_decay: 0.1 }, velocity: buffer },
    { name: 'nesterov', hyper: { lr: 0.05, maximize: true }, velocity: buffer },
    { name: 'sgd', hyper: { lr: 0.05, momentum: 0.9, lookahead: true }, velocity: buffer },
    { name: 'adagrad', hyper: { lr: 0.1, lr_decay: 0.01 }, velocity: none },
    { name: 'rmsprop', hyper: { lr: 0.01 }, velocity: none },
    { name: 'rmsprop', hyper: { lr: 0.01, momentum: 0.9, centered: true }, velocity: buffer },
    { name: 'adadelta', hyper: { weight_decay: 0.01 }, velocity: none },
    { name: 'adam', hyper: { lr: 0.01 }, velocity: expAvg },
    { name: 'adam', hyper: { lr: 0.01, amsgrad: true, weight_decay: 0.1 }, velocity: expAvg },
    { name: 'adamw', hyper: { lr: 0.01 }, velocity: expAvg },
    { name: 'adamax', hyper: { lr: 0.01 }, velocity: expAvg },
    { name: 'nadam', hyper: { lr: 0.01, decoupled_weight_decay: true, weight_decay: 0.1 }, velocity: expAvg },
    // Unrectified for its first five steps, rectified after.
    { name: 'radam', hyper: { lr: 0.01 }, velocity: expAvg },
    { name: 'lbfgs', hyper: {}, velocity: none },
    { name: 'newton', hyper: { damping: 0.1 }, velocity: none },
  ];
  for (const { name, hyper: given, velocity } of cases) {
    it(`${name} ${JSON.stringify(given)}: the statistics of every step equal a plain recomputation, bit for bit`, async () => {
      // Several tensors, an empty one and a scalar among them (Newton forms the Hessian: small).
      const layout = layoutOf({ W: 12, empty: 0, b: 1, c: 7 });
      const choice = findOptimizer(name)!;
      const hyper = resolveHyperparameters(choice, given);
      const objective = quadratic(layout.size);
      const params = Float64Array.from({ length: layout.size }, (_, i) => Math.sin(0.37 * i) * 2);
      const before = new Float64Array(layout.size);
      const effective = choice.optimizer.adaptive ? new Float64Array(layout.size) : null;
      const state = choice.optimizer.init(layout.size, hyper);
      const squares = (vector: Float64Array, start = 0, end = vector.length) => {
        let sum = 0;
        for (let i = start; i < end; i++) sum += vector[i] * vector[i];
        return sum;
      };
      for (let step = 1; step <= 8; step++) {
        before.set(params);
        const grad = objective.gradient(params);
        await choice.optimizer.step({ params, grad, loss: 0, lr: hyper.lr as number, hyper, closure: objective, effectiveLearningRate: effective }, state);
        // As train() calls it.
        const statistics = stepStatistics(layout, before, params, grad, effective, choice.optimizer.velocity?.(state) ?? null);
        const update = params.map((value, i) => value - before[i]);
        const expectedVelocity = velocity(state as never);
        assert.deepEqual(statistics, {
          before: layout.tensors.map((spec) => squares(before, spec.offset, spec.offset + spec.size)),
          update: layout.tensors.map((spec) => squares(update, spec.offset, spec.offset + spec.size)),
          grad: layout.tensors.map((spec) => squares(grad, spec.offset, spec.offset + spec.size)),
          effectiveRange: effective
            ? layout.tensors.map((spec): [number, number] => {
              const rates = Array.from(effective.subarray(spec.offset, spec.offset + spec.size));
              return [Math.min(...rates), Math.max(...rates)];
            })
            : [],
          velocity: expectedVelocity ? squares(expectedVelocity) : null,
        }, `step ${step}`);
      }
    });
  }
});
