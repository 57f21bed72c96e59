/**
 * PyTorch problem files (custom autograd Functions, modules, scalar problems over tensors) against
 * torch.autograd.gradcheck and gradgradcheck themselves (test/oracle/torch_gradcheck.py, Debian's
 * python3-torch): the same verdicts and the same wrong elements, for every example; then the ways
 * torch code goes wrong. Skipped, with the reason, where torch is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type FileReport, type ProblemReport, checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_TORCH } from './python-env';
import { errorOf } from './report-text';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'examples/torch');
const FIXTURES = path.join(ROOT, 'test/fixtures/torch');
const ORACLE = path.join(ROOT, 'test/oracle/torch_gradcheck.py');
const LIMITS = { timeoutSeconds: 60, memoryMb: 4096 };
const skip = WITHOUT_TORCH;

function oracle(file: string, order: 1 | 2): Record<string, { passed: boolean; wrong: string[] }> {
  const result = spawnSync(PYTHON, [ORACLE, file, String(order)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, { passed: boolean; wrong: string[] }>;
}

function byName(report: FileReport): Map<string, ProblemReport> {
  assert.equal(report.loadError, null, report.loadError?.message);
  return new Map(report.problems.map((problem) => [problem.name, problem]));
}

describe('PyTorch problems agree with torch.autograd.gradcheck and gradgradcheck', { skip }, () => {
  const files = fs.readdirSync(EXAMPLES).filter((name) => name.endsWith('_grad.py')).sort();

  it('has examples of every kind to compare', () => {
    assert.ok(files.length >= 6, files.join(', '));
  });

  for (const name of files) {
    for (const order of [1, 2] as const) {
      it(`${name} at order ${order}: the verdict and the exact set of wrong elements`, async () => {
        const file = path.join(EXAMPLES, name);
        const truth = oracle(file, order);
        const report = byName(await checkFile(file, { order }, LIMITS, {}, null, PYTHON));
        const compared = Object.keys(truth);
        assert.ok(compared.length >= 2, `${name}: ${compared.join(', ')}`);
        for (const [problem, expected] of Object.entries(truth)) {
          const ours = report.get(problem);
          assert.ok(ours, `${name}: no result for ${problem}`);
          if (ours.verdict === 'skipped') continue;
          assert.notEqual(ours.verdict, 'error', `${problem}: ${ours.error?.message}`);
          // A kink fails torch's check; GradLens names it a kink (a failure with --strict).
          assert.equal(ours.verdict === 'pass', expected.passed, `${problem} at order ${order}: GradLens ${ours.verdict}, torch ${expected.passed ? 'passes' : 'fails'}`);
          assert.deepEqual([...ours.failedElements].sort(), [...expected.wrong].sort(), `${problem} at order ${order}`);
        }
      });
    }
  }
});

describe('PyTorch problem files', { skip }, () => {
  it('checks modules (parameters by named_parameters), scalar problems with and without their own grad, tuples of inputs', async () => {
    const report = byName(await checkFile(path.join(FIXTURES, 'kinds_grad.py'), {}, LIMITS, {}, null, PYTHON));
    const verdicts = Object.fromEntries([...report].map(([name, problem]) => [name, problem.verdict]));
    assert.deepEqual(verdicts, { autogradOnly: 'pass', ownGrad: 'pass', ownWrongGrad: 'fail', evalNet: 'pass', dropoutNet: 'nondeterministic', float32Input: 'pass', tupleInputs: 'pass', helperFunction: 'pass', helperModule: 'pass' });
    assert.deepEqual(report.get('ownWrongGrad')!.failedElements, ['w[0]', 'w[1]', 'w[2]']);
    // grad(w) = 3w² + cos w by hand, against the analytic side the check reports.
    for (const element of report.get('autogradOnly')!.worst) {
      const w = [0.5, -1, 2][element.index[0]];
      assert.ok(Math.abs(element.analytic - (3 * w * w + Math.cos(w))) < 1e-12, element.element);
    }
    const net = report.get('evalNet')!;
    assert.equal(net.size, 3 * 4 + 4 + 4 * 2 + 2, 'every parameter, and not the input (it does not require grad)');
    assert.ok(net.worst.every((element) => /^[02]\.(weight|bias)/.test(element.element)), net.worst.map((element) => element.element).join(', '));
    assert.deepEqual(report.get('tupleInputs')!.worst.map((element) => element.element).sort(), ['input0[0]', 'input0[1]']);
  });

  it('upcasts float32 to float64 with a warning that says why, and reports dropout in train() as nondeterminism with the fix', async () => {
    const report = byName(await checkFile(path.join(FIXTURES, 'kinds_grad.py'), {}, LIMITS, {}, null, PYTHON));
    assert.match(report.get('float32Input')!.warnings.join('\n'), /^x is float32: checked in float64\. At eps 1e-6 the differences of float32 values are rounding noise .* torch\.autograd\.gradcheck would fail on it even for a right gradient$/);
    assert.match(report.get('evalNet')!.warnings.join('\n'), /^0\.weight, 0\.bias, 2\.weight, 2\.bias are float32/);
    assert.deepEqual(report.get('ownGrad')!.warnings, []);
    assert.match(errorOf(report.get('dropoutNet')!.error), /returned .* and then .* at the same point \(the module is in train\(\) mode: dropout .*call \.eval\(\) on it for the check, or seed it \(torch\.manual_seed\)\)/);
  });

  it('names what went wrong in torch code, located in the user file', async () => {
    const file = path.join(FIXTURES, 'failures_grad.py');
    const report = byName(await checkFile(file, {}, LIMITS, {}, null, PYTHON));
    const line = (name: string) => report.get(name)!.error?.location?.line;
    const text = (name: string) => errorOf(report.get(name)!.error);
    assert.match(text('twoGrads'), /^backward threw RuntimeError: function TwoGradsBackward returned an incorrect number of gradients \(expected 1, got 2\)/);
    // Torch raises these from its engine: the place is the Function's backward.
    assert.equal(line('twoGrads'), 10);
    assert.match(text('wrongShape'), /WrongShapeBackward returned an invalid gradient at index 0 - got \[3\] but expected shape compatible with \[2, 3\]/);
    assert.equal(line('wrongShape'), 20);
    assert.match(text('raises'), /^backward threw ValueError: backward is not written yet/);
    assert.equal(line('raises'), 32);
    assert.match(text('inPlace'), /a leaf Variable that requires grad is being used in an in-place operation/);
    assert.match(text('notATensor'), /returned float, expected a tensor or a tuple of tensors/);
    assert.match(text('noGrad'), /^noGrad: no input requires grad: set requires_grad=True/);
    assert.match(text('complexInput'), /z is a complex tensor: not supported yet/);
    assert.equal(report.get('fine')!.verdict, 'pass');
  });

  it('a backward marked once_differentiable gets a clear message at order 2, not a crash', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-torch-'));
    const file = path.join(folder, 'once_grad.py');
    fs.writeFileSync(file, [
      'import torch',
      'from torch.autograd.function import once_differentiable',
      'class Cube(torch.autograd.Function):',
      '    @staticmethod',
      '    def forward(ctx, x):',
      '        ctx.save_for_backward(x)',
      '        return x ** 3',
      '    @staticmethod',
      '    @once_differentiable',
      '    def backward(ctx, g):',
      '        (x,) = ctx.saved_tensors',
      '        return 3 * x ** 2 * g',
      'once = {"fn": Cube.apply, "inputs": {"x": torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)}}',
    ].join('\n'));
    const [first] = (await checkFile(file, {}, LIMITS, {}, null, PYTHON)).problems;
    assert.equal(first.verdict, 'pass');
    const [second] = (await checkFile(file, { order: 2 }, LIMITS, {}, null, PYTHON)).problems;
    assert.equal(second.verdict, 'error');
    assert.match(errorOf(second.error), /^backward of Cube is not twice differentiable \(once_differentiable\?\)/);
  });

  it('says how to install torch when the interpreter has none, and NumPy files still work', async () => {
    // A wrapper around the real interpreter that puts a torch package first on the path, one that fails to import.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-no-torch-'));
    fs.mkdirSync(path.join(folder, 'torch'));
    fs.writeFileSync(path.join(folder, 'torch', '__init__.py'), 'raise ModuleNotFoundError("No module named \'torch\'", name="torch")\n');
    const wrapper = path.join(folder, 'python-without-torch');
    fs.writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH='${folder}' exec '${PYTHON}' "$@"\n`, { mode: 0o755 });
    const report = await checkFile(path.join(EXAMPLES, 'linear_function_grad.py'), {}, LIMITS, {}, null, wrapper);
    assert.match(errorOf(report.loadError), /linear_function_grad\.py:\d+: PyTorch is not installed for the Python interpreter '.*python-without-torch' \(linear_function_grad\.py imports it\): install it \(.* -m pip install torch, or apt install python3-torch for Debian's python3\), or choose another interpreter \(--python PATH/);
    const numpy = await checkFile(path.join(ROOT, 'examples/python/linear_regression_grad.py'), {}, LIMITS, {}, null, wrapper);
    assert.equal(numpy.loadError, null);
    assert.ok(numpy.problems.length > 0 && numpy.problems.every((problem) => problem.verdict !== 'error'));
  });
});
