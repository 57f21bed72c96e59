import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricTable } from '../../webview/model/metric-table';
import { columnSeries, decimateEnvelope, decimateMinMax } from '../../webview/model/decimate';

/** A table of `records` records of y = f(step), merged as the dashboard merges long runs. */
function table(records: number, f: (step: number) => number, capacity = 4096): MetricTable {
  const result = new MetricTable(['y'], capacity);
  for (let step = 1; step <= records; step++) result.append(step, step / 100, [f(step)]);
  return result;
}

describe('decimation of a zoomed range', () => {
  it('spends its buckets on the range shown, with one neighbour on each side', () => {
    const series = columnSeries(table(1000, (step) => step), 'y', 'step');
    const whole = decimateMinMax(series, 50, []);
    const zoomed = decimateMinMax(series, 50, [], { min: 400, max: 500 });
    const inside = zoomed.filter((point) => point.x >= 400 && point.x <= 500);
    assert.ok(whole.filter((point) => point.x >= 400 && point.x <= 500).length <= 12, 'unzoomed: a tenth of the buckets fall in the range');
    assert.ok(inside.length >= 80, `${inside.length} points in the range`);
    assert.equal(zoomed.length - inside.length, 2, 'the neighbours outside, so lines reach the edges');
    assert.deepEqual([zoomed[0].x, zoomed.at(-1)!.x], [399, 501]);
    // Fewer entries than buckets: every one of them.
    assert.deepEqual(decimateMinMax(series, 500, [], { min: 400, max: 420 }).map((point) => point.x), Array.from({ length: 23 }, (_, k) => 399 + k));
  });

  it('keeps the extremes of the range, from merged entries too', () => {
    const spike = (step: number) => (step === 70_123 ? 9 : step === 70_456 ? -9 : Math.sin(step));
    const merged = table(200_000, spike);
    assert.ok(merged.span > 1);
    const series = columnSeries(merged, 'y', 'step');
    const points = decimateMinMax(series, 100, [], { min: 70_000, max: 71_000 });
    const ys = points.filter((point) => point.x >= 70_000 && point.x <= 71_000).map((point) => point.y);
    assert.deepEqual([Math.min(...ys), Math.max(...ys)], [-9, 9]);
    // A range away from both spikes does not show them.
    const elsewhere = decimateMinMax(series, 100, [], { min: 150_000, max: 151_000 }).map((point) => point.y);
    assert.ok(Math.max(...elsewhere) <= 1 && Math.min(...elsewhere) >= -1);
  });

  it('aligns envelope buckets on the range (quantile bands)', () => {
    const series = columnSeries(table(1000, (step) => step % 10), 'y', 'step');
    const low = decimateEnvelope(series, 20, 'min', [], { min: 100, max: 300 });
    const high = decimateEnvelope(series, 20, 'max', [], { min: 100, max: 300 });
    assert.deepEqual(low.map((point) => point.x), high.map((point) => point.x));
    assert.ok(low.filter((point) => point.x >= 100 && point.x <= 300).length >= 20);
    assert.equal(decimateMinMax(series, 20, [], { min: 5000, max: 6000 }).length, 1, 'past the end: the last entry, as the line\'s neighbour');
  });
});
