import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { listExports, locateExport, problemCandidates, pythonProblemCandidates } from '../../src/core/exports';
import { type ErrorReport, InputError, errorReport, limitError, reportFailure, withSetting } from '../../src/core/errors';
import { CLI_SETTINGS, displayPath, errorMessage, errorText } from '../../src/report/errors';

const fixtures = path.resolve(__dirname, '../../../test/fixtures');

describe('listExports (static, no code runs)', () => {
  it('finds declarations, export lists with renames, CommonJS assignments and defaults, each once', () => {
    const source = [
      'import { x } from "./y";',
      'export const quadratic = { params: {}, f, grad };',
      'export function helper() {}',
      'const inner = 1, other = 2;',
      'export { inner, other as renamed };',
      'exports.cjs = {};',
      'module.exports.cjs = {};',
      'export default { params: {} };',
      "export { fromElsewhere } from './z';",
    ].join('\n');
    assert.deepEqual(listExports(source), [
      { name: 'quadratic', line: 2 },
      { name: 'helper', line: 3 },
      { name: 'inner', line: 5 },
      { name: 'renamed', line: 5 },
      { name: 'cjs', line: 6 },
      { name: 'default', line: 8 },
    ]);
    assert.deepEqual(listExports('module.exports = { a, b: makeB() };'), [{ name: 'a', line: 1 }, { name: 'b', line: 1 }]);
  });

  it('points at a line that names the export, in every test fixture, and locateExport agrees', () => {
    let count = 0;
    for (const file of fs.readdirSync(fixtures).filter((name) => /\.grad\.[cm]?[jt]s$/.test(name))) {
      const source = fs.readFileSync(path.join(fixtures, file), 'utf8');
      const lines = source.split('\n');
      for (const site of listExports(source)) {
        count++;
        const text = lines[site.line - 1];
        assert.ok(site.name === 'default' ? /export default|module\.exports/.test(text) : text.includes(site.name), `${file}:${site.line} does not name ${site.name}`);
        assert.equal(locateExport(source, site.name), site.line, `${file}: ${site.name}`);
      }
    }
    assert.ok(count > 20, `only ${count} exports found in the fixtures`);
  });
});

describe('error text at the edges', () => {
  const show = (file: string) => displayPath(file, '/w');
  const cli = (error: ErrorReport) => errorText(error, CLI_SETTINGS, show);

  it('puts the place after a check error and before a load error, relative inside the folder', () => {
    const thrown = errorReport('f threw RangeError: bad with x[1] + 0.000001', 'user', 'check', { location: { file: '/w/test/a.grad.ts', line: 13, column: 27 }, element: 'x[1]' });
    assert.equal(cli(thrown), 'f threw RangeError: bad with x[1] + 0.000001 (at test/a.grad.ts:13:27)');
    const compiled = errorReport('Unexpected ","', 'user', 'load', { location: { file: '/w/c.grad.ts', line: 3, column: 21 } });
    assert.equal(cli(compiled), 'c.grad.ts:3:21: Unexpected ","');
    // Python knows lines, not columns; a place outside the folder stays absolute.
    const python = errorReport('SyntaxError: invalid syntax', 'user', 'load', { location: { file: '/elsewhere/d_grad.py', line: 7, column: null } });
    assert.equal(cli(python), '/elsewhere/d_grad.py:7: SyntaxError: invalid syntax');
    assert.equal(cli(errorReport('cancelled', 'cancelled', 'check')), 'cancelled');
  });

  it('names a setting in the words of each edge, where the message says so', () => {
    const hang = limitError('timeout', 3, ' while checking f, in f', 'check', { file: '/w/a.grad.ts', line: 2, column: 5 });
    assert.equal(hang.message, 'timed out after 3 s while checking f, in f');
    assert.equal(cli(hang), 'timed out after 3 s (--timeout) while checking f, in f (at a.grad.ts:2:5)');
    assert.equal(errorMessage(hang, { ...CLI_SETTINGS, timeout: 'gradlens.timeoutSeconds' }), 'timed out after 3 s (gradlens.timeoutSeconds) while checking f, in f');
    const interpreter = withSetting(errorReport("Python interpreter 'x' not found: install it, or choose another interpreter", 'runner', 'load'), 'python');
    assert.equal(cli(interpreter), "Python interpreter 'x' not found: install it, or choose another interpreter (--python PATH or the environment variable GRADLENS_PYTHON)");
  });

  it('keeps the errors of GradLens itself apart from user errors, with the stack', () => {
    class Bug extends Error {}
    const internal = reportFailure(new Bug('undefined is not a function'), 'optimize');
    assert.equal(internal.kind, 'internal');
    assert.match(internal.message, /^internal error: Error: undefined is not a function$/);
    assert.match(internal.stack!, /locations\.test/);
    assert.equal(reportFailure(new InputError('no tensor z'), 'optimize').kind, 'user');
  });
});

