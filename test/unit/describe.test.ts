import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkProblem } from '../../src/core/gradcheck';
import { classifyExport } from '../../src/core/problem';
import { errorReport, limitError } from '../../src/core/errors';
import type { ProblemReport } from '../../src/runner/runner';
import { errorSentence, lastVerdictOf, problemMessage, verdictTitle, worstLines } from '../../src/extension/describe';

// f(W) = Σ W_ij², grad 2W, with a sign error in W[1,0].
const W = [[1, 2], [3, 4]];
const buggy = {
  params: { W },
  f: ({ W }: { W: number[][] }) => W.flat().reduce((sum, value) => sum + value * value, 0),
  grad: ({ W }: { W: number[][] }) => ({ W: W.map((row, i) => row.map((value, j) => (i === 1 && j === 0 ? -2 : 2) * value)) }),
};

async function report(name: string, value: object): Promise<ProblemReport> {
  const definition = classifyExport(name, value);
  assert.ok(definition);
  return { ...(await checkProblem(definition, {})), file: 'model.grad.ts', line: 3 };
}

describe('result texts (CodeLens, diagnostics, status bar)', () => {
  it('name the wrong element and its numbers', async () => {
    const failed = await report('squares', buggy);
    assert.equal(failed.verdict, 'fail');
    // analytic −6, numeric 6: relative error |−6 − 6| / 6 = 2.
    assert.equal(verdictTitle(failed), '✗ W[1,0] rel 2');
    assert.match(problemMessage(failed), /^squares: gradient wrong at W\[1,0\]: analytic -6, numeric 6(\.\d+)? \(abs 12(\.\d+)?, rel 2(\.\d+)?\); 1 of 4 checked elements fail \(W 1\/4 wrong\)$/);
    assert.equal(worstLines(failed).length, 1);
    assert.deepEqual(lastVerdictOf([{ file: 'model.grad.ts', loadError: null, discovered: null, problems: [failed], cancelled: false, exchanges: 0 }]).text, 'squares W[1,0]');
  });

  it('report a pass with its largest relative error', async () => {
    const passed = await report('squares', { ...buggy, grad: ({ W }: { W: number[][] }) => ({ W: W.map((row) => row.map((value) => 2 * value)) }) });
    assert.equal(passed.verdict, 'pass');
    assert.match(verdictTitle(passed), /^✓ max rel err \d/);
    const status = lastVerdictOf([{ file: 'model.grad.ts', loadError: null, discovered: null, problems: [passed], cancelled: false, exchanges: 0 }]);
    assert.equal(status.ok, true);
    const loadError = errorReport('Unexpected ","', 'user', 'load', { location: { file: '/w/x.grad.ts', line: 1, column: 1 } });
    const notLoaded = lastVerdictOf([{ file: '/w/x.grad.ts', loadError, discovered: null, problems: [], cancelled: false, exchanges: 0 }]);
    assert.deepEqual([notLoaded.text, notLoaded.tooltip], ['file not loaded', 'Unexpected ","']);
  });

  it('name settings in the words of VS Code, not as CLI flags', () => {
    const hang = limitError('timeout', 60, ' while checking f, in f', 'check', { file: '/w/x.grad.ts', line: 4, column: 3 });
    assert.equal(errorSentence(hang), 'timed out after 60 s (setting gradlens.timeoutSeconds) while checking f, in f');
    const memory = limitError('memory', 512, ' while checking f', 'check');
    assert.equal(errorSentence(memory), 'ran out of memory at 512 MB (setting gradlens.memoryLimitMb) while checking f');
  });
});
