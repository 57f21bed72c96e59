import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RecordLogs } from '../../src/extension/record-log';
import { runColumns } from '../../src/dashboard-table';
import { RECORD_RANGE_LIMIT, type RecordsBatch, type RunStarted, type StepRecord } from '../../src/webview-protocol';

function started(runId: string, adaptive = false): RunStarted {
  return {
    type: 'runStarted', runId, problem: 'p', optimizer: adaptive ? 'adam' : 'sgd', hyperparameters: {}, tensors: [{ name: 'w', shape: [2] }, { name: 'b', shape: [1] }],
    twoDimensional: false, start: null, adaptive, detailTensor: null, steps: 0, compareGroup: null,
  };
}

/** A record whose numbers are functions of its step, so a range's answer can be checked without the log. */
function record(step: number): StepRecord {
  return {
    step, epoch: 0, lr: 0.1, loss: Math.sin(step) + step * 1e-6, fullLoss: step % 3 === 0 ? step : null, gradNorm: step * 2, updateNorm: 1 / step, updateRatio: 0.5,
    updateRatioByTensor: { w: step % 7, b: -step }, velocityNorm: null, effectiveLr: null, effectiveLrByTensor: null, effectiveLrDetail: null,
    gradDetail: null, accumulatorDetail: null, evaluations: 0, stepSize: null, warning: null, params: null,
  };
}

function batch(runId: string, from: number, to: number, every = 1): RecordsBatch {
  const records: StepRecord[] = [];
  for (let step = from; step <= to; step += every) records.push(record(step));
  return { type: 'records', runId, records, seconds: records.map((entry) => entry.step / 1000) };
}

const tempEntries = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('gradlens-records-')).length;

describe('record logs (the dashboard\'s zoomed charts)', () => {
  it('answers a range with every record in it, as the chart columns', () => {
    const logs = new RecordLogs(4);
    logs.observe(started('r1'));
    for (let from = 1; from <= 600_000; from += 5000) logs.observe(batch('r1', from, from + 4999));
    const body = logs.range('r1', 500_000, 500_100);
    assert.deepEqual(body.steps, Array.from({ length: 101 }, (_, k) => 500_000 + k));
    assert.deepEqual(body.seconds, body.steps.map((step) => step / 1000));
    const columns = runColumns(started('r1'));
    assert.deepEqual(body.columns, columns.map(([name]) => name));
    const loss = body.values[body.columns.indexOf('loss')];
    assert.deepEqual(loss, body.steps.map((step) => Math.sin(step) + step * 1e-6));
    // NaN (no full loss that step) travels as null.
    assert.deepEqual(body.values[body.columns.indexOf('fullLoss')], body.steps.map((step) => (step % 3 === 0 ? step : null)));
    assert.deepEqual(body.values[body.columns.indexOf('ratio:b')], body.steps.map((step) => -step));
    // The ends of the run and the records still buffered (not yet written) are found too.
    assert.deepEqual(logs.range('r1', 0, 3).steps, [1, 2, 3]);
    logs.observe(batch('r1', 600_001, 600_010));
    assert.deepEqual(logs.range('r1', 600_008, 700_000).steps, [600_008, 600_009, 600_010]);
    assert.deepEqual(logs.range('r1', 700_000, 800_000).steps, []);
    logs.dispose();
  });

  it('finds thinned records by step, ignores replays, and refuses ranges too large to send', () => {
    const logs = new RecordLogs(4);
    logs.observe(started('thin', true));
    logs.observe(batch('thin', 10, 400_000, 10));
    logs.observe(batch('thin', 10, 500, 10)); // a replay after a reload: already there
    assert.deepEqual(logs.range('thin', 95, 135).steps, [100, 110, 120, 130]);
    assert.equal(logs.range('thin', 0, 10 * RECORD_RANGE_LIMIT).steps.length, RECORD_RANGE_LIMIT);
    assert.throws(() => logs.range('thin', 0, 10 * RECORD_RANGE_LIMIT + 10), new RegExp(`hold ${RECORD_RANGE_LIMIT + 1} records, more than ${RECORD_RANGE_LIMIT}`));
    assert.ok(runColumns(started('thin', true)).length > runColumns(started('thin')).length, 'adaptive runs carry rate quantiles');
    logs.dispose();
  });

  it('keeps the latest runs only and leaves no file behind', () => {
    const before = tempEntries();
    const logs = new RecordLogs(2);
    for (const runId of ['a', 'b', 'c']) {
      logs.observe(started(runId));
      logs.observe(batch(runId, 1, 3000));
    }
    assert.throws(() => logs.range('a', 1, 2), /records of a are no longer kept \(the 2 latest runs are\)/);
    assert.deepEqual(logs.range('c', 1, 2).steps, [1, 2]);
    assert.equal(tempEntries(), before + 1);
    const directory = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('gradlens-records-')).map((name) => path.join(os.tmpdir(), name)).find((dir) => fs.readdirSync(dir).length === 2);
    assert.ok(directory, 'a file per kept run');
    logs.dispose();
    assert.equal(tempEntries(), before);
  });
});
