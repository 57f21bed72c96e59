/**
 * The teaching examples in examples/: every correct problem passes, every
 * buggy twin fails on exactly the elements its bug touches (worked out from
 * the bug, see the comments in each file), kinks are reported as kinks, and a
 * full check costs 2n+2 evaluations (center, ±eps per element, one repeat).
 * Runs the built CLI (dist/cli.js) the way a user would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const EXAMPLES = path.join(ROOT, 'examples');

type Verdict = 'pass' | 'fail' | 'kink' | 'nondeterministic' | 'error' | 'skipped';

interface ElementJson {
  element: string;
  passed: boolean;
  kink: boolean;
}

interface ProblemJson {
  name: string;
  kind: 'scalar' | 'layer';
  order: 1 | 2;
  mode: string;
  verdict: Verdict;
  passed: boolean;
  evaluations: { f: number; grad: number; hvp: number; forward: number; backward: number };
  size: number;
  checked: number;
  failed: number;
  kinks: number;
  worst: ElementJson[];
  error: string | null;
}

interface ReportJson {
  passed: boolean;
  problems: ProblemJson[];
  errors: { file: string; error: string }[];
}

interface Expectation {
  name: string;
  kind: 'scalar' | 'layer';
  /** Number of parameters (scalar problems) or input elements (layers); 0 when skipped (nothing was read). */
  size: number;
  verdict: Verdict;
  /** Elements reported with passed=false; for verdict `kink` these are the kinks. */
  failing?: string[];
}

interface ExampleRun {
  file: string;
  order: 1 | 2;
  strict?: boolean;
  problems: Expectation[];
}

const W1_OFF_DIAGONAL = ['W1[0,1]', 'W1[0,2]', 'W1[1,0]', 'W1[1,2]', 'W1[2,0]', 'W1[2,1]'];
const ALL_OF_X_2x3 = ['x[0,0]', 'x[0,1]', 'x[0,2]', 'x[1,0]', 'x[1,1]', 'x[1,2]'];
const ALL_OF_X_4x2 = ['x[0,0]', 'x[0,1]', 'x[1,0]', 'x[1,1]', 'x[2,0]', 'x[2,1]', 'x[3,0]', 'x[3,1]'];
const RELU_KINKS = ['W[0,0]', 'W[0,1]', 'b[0]'];

// Sizes: linear regression w(3)+b; softmax W(3×3)+b(3); MLP W1(3×3)+b1(3)+W2(3×3)+b2(3);
// activations x(2×3); batch norm x(4×2)+gamma(2)+beta(2); ReLU W(2×2)+b(2);
// Rosenbrock x(4); logistic regression w(3)+b.
const RUNS: ExampleRun[] = [
  {
    file: 'linear-regression.grad.ts',
    order: 1,
    problems: [
      { name: 'linearRegression', kind: 'scalar', size: 4, verdict: 'pass' },
      // Missing 1/m: every element is m times too large.
      { name: 'linearRegressionMissingMean', kind: 'scalar', size: 4, verdict: 'fail', failing: ['w[0]', 'w[1]', 'w[2]', 'b'] },
    ],
  },
  {
    file: 'linear-regression.grad.ts',
    order: 2,
    problems: [
      { name: 'linearRegression', kind: 'scalar', size: 4, verdict: 'pass' },
      { name: 'linearRegressionMissingMean', kind: 'scalar', size: 0, verdict: 'skipped' },
    ],
  },
  {
    file: 'softmax-classifier.grad.ts',
    order: 1,
    problems: [
      { name: 'softmaxClassifier', kind: 'scalar', size: 12, verdict: 'pass' },
      // db from the first sample only: all of b wrong, W right.
      { name: 'softmaxClassifierBiasFromFirstSample', kind: 'scalar', size: 12, verdict: 'fail', failing: ['b[0]', 'b[1]', 'b[2]'] },
    ],
  },
  {
    file: 'two-layer-mlp.grad.ts',
    order: 1,
    problems: [
      { name: 'twoLayerMlp', kind: 'scalar', size: 24, verdict: 'pass' },
      // A transpose keeps the diagonal: only the off-diagonal elements of W1 fail.
      { name: 'twoLayerMlpTransposedDW1', kind: 'scalar', size: 24, verdict: 'fail', failing: W1_OFF_DIAGONAL },
    ],
  },
  {
    file: 'activations.grad.ts',
    order: 1,
    problems: [
      { name: 'tanhLayer', kind: 'layer', size: 6, verdict: 'pass' },
      { name: 'tanhLayerSignError', kind: 'layer', size: 6, verdict: 'fail', failing: ['x[1,2]'] },
      { name: 'sigmoidLayer', kind: 'layer', size: 6, verdict: 'pass' },
      // x(1 − x) instead of y(1 − y): wrong wherever x ≠ y and x ≠ 1 − y, i.e. everywhere here.
      { name: 'sigmoidLayerWrongDerivative', kind: 'layer', size: 6, verdict: 'fail', failing: ALL_OF_X_2x3 },
    ],
  },
  {
    file: 'batchnorm.grad.ts',
    order: 1,
    problems: [
      { name: 'batchNorm', kind: 'layer', size: 12, verdict: 'pass' },
      // Missing −mean(dx̂): every dx element is off, dgamma and dbeta are right.
      { name: 'batchNormMeanTreatedAsConstant', kind: 'layer', size: 12, verdict: 'fail', failing: ALL_OF_X_4x2 },
    ],
  },
  {
    file: 'relu-kink.grad.ts',
    order: 1,
    problems: [
      // z[0] = 0: the parameters feeding z[0] are kinks, the others pass.
      { name: 'reluAtKink', kind: 'scalar', size: 6, verdict: 'kink', failing: RELU_KINKS },
      { name: 'reluAwayFromKink', kind: 'scalar', size: 6, verdict: 'pass' },
    ],
  },
  {
    file: 'relu-kink.grad.ts',
    order: 1,
    strict: true,
    problems: [
      { name: 'reluAtKink', kind: 'scalar', size: 6, verdict: 'kink', failing: RELU_KINKS },
      { name: 'reluAwayFromKink', kind: 'scalar', size: 6, verdict: 'pass' },
    ],
  },
  {
    file: 'second-order.grad.ts',
    order: 1,
    problems: [
      // The gradients are all correct: order 1 cannot see the hvp bugs.
      { name: 'rosenbrock', kind: 'scalar', size: 4, verdict: 'pass' },
      { name: 'rosenbrockHvpUpperTriangleOnly', kind: 'scalar', size: 4, verdict: 'pass' },
      { name: 'logisticRegression', kind: 'scalar', size: 4, verdict: 'pass' },
      { name: 'logisticRegressionHvpMissingL2', kind: 'scalar', size: 4, verdict: 'pass' },
    ],
  },
  {
    file: 'second-order.grad.ts',
    order: 2,
    problems: [
      { name: 'rosenbrock', kind: 'scalar', size: 4, verdict: 'pass' },
      // Rows 1..3 miss the sub-diagonal term H[i][i−1]·v[i−1]; row 0 has none to miss.
      { name: 'rosenbrockHvpUpperTriangleOnly', kind: 'scalar', size: 4, verdict: 'fail', failing: ['x[1]', 'x[2]', 'x[3]'] },
      { name: 'logisticRegression', kind: 'scalar', size: 4, verdict: 'pass' },
      // λ·v_w missing: the w rows fail, b (not regularized) passes.
      { name: 'logisticRegressionHvpMissingL2', kind: 'scalar', size: 4, verdict: 'fail', failing: ['w[0]', 'w[1]', 'w[2]'] },
    ],
  },
];

