import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Layout } from '../../src/core/tensor';
import { SAMPLE_LIMIT, stepStatistics, summarize } from '../../src/core/optim/telemetry';

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
});

describe('stepStatistics', () => {
  it('sums squares of parameters, update and gradient and effective-rate ranges per tensor, by hand', () => {
    const layout: Layout = { size: 3, tensors: [{ name: 'W', shape: [2], offset: 0, size: 2, form: 'typed' }, { name: 'b', shape: [1], offset: 2, size: 1, form: 'typed' }] };
    const before = Float64Array.of(1, -2, 3);
    const after = Float64Array.of(0.5, -1, 3.5);
    const grad = Float64Array.of(2, 0, -1);
    const effective = Float64Array.of(0.1, 0.3, 0.2);
    const statistics = stepStatistics(layout, before, after, grad, effective);
    assert.deepEqual(statistics.before, [1 + 4, 9]);
    assert.deepEqual(statistics.update, [0.25 + 1, 0.25]);
    assert.deepEqual(statistics.grad, [4, 1]);
    assert.deepEqual(statistics.effectiveRange, [[0.1, 0.3], [0.2, 0.2]]);
    assert.deepEqual(stepStatistics(layout, before, after, grad, null).effectiveRange, []);
  });
});
