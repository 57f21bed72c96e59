/** The dashboard protocol's validators: every field of every webview message is checked. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProblemReport } from '../../src/runner/runner';
import { optimizerNames } from '../../src/core/optim';
import { type CheckedProblem, LIMITS, OPTIMIZER_NAMES, type WebviewToHost, parseWebviewMessage } from '../../src/webview-protocol';
import { dashboardHtml } from '../../src/extension/dashboard/html';

/** One valid message of every kind. */
const VALID: WebviewToHost[] = [
  { type: 'ready' },
  { type: 'control', requestId: 1, runId: 'run-1', action: 'pause' },
  { type: 'control', requestId: 2, runId: 'run-1', action: 'restart' },
  { type: 'setHyperparameters', requestId: 3, runId: 'run-1', values: { lr: 0.01, nesterov: true, betas: [0.9, 0.999], schedule: 'cosine', dampening: null } },
  { type: 'restartFrom', requestId: 4, runId: 'run-1', start: [-1.5, 2] },
  { type: 'reveal', requestId: 5, file: 'examples/two-layer-mlp.grad.ts', line: 12 },
  { type: 'reveal', requestId: 6, file: 'a.grad.ts', line: null },
  { type: 'saveExport', requestId: 7, fileName: 'gradlens-adam-rosenbrock.csv', content: { kind: 'text', text: 'step,loss\n1,2\n' } },
  { type: 'saveExport', requestId: 8, fileName: 'loss.png', content: { kind: 'png', base64: 'iVBORw0KGgo=' } },
  { type: 'requestEffectiveLr', requestId: 9, runId: 'run-1', tensor: 'W1' },
  { type: 'runWith', requestId: 10, runId: 'run-1', optimizer: 'nesterov', schedule: 'step:step_size=1,gamma=0.9' },
  { type: 'runWith', requestId: 11, runId: 'run-1', optimizer: 'adam', schedule: null },
  { type: 'received', sequence: 1 },
  { type: 'requestRecords', requestId: 12, runId: 'run-1', fromStep: 500_000, toStep: 500_100 },
  { type: 'requestRecords', requestId: 13, runId: 'run-1', fromStep: 7, toStep: 7 },
  { type: 'exportRecords', requestId: 14, runId: 'run-1', fileName: 'gradlens-adam-rosenbrock-records.csv' },
];

/** Deep copy with one field replaced (or removed with `undefined` and remove = true). */
function altered(message: object, key: string, value: unknown, remove = false): unknown {
  const copy = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
  if (remove) delete copy[key];
  else copy[key] = value;
  return copy;
}

