/**
 * The dashboard's **All records** export: the host writes every record of a run as CSV from its copy on
 * disk (src/extension/record-log.ts). Where the page's own table still holds every record, that file is
 * the page's CSV export byte for byte; beyond, the page folds records and the host's file still has each.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TABLE_CAPACITY } from '../../src/dashboard-table';
import { RecordLogs } from '../../src/extension/record-log';
import type { RecordsBatch, RunStarted, StepRecord } from '../../src/webview-protocol';
import { telemetryCsv } from '../../webview/export';
import { RunModel } from '../../webview/model/run';

// A tensor name with a comma: the header quotes it.
const STARTED: RunStarted = {
  type: 'runStarted', runId: 'r', problem: 'p', optimizer: 'adam', hyperparameters: {}, tensors: [{ name: 'w', shape: [2] }, { name: 'x,y', shape: [1] }],
  twoDimensional: false, start: null, adaptive: true, detailTensor: null, steps: 0, compareGroup: null,
};

/** Numbers that are functions of the step (some missing), so each row of the file can be checked on its own. */
function record(step: number): StepRecord {
  const rate = (scale: number) => ({ min: scale * step, q25: scale * step * 2, median: scale * step * 3, q75: scale * step * 4, max: scale * step * 5, histogram: { edges: [scale * step, scale * step * 5], counts: [1], sampled: 1 } });
  return {
    step, epoch: 0, lr: 0.01, loss: Math.sin(step) + 1 / step, fullLoss: step % 3 === 0 ? step / 7 : null, gradNorm: step * 2.5, updateNorm: 1 / step, updateRatio: 1e-3 * step,
    updateRatioByTensor: { w: step % 11, 'x,y': -step }, velocityNorm: null,
    effectiveLr: step % 2 === 0 ? rate(1e-4) : null, effectiveLrByTensor: step % 2 === 0 ? { w: rate(1e-5), 'x,y': rate(1e-6) } : null,
    effectiveLrDetail: null, gradDetail: null, accumulatorDetail: null, evaluations: 0, stepSize: null, warning: null, params: null,
  };
}

function batches(count: number): RecordsBatch[] {
  const out: RecordsBatch[] = [];
  for (let from = 1; from <= count; from += 250) {
    const records = Array.from({ length: Math.min(250, count - from + 1) }, (_, k) => record(from + k));
    out.push({ type: 'records', runId: 'r', records, seconds: records.map((entry) => entry.step / 1000) });
  }
  return out;
}

/** The fields of one CSV line (quoted fields may hold commas; doubled quotes are one). */
function fields(line: string): string[] {
  const out: string[] = [];
  const pattern = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
  for (let match = pattern.exec(line); match && match.index < line.length + 1; match = pattern.exec(line)) {
    const field = match[1];
    out.push(field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field);
    if (match[2] === '') break;
  }
  return out;
}

async function hostCsv(count: number): Promise<string> {
  const logs = new RecordLogs(2);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-export-')), 'records.csv');
  try {
    logs.observe(STARTED);
    for (const message of batches(count)) logs.observe(message);
    assert.equal(await logs.writeCsv('r', file), count);
    return fs.readFileSync(file, 'utf8');
  } finally {
    logs.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

describe('All records: every record of a run, written by the host', () => {
  it('is the page\'s own CSV export where the page keeps every record', async () => {
    const count = TABLE_CAPACITY - 96;
    const run = new RunModel(STARTED);
    for (const message of batches(count)) run.ingest(message);
    const page = telemetryCsv(run);
    assert.equal(await hostCsv(count), page);
    assert.match(page.split('\n')[0], /^step,seconds,loss,fullLoss,gradNorm,updateNorm,updateRatio,lr,ratio:w,"ratio:x,y",rate:\*:min,/);
  });

  it('has each record beyond what the page keeps, with its own numbers, and empty fields where a record has none', async () => {
    const count = 3 * TABLE_CAPACITY + 17;
    const run = new RunModel(STARTED);
    for (const message of batches(count)) run.ingest(message);
    // The page's export folds records into entries of several records: it has fewer rows.
    assert.ok(telemetryCsv(run).trim().split('\n').length - 1 < count / 2);

    const lines = (await hostCsv(count)).trim().split('\n');
    assert.equal(lines.length, 1 + count);
    const header = fields(lines[0]);
    assert.ok(header.includes('rate:x,y:max'), 'a scope name with a comma is one quoted field');
    const at = (row: string[], name: string) => {
      assert.ok(header.includes(name), name);
      return row[header.indexOf(name)];
    };
    for (const step of [1, 2, 3, 4096, 4097, 8191, count]) {
      const row = fields(lines[step]);
      assert.equal(row.length, header.length);
      assert.equal(Number(at(row, 'step')), step);
      assert.equal(Number(at(row, 'seconds')), step / 1000);
      assert.equal(Number(at(row, 'loss')), Math.sin(step) + 1 / step);
      assert.equal(at(row, 'fullLoss'), step % 3 === 0 ? String(step / 7) : '');
      assert.equal(Number(at(row, 'ratio:x,y')), -step);
      assert.equal(at(row, 'rate:*:median'), step % 2 === 0 ? String(1e-4 * step * 3) : '');
      assert.equal(at(row, 'rate:x,y:max'), step % 2 === 0 ? String(1e-6 * step * 5) : '');
    }
  });

  it('refuses a run it no longer keeps, by name, and one dropped while its records are written', async () => {
    const logs = new RecordLogs(1);
    logs.observe(STARTED);
    for (const message of batches(3 * TABLE_CAPACITY)) logs.observe(message);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-export-'));
    try {
      const writing = logs.writeCsv('r', path.join(folder, 'dropped.csv'));
      // A newer run pushes it out of the dashboard's retention before its first block is written.
      logs.observe({ ...STARTED, runId: 'newer' });
      await assert.rejects(writing, /the run was dropped from the dashboard while its records were written/);
      assert.equal(fs.existsSync(path.join(folder, 'dropped.csv')), false, 'no half-written file');
      assert.throws(() => logs.writeCsv('r', path.join(folder, 'never.csv')), /the records of r are no longer kept \(the 1 latest runs are\)/);
    } finally {
      logs.dispose();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
