import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PROBLEM_TEMPLATES } from '../../src/extension/templates';
import { DEFAULT_LIMITS, checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY, WITHOUT_TORCH } from './python-env';

const BUGS: Record<string, [string, string, string]> = {
  scalar: ['return { W: r.map((ri) => x.map((xj) => ri * xj)), b: r };', 'return { W: r.map((ri) => x.map((xj) => ri * xj)), b: r.map((ri) => 2 * ri) };', 'b'],
  layer: ['W: d.map((di) => inputs.x.map((xj) => di * xj)),', 'W: d.map((di) => inputs.x.map((xj) => 2 * di * xj)),', 'W'],
  minibatch: ['      b += scale;', '      b += 2 * scale;', 'b'],
  python: ['"b1": dhidden.sum(axis=0),', '"b1": 2 * dhidden.sum(axis=0),', 'b1'],
  torch: ['grad_x = grad_out * (s + w * x * ds)', 'grad_x = grad_out * (s + x * ds)', 'x'],
  'layer-pair': ['dw = x.T @ da', 'dw = 2 * x.T @ da', 'w'],
  'loss-with-gradient': ['dW = X.T @ dscores / N + 2 * reg * W', 'dW = X.T @ dscores / N + reg * W', 'W'],
  'model-with-params': ['"b1": dhidden.sum(axis=0),', '"b1": 2 * dhidden.sum(axis=0),', 'b1'],
};
const check = (file: string, options = {}) => checkFile(file, options, DEFAULT_LIMITS, {}, null, PYTHON);

describe('New Problem File templates', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-templates-'));

  for (const template of PROBLEM_TEMPLATES) {
    const skip = template.id === 'torch' ? WITHOUT_TORCH : template.language === 'python' ? WITHOUT_NUMPY : false;
    it(`${template.id}: compiles and passes its own checks, first and second order`, { skip }, async () => {
      const file = path.join(folder, template.fileName);
      fs.writeFileSync(file, template.source);
      const first = await check(file);
      assert.equal(first.loadError, null);
      assert.equal(first.problems.length, 1);
      assert.equal(first.problems[0].verdict, 'pass', JSON.stringify(first.problems[0].worst[0]));
      assert.ok(first.problems[0].checked > 0);
      if (template.id === 'scalar' || template.id === 'torch') {
        const second = await check(file, { order: 2 });
        assert.equal(second.problems[0].verdict, 'pass');
      }
      // The check is not vacuous: the same file with one gradient term doubled fails, naming that tensor.
      const [from, to, tensor] = BUGS[template.id];
      assert.ok(template.source.includes(from));
      fs.writeFileSync(file, template.source.replace(from, to));
      const buggy = await check(file);
      assert.equal(buggy.problems[0].verdict, 'fail');
      assert.equal(buggy.problems[0].worst[0].param, tensor);
    });
  }
});