describe('parseWebviewMessage', () => {
  it('accepts every kind of valid message and returns an equal, fresh object', () => {
    for (const message of VALID) {
      const parsed = parseWebviewMessage(JSON.parse(JSON.stringify(message)));
      assert.deepEqual(parsed, message);
      assert.notEqual(parsed, message);
    }
  });

  it('rejects anything that is not a plain object with a known type', () => {
    for (const value of [null, undefined, 42, 'ready', [], [{ type: 'ready' }], { type: 'unknown' }, { type: 42 }, {}]) {
      assert.equal(parseWebviewMessage(value), null, JSON.stringify(value));
    }
    class Ready {
      type = 'ready';
    }
    assert.equal(parseWebviewMessage(new Ready()), null, 'a class instance is not a plain message');
  });

  it('rejects missing and extra fields', () => {
    for (const message of VALID) {
      assert.equal(parseWebviewMessage({ ...message, extra: 1 }), null, `${message.type} with an extra field`);
      for (const key of Object.keys(message).filter((key) => key !== 'type')) {
        assert.equal(parseWebviewMessage(altered(message, key, undefined, true)), null, `${message.type} without ${key}`);
      }
    }
  });

  it('checks request ids', () => {
    const control = VALID[1];
    for (const requestId of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2, '1', null]) {
      assert.equal(parseWebviewMessage(altered(control, 'requestId', requestId)), null, `requestId ${String(requestId)}`);
      assert.equal(parseWebviewMessage(altered(VALID.at(-1)!, 'sequence', requestId)), null, `received sequence ${String(requestId)}`);
    }
  });

  it('offers exactly the optimizers of the registry, and nothing else in runWith', () => {
    assert.deepEqual([...OPTIMIZER_NAMES], optimizerNames());
    const runWith = VALID.find((message) => message.type === 'runWith')!;
    for (const optimizer of ['adamm', '', 42, null]) assert.equal(parseWebviewMessage(altered(runWith, 'optimizer', optimizer)), null, `optimizer ${String(optimizer)}`);
    for (const schedule of ['', 'x'.repeat(LIMITS.idLength + 1), 3]) assert.equal(parseWebviewMessage(altered(runWith, 'schedule', schedule)), null, `schedule ${String(schedule)}`);
  });

  it('takes record ranges of whole, non-negative steps in order only', () => {
    const request = VALID.find((message) => message.type === 'requestRecords')!;
    for (const [fromStep, toStep] of [[-1, 5], [5, 4], [1.5, 3], [0, Number.POSITIVE_INFINITY], ['0', 3], [0, null]]) {
      assert.equal(parseWebviewMessage({ ...request, fromStep, toStep }), null, `steps ${String(fromStep)}–${String(toStep)}`);
    }
  });

  it('checks run ids, actions and points', () => {
    const control = VALID[1];
    assert.equal(parseWebviewMessage(altered(control, 'runId', '')), null);
    assert.equal(parseWebviewMessage(altered(control, 'runId', 'x'.repeat(LIMITS.idLength + 1))), null);
    assert.equal(parseWebviewMessage(altered(control, 'runId', 'a\0b')), null);
    assert.equal(parseWebviewMessage(altered(control, 'action', 'explode')), null);
    const restart = VALID[4];
    for (const start of [[1], [1, 2, 3], [1, Number.POSITIVE_INFINITY], [1, '2'], 'here', null]) {
      assert.equal(parseWebviewMessage(altered(restart, 'start', start)), null, `start ${JSON.stringify(start)}`);
    }
  });

  it('checks hyper-parameter names and values', () => {
    const set = VALID[3];
    for (const values of [
      {},
      { 'lr; rm -rf': 1 },
      { __proto__x: 1, '1lr': 2 },
      { lr: Number.NaN },
      { lr: { nested: 1 } },
      { betas: [] },
      { betas: [0.9, 'x'] },
      { betas: new Array(LIMITS.hyperValueLength + 1).fill(0.5) },
      Object.fromEntries(Array.from({ length: LIMITS.hyperparameters + 1 }, (_, i) => [`p${i}`, 1])),
      [1, 2],
      null,
    ]) {
      assert.equal(parseWebviewMessage(altered(set, 'values', values)), null, `values ${JSON.stringify(values)}`);
    }
  });

  it('checks reveal lines and files', () => {
    const reveal = VALID[5];
    for (const line of [0, -3, 2.5, LIMITS.line + 1, '12']) assert.equal(parseWebviewMessage(altered(reveal, 'line', line)), null, `line ${line}`);
    assert.equal(parseWebviewMessage(altered(reveal, 'file', '')), null);
    assert.equal(parseWebviewMessage(altered(reveal, 'file', 7)), null);
  });

  it('checks export file names against their content, and the content', () => {
    const csv = VALID[7];
    const png = VALID[8];
    for (const fileName of ['../escape.csv', 'dir/x.csv', 'C:x.csv', '.hidden.csv', 'x.exe', 'x.png', '', 'x'.repeat(LIMITS.fileNameLength) + '.csv']) {
      assert.equal(parseWebviewMessage(altered(csv, 'fileName', fileName)), null, `text export named ${fileName}`);
    }
    assert.equal(parseWebviewMessage(altered(png, 'fileName', 'loss.csv')), null, 'a PNG must be named .png');
    for (const content of [{ kind: 'png', base64: 'not base64!' }, { kind: 'png', base64: 'abc' }, { kind: 'png', base64: '' }, { kind: 'png', text: 'x' }, { kind: 'zip', text: 'x' }]) {
      assert.equal(parseWebviewMessage(altered(png, 'content', content)), null, `content ${JSON.stringify(content)}`);
    }
    assert.equal(parseWebviewMessage(altered(csv, 'content', { kind: 'text', text: 5 })), null);
  });

  it('takes every record of a run only as a plain CSV file name', () => {
    const request = VALID.find((message) => message.type === 'exportRecords')!;
    for (const fileName of ['records.json', 'records.png', '../records.csv', 'dir/records.csv', '.records.csv', '', 7]) {
      assert.equal(parseWebviewMessage(altered(request, 'fileName', fileName)), null, `every record named ${String(fileName)}`);
    }
    assert.equal(parseWebviewMessage(altered(request, 'runId', '')), null);
    assert.equal(parseWebviewMessage(altered(request, 'requestId', 0)), null);
  });

  it('declares CheckedProblem with exactly the runner’s ProblemReport fields, the error as text', () => {
    // Compile-time checks: each type is assignable to the other once the error is text on both sides.
    const report = {} as Omit<ProblemReport, 'error'> & { error: string | null };
    const problem: CheckedProblem = report;
    const back: Omit<ProblemReport, 'error'> & { error: string | null } = problem;
    assert.equal(back, report);
  });
});

describe('the dashboard page', () => {
  it('asks for the test probe only when the extension runs its tests', () => {
    const page = { cspSource: 'vscode-resource:', scriptUri: 'dashboard.js', styleUri: 'dashboard.css', nonce: 'abc', title: 'GradLens Dashboard' };
    assert.doesNotMatch(dashboardHtml({ ...page, testProbe: false }), /data-test-probe/);
    assert.match(dashboardHtml({ ...page, testProbe: true }), /<body data-test-probe>/);
  });
});
