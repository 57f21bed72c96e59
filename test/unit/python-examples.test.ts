/**
 * The Python examples (examples/python/) mirror the TypeScript examples: the same problems under the
 * same names at the same points, so the engine must reach the same verdicts, flag the same elements
 * and see the same analytic and numeric values, up to the rounding of NumPy's summation order. Every
 * element is compared (worst is raised above every problem's size), in full mode at order 1 and 2,
 * on a mini-batch and in fast mode. The CS231n-style net has no TypeScript twin; its buggy gradient is
 * checked against the bug's own arithmetic instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { CheckOptions } from '../../src/core/gradcheck';
import { type FileReport, type ProblemReport, checkFile } from '../../src/runner/runner';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'examples');
const PYTHON_EXAMPLES = path.join(EXAMPLES, 'python');
const LIMITS = { timeoutSeconds: 30, memoryMb: 4096 };
const skip = WITHOUT_NUMPY;

/** Every element of the largest example (the CS231n net has 43) is reported, passing or not. */
const EVERY_ELEMENT = 100;
/**
 * Analytic values are the same formulas summed in another order: a few ulps (seen: ≤ 4e-16).
 * Numeric values are (f(x+h) − f(x−h)) / 2h with h = 1e-6, so a rounding difference δ in f becomes
 * δ/2h: one ulp of |f| ≈ 1 is 1.1e-10 (seen: ≤ 1.7e-10). Relative to max(1, |value|).
 */
const ANALYTIC_TOLERANCE = 1e-14;
const NUMERIC_TOLERANCE = 1e-9;

interface Twin {
  ts: string;
  python: string;
  options: Partial<CheckOptions>;
}

const FIRST_ORDER: Twin[] = [
  ['linear-regression.grad.ts', 'linear_regression_grad.py'],
  ['softmax-classifier.grad.ts', 'softmax_classifier_grad.py'],
  ['two-layer-mlp.grad.ts', 'two_layer_mlp_grad.py'],
  ['activations.grad.ts', 'activations_grad.py'],
  ['batchnorm.grad.ts', 'batchnorm_grad.py'],
  ['relu-kink.grad.ts', 'relu_kink_grad.py'],
  ['second-order.grad.ts', 'second_order_grad.py'],
].map(([ts, python]) => ({ ts, python, options: {} }));

const TWINS: Twin[] = [
  ...FIRST_ORDER,
  { ts: 'linear-regression.grad.ts', python: 'linear_regression_grad.py', options: { order: 2 } },
  { ts: 'second-order.grad.ts', python: 'second_order_grad.py', options: { order: 2 } },
  { ts: 'linear-regression.grad.ts', python: 'linear_regression_grad.py', options: { batchSize: 3 } },
  { ts: 'two-layer-mlp.grad.ts', python: 'two_layer_mlp_grad.py', options: { mode: 'fast' } },
  { ts: 'relu-kink.grad.ts', python: 'relu_kink_grad.py', options: { strict: true } },
];