describe('pythonProblemCandidates', () => {
  it('finds dict literals, keyword calls and instances of problem classes at module level', () => {
    const source = [
      'import numpy as np', // 1
      'softmax = {', // 2
      '    "params": {"W": np.zeros((2, 2))},',
      '    "f": lambda p: 0.0,',
      '    "grad": lambda p: {"W": np.zeros((2, 2))},',
      '    "hvp": lambda p, v: v,',
      '}', // 7
      'relu = dict(inputs={"x": np.ones(2)}, forward=np.abs, backward=lambda i, g: g)', // 8
      'class Model:', // 9
      '    def __init__(self):',
      '        self.params = {"w": np.ones(3)}',
      '    def f(self, p):',
      '        return 0.0',
      '    def grad(self, p):',
      '        return p',
      'model = Model()', // 16
      '_private = {"params": {}, "f": None, "grad": None}', // 17
      'CONFIG = {"lr": 0.1, "f": 2}', // 18: one key is not a problem
      'if __name__ == "__main__":', // 19
      '    local = {"params": {}, "f": None, "grad": None}', // indented: not module level
      'half = {"params": {"w": np.ones(1)}, "f": lambda p: 0.0}', // 21: missing grad, the runner names it invalid
    ].join('\n');
    assert.deepEqual(pythonProblemCandidates(source), [
      { name: 'softmax', line: 2, kind: 'scalar', secondOrder: true },
      { name: 'relu', line: 8, kind: 'layer', secondOrder: false },
      { name: 'model', line: 16, kind: 'scalar', secondOrder: false },
      { name: 'half', line: 21, kind: 'scalar', secondOrder: false },
    ]);
  });

  it('finds course code: layer pairs, losses with wrt, models with params, dicts that spread another, the typed helpers', () => {
    const source = [
      'import torch', // 1: a torch file, yet course code has no second-order check
      'affine = {"forward": affine_forward, "backward": affine_backward, "inputs": {"x": x, "w": w, "b": b}}', // 2
      'affine_db_averaged = {**affine, "backward": affine_backward_db_averaged}', // 3: the keys of affine
      'svm = {"loss": svm_loss_naive, "inputs": {"W": W, "X": X, "y": y, "reg": 0.1}, "wrt": ["W"]}', // 4
      'net = {"model": TwoLayerNet(), "inputs": {"X": X, "y": y}}', // 5
      'settings = {"loss": "l2", "lr": 0.1}', // 6: a loss key alone is not a problem
      'softmax = loss_with_gradient(loss=softmax_loss, inputs={"x": x, "y": y})', // 7
      'relu = layer_pair(forward=relu_forward, backward=relu_backward, inputs={"x": x})', // 8
      'model = model_with_params(model=TwoLayerNet(), inputs={"X": X, "y": y})', // 9
      'smooth = {"params": {"w": w}, "f": lambda p: (p["w"] ** 4).sum()}', // 10: a torch scalar problem has one
    ].join('\n');
    assert.deepEqual(pythonProblemCandidates(source), [
      { name: 'affine', line: 2, kind: 'layer', secondOrder: false },
      { name: 'affine_db_averaged', line: 3, kind: 'layer', secondOrder: false },
      { name: 'svm', line: 4, kind: 'scalar', secondOrder: false },
      { name: 'net', line: 5, kind: 'scalar', secondOrder: false },
      { name: 'softmax', line: 7, kind: 'scalar', secondOrder: false },
      { name: 'relu', line: 8, kind: 'layer', secondOrder: false },
      { name: 'model', line: 9, kind: 'scalar', secondOrder: false },
      { name: 'smooth', line: 10, kind: 'scalar', secondOrder: true },
    ]);
  });
});

describe('problemCandidates', () => {
  it('keeps exported values and drops exported functions and classes', () => {
    const source = ['export const a = { params: {} };', 'export function helper() {}', 'export class Model {}', 'export async function load() {}', 'export default { params: {} };'].join('\n');
    assert.deepEqual(problemCandidates(source), [{ name: 'a', line: 1 }, { name: 'default', line: 5 }]);
  });
});