function runCli(run: ExampleRun): { status: number | null; report: ReportJson } {
  const args = [CLI, 'check', path.join('examples', run.file), '--json', '--order', String(run.order)];
  if (run.strict) args.push('--strict');
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.error, undefined, `running the CLI failed: ${String(result.error)}`);
  let report: ReportJson;
  try {
    report = JSON.parse(result.stdout) as ReportJson;
  } catch {
    assert.fail(`no JSON from gradlens check ${run.file} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return { status: result.status, report };
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

/** Evaluation counts of a full check of n elements: one center call, two per element, one repeat. */
function expectedEvaluations(problem: Expectation, order: 1 | 2): ProblemJson['evaluations'] {
  const counts = { f: 0, grad: 0, hvp: 0, forward: 0, backward: 0 };
  if (problem.verdict === 'skipped') return counts;
  const full = 2 * problem.size + 2;
  if (problem.kind === 'layer') return { ...counts, forward: full, backward: 2 };
  if (order === 2) return { ...counts, grad: full, hvp: 2 };
  return { ...counts, f: full, grad: 2 };
}

function passes(problem: Expectation, strict: boolean): boolean {
  return problem.verdict === 'pass' || problem.verdict === 'skipped' || (problem.verdict === 'kink' && !strict);
}

describe('examples', () => {
  it('every example file is covered here', () => {
    const files = fs.readdirSync(EXAMPLES).filter((file) => file.endsWith('.grad.ts'));
    assert.deepEqual(sorted(files), sorted([...new Set(RUNS.map((run) => run.file))]));
  });

  for (const run of RUNS) {
    const label = `${run.file} --order ${run.order}${run.strict ? ' --strict' : ''}`;
    describe(label, () => {
      let cached: { status: number | null; report: ReportJson } | null = null;
      const result = () => (cached ??= runCli(run));

      it('reports every export in source order, and no load errors', () => {
        const { report } = result();
        assert.deepEqual(report.errors, []);
        assert.deepEqual(report.problems.map((problem) => problem.name), run.problems.map((problem) => problem.name));
      });

      it('exits 0 exactly when every problem passes', () => {
        const { status, report } = result();
        const allPass = run.problems.every((problem) => passes(problem, run.strict ?? false));
        assert.equal(report.passed, allPass);
        assert.equal(status, allPass ? 0 : 1);
      });

      for (const expected of run.problems) {
        it(`${expected.name}: ${expected.verdict}${expected.failing ? ` at ${expected.failing.join(' ')}` : ''}`, () => {
          const problem = result().report.problems.find((entry) => entry.name === expected.name);
          assert.ok(problem, `${expected.name} missing from the report`);
          assert.equal(problem.error, null);
          assert.equal(problem.kind, expected.kind);
          assert.equal(problem.order, run.order);
          assert.equal(problem.mode, 'full');
          assert.equal(problem.verdict, expected.verdict);
          assert.equal(problem.passed, passes(expected, run.strict ?? false));
          assert.equal(problem.size, expected.size);
          assert.equal(problem.checked, expected.size);

          const failing = expected.failing ?? [];
          const reported = problem.worst.filter((element) => !element.passed);
          assert.deepEqual(sorted(reported.map((element) => element.element)), sorted(failing));
          // No failure hides beyond the reported worst elements.
          assert.equal(problem.failed, failing.length);
          const kinks = expected.verdict === 'kink';
          assert.equal(problem.kinks, kinks ? failing.length : 0);
          for (const element of reported) assert.equal(element.kink, kinks, `${element.element}: kink flag`);

          // A full check: 2n+1 calls for the center and ±eps per element, plus one repeat at the center.
          assert.deepEqual(problem.evaluations, expectedEvaluations(expected, run.order));
        });
      }
    });
  }
});