function close(actual: number, expected: number, tolerance: number): boolean {
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

function assertSameCheck(python: ProblemReport, ts: ProblemReport): void {
  const label = python.name;
  assert.equal(python.error, null, `${label}: ${python.error?.message}`);
  assert.deepEqual(
    [python.kind, python.verdict, python.passed, python.size, python.checked, python.failed, python.kinks, python.evaluations, python.batch],
    [ts.kind, ts.verdict, ts.passed, ts.size, ts.checked, ts.failed, ts.kinks, ts.evaluations, ts.batch],
    label,
  );
  // The failing elements are the same set; which passing ones make the worst few may differ by rounding
  // (NumPy's SIMD math against V8's), so those are compared where both report them.
  assert.deepEqual([...python.failedElements].sort(), [...ts.failedElements].sort(), `${label}: the same failing elements`);
  const byElement = new Map(ts.worst.map((entry) => [entry.element, entry]));
  for (const entry of python.worst) {
    const twin = byElement.get(entry.element);
    if (!twin) {
      assert.ok(entry.passed, `${label}: ${entry.element} fails in Python only`);
      continue;
    }
    const where = `${label} ${entry.element}`;
    assert.deepEqual([entry.passed, entry.kink], [twin.passed, twin.kink], where);
    assert.ok(close(entry.analytic, twin.analytic, ANALYTIC_TOLERANCE), `${where}: analytic ${entry.analytic} vs ${twin.analytic}`);
    assert.ok(close(entry.numeric, twin.numeric, NUMERIC_TOLERANCE), `${where}: numeric ${entry.numeric} vs ${twin.numeric}`);
  }
}

function assertLoaded(report: FileReport): void {
  assert.equal(report.loadError, null, report.loadError?.message);
  assert.ok(report.problems.length > 0);
}

describe('python examples mirror the TypeScript examples', { skip }, () => {
  for (const twin of TWINS) {
    it(`${twin.python} ${JSON.stringify(twin.options)}: same verdicts and elements as ${twin.ts}`, async () => {
      const options = { ...twin.options, worst: EVERY_ELEMENT };
      const [python, ts] = await Promise.all([
        checkFile(path.join(PYTHON_EXAMPLES, twin.python), options, LIMITS, {}, null, PYTHON),
        checkFile(path.join(EXAMPLES, twin.ts), options, LIMITS),
      ]);
      assertLoaded(python);
      assertLoaded(ts);
      assert.deepEqual(python.problems.map((problem) => problem.name), ts.problems.map((problem) => problem.name));
      for (let k = 0; k < ts.problems.length; k++) assertSameCheck(python.problems[k], ts.problems[k]);
      // Not vacuous: every file has a problem whose check looked at elements (skipped ones have none).
      assert.ok(python.problems.some((problem) => problem.checked > 0 && problem.worst.length > 0));
    });
  }

  it('every TypeScript example has a Python twin', async () => {
    const fs = await import('node:fs');
    const examples = fs.readdirSync(EXAMPLES).filter((file) => file.endsWith('.grad.ts')).sort();
    assert.deepEqual(examples, FIRST_ORDER.map((twin) => twin.ts).sort());
    for (const twin of FIRST_ORDER) assert.ok(fs.existsSync(path.join(PYTHON_EXAMPLES, twin.python)), twin.python);
  });
});

describe('python example: CS231n two-layer net with layers.py beside it', { skip }, () => {
  it('passes, and the buggy twin fails on every W2 element by exactly −reg·W2', async () => {
    const report = await checkFile(path.join(PYTHON_EXAMPLES, 'cs231n_two_layer_net_grad.py'), { worst: EVERY_ELEMENT }, LIMITS, {}, null, PYTHON);
    assertLoaded(report);
    const [correct, buggy] = report.problems;
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['twoLayerNet', 'pass'], ['twoLayerNetMissingW2Regularization', 'fail']]);
    // W1 (6×4) + b1 (4) + W2 (4×3) + b2 (3), every element checked: 2n+2 evaluations of f.
    assert.deepEqual([correct.size, correct.checked, correct.evaluations.f], [43, 43, 88]);

    // The bug's arithmetic, read from the module itself: the gradient lacks reg·W2, nothing else.
    const read = spawnSync(PYTHON, ['-c', 'import json, sys; sys.path[:0] = sys.argv[1:]; import cs231n_two_layer_net_grad as m; '
      + 'print(json.dumps({"reg": m.REG, "W2": m.twoLayerNetMissingW2Regularization["params"]["W2"].tolist()}))', PYTHON_EXAMPLES, path.join(ROOT, 'python')], { encoding: 'utf8' });
    assert.equal(read.status, 0, read.stderr);
    const { reg, W2 } = JSON.parse(read.stdout) as { reg: number; W2: number[][] };
    const expected = new Map<string, number>(W2.flatMap((row, i) => row.map((w, j) => [`W2[${i},${j}]`, -reg * w])));
    const failing = buggy.worst.filter((entry) => !entry.passed);
    assert.deepEqual(failing.map((entry) => entry.element).sort(), [...expected.keys()].sort());
    for (const entry of failing) {
      assert.ok(close(entry.analytic - entry.numeric, expected.get(entry.element)!, 1e-8), `${entry.element}: ${entry.analytic - entry.numeric} vs ${expected.get(entry.element)}`);
    }
    assert.equal(buggy.worst.length, 43);
  });
});
