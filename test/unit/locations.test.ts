import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { listExports, locateExport, problemCandidates, pythonProblemCandidates } from '../../src/core/exports';
import { messageLocation } from '../../src/runner/stack';

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

describe('messageLocation', () => {
  it('reads "(at file:line:col)" and leading "file:line:col: " locations, resolving relative paths', () => {
    assert.deepEqual(messageLocation('f threw RangeError: bad (at test/a.grad.ts:13:27)', '/w'), { file: '/w/test/a.grad.ts', line: 13, column: 27 });
    assert.deepEqual(messageLocation('f(p) returned NaN (at /abs/b.grad.ts:35)', '/w'), { file: '/abs/b.grad.ts', line: 35, column: 1 });
    assert.deepEqual(messageLocation('c.grad.ts:3:21: Unexpected ","', '/w'), { file: '/w/c.grad.ts', line: 3, column: 21 });
    // Python's load errors have a line and no column.
    assert.deepEqual(messageLocation('d_grad.py:7: SyntaxError: invalid syntax', '/w'), { file: '/w/d_grad.py', line: 7, column: 1 });
    assert.equal(messageLocation('timed out after 60 s', '/w'), null);
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
});

describe('problemCandidates', () => {
  it('keeps exported values and drops exported functions and classes', () => {
    const source = ['export const a = { params: {} };', 'export function helper() {}', 'export class Model {}', 'export async function load() {}', 'export default { params: {} };'].join('\n');
    assert.deepEqual(problemCandidates(source), [{ name: 'a', line: 1 }, { name: 'default', line: 5 }]);
  });
});
