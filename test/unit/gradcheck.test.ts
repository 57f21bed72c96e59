import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckOptions, allclose, checkProblem, relativeError } from '../../src/core/gradcheck';
import { errorFigures, tensorSummary } from '../../src/report/checks';
import { type ProblemDefinition, classifyExport } from '../../src/core/problem';
import { errorOf } from './report-text';

type Vec = { x: number[] };

function define(name: string, value: object): ProblemDefinition {
  const definition = classifyExport(name, value);
  assert.ok(definition, `${name} should be a problem`);
  return definition;
}

/** f(x) = Σ c_i x_i^3: derivative 3 c_i x_i^2, second derivative 6 c_i x_i (diagonal Hessian). */
function cubic(x: number[], c: number[], gradientBug: (i: number) => number = () => 0): ProblemDefinition {
  return define('cubic', {
    params: { x },
    f: (p: Vec) => p.x.reduce((sum, v, i) => sum + c[i] * v ** 3, 0),
    grad: (p: Vec) => ({ x: p.x.map((v, i) => 3 * c[i] * v * v + gradientBug(i)) }),
    hvp: (p: Vec, v: Vec) => ({ x: p.x.map((xi, i) => 6 * c[i] * xi * v.x[i]) }),
  });
}

async function check(definition: ProblemDefinition, options: Partial<CheckOptions> = {}) {
  return checkProblem(definition, options);
}

describe('criteria', () => {
  it("uses torch's allclose and the CS231n relative error", () => {
    assert.equal(allclose(1.00101, 1, 1e-5, 1e-3), true); // 1.01e-3 allowed
    assert.equal(allclose(1.00102, 1, 1e-5, 1e-3), false);
    assert.equal(relativeError(3, 1), 2 / 3);
    assert.equal(relativeError(0, 0), 0);
    assert.equal(relativeError(-1, 1), 2);
  });

  it('passes just inside atol + rtol*|numeric| and fails just outside', async () => {
    // f = 2x is linear, so the central difference is exactly 2 up to rounding (~1e-10).
    const linear = (offset: number) => define('linear', { params: { x: 0.7 }, f: (p: { x: number }) => 2 * p.x, grad: () => ({ x: 2 + offset }) });
    const tolerance = 1e-5 + 1e-3 * 2;
    assert.equal((await check(linear(0.99 * tolerance))).verdict, 'pass');
    const failing = await check(linear(1.01 * tolerance));
    assert.equal(failing.verdict, 'fail');
    assert.ok(Math.abs(failing.worst[0].absError - 1.01 * tolerance) < 1e-8);
  });
});

describe('full mode', () => {
  it('passes a correct gradient with central-difference accuracy and counts 2n+1 f calls plus one repeat', async () => {
    const result = await check(cubic([0.5, -1, 2, 0.25], [1, 2, -1, 3]));
    assert.equal(result.verdict, 'pass');
    assert.equal(result.passed, true);
    // Central difference error of x^3 is h^2 * c (exactly, the third derivative is constant): 1e-12 * |c|.
    assert.ok(result.maxAbsError < 1e-8, `max abs ${result.maxAbsError}`);
    assert.deepEqual(result.evaluations, { f: 2 * 4 + 1 + 1, grad: 2, hvp: 0, forward: 0, backward: 0 });
    assert.equal(result.checked, 4);
  });

  it('names the one wrong element with its analytic and numeric values', async () => {
    const x = [0.5, -1, 2, 0.25];
    const c = [1, 2, -1, 3];
    const result = await check(cubic(x, c, (i) => (i === 2 ? 0.5 : 0)));
    assert.equal(result.verdict, 'fail');
    assert.equal(result.failed, 1);
    const [worst] = result.worst;
    assert.equal(worst.element, 'x[2]');
    assert.deepEqual(worst.index, [2]);
    assert.equal(worst.analytic, 3 * -1 * 4 + 0.5);
    assert.ok(Math.abs(worst.numeric - 3 * -1 * 4) < 1e-7);
    assert.equal(worst.passed, false);
    assert.ok(worst.relError > 0.04 && worst.relError < 0.043); // 0.5 / 12.5... / 12
  });

  it('names elements of matrices by row and column', async () => {
    const result = await check(define('matrix', {
      params: { W: [[1, 2, 3], [4, 5, 6]], b: 0.5 },
      f: (p: { W: number[][]; b: number }) => p.W.flat().reduce((s, v) => s + v * v, 0) * p.b,
      grad: (p: { W: number[][]; b: number }) => ({
        W: p.W.map((row, i) => row.map((v, j) => (i === 1 && j === 0 ? -2 * v * p.b : 2 * v * p.b))),
        b: p.W.flat().reduce((s, v) => s + v * v, 0),
      }),
    }));
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.worst.filter((e) => !e.passed).map((e) => e.element), ['W[1,0]']);
  });

  it('calls a kink a kink: |x| at 0 with a subgradient, but not a wrong value there', async () => {
    const abs = (analytic: number) => define('abs', { params: { x: [0, 1] }, f: (p: Vec) => Math.abs(p.x[0]) + p.x[1], grad: () => ({ x: [analytic, 1] }) });
    // The central difference of |x| at 0 is exactly 0: the subgradient 0 matches it.
    assert.equal((await check(abs(0))).verdict, 'pass');
    // 1 and -1 are the one-sided derivatives: they fail against 0 but sit at a kink.
    const kink = await check(abs(1));
    assert.equal(kink.verdict, 'kink');
    assert.equal(kink.passed, true);
    assert.equal(kink.worst[0].kink, true);
    assert.equal(kink.worst[0].numeric, 0);
    assert.equal((await check(abs(-1))).verdict, 'kink');
    assert.equal((await checkProblem(abs(1), { strict: true })).passed, false);
    // 3 is outside [-1, 1], no derivative at all: a bug.
    assert.equal((await check(abs(3))).verdict, 'fail');
  });

  it('reports nondeterminism between two calls at the same point', async () => {
    let calls = 0;
    const result = await check(define('noisy', { params: { x: [1] }, f: (p: Vec) => p.x[0] + (calls++ === 3 ? 1e-9 : 0), grad: () => ({ x: [1] }) }));
    assert.equal(result.verdict, 'nondeterministic');
    assert.match(errorOf(result.error), /f\(p\) returned 1 and then 1\.000000001 at the same point/);
    const tolerant = await checkProblem(define('noisy', { params: { x: [1] }, f: (p: Vec) => p.x[0] + (calls++ % 4 === 0 ? 1e-12 : 0), grad: () => ({ x: [1] }) }), { nondetTolerance: 1e-10 });
    assert.equal(tolerant.verdict, 'pass');
  });

  it('catches user code that modifies its argument', async () => {
    const result = await check(define('mutates', { params: { x: [1, 2] }, f: (p: Vec) => p.x[0], grad: (p: Vec) => { p.x[1] = 5; return { x: [1, 0] }; } }));
    assert.equal(result.verdict, 'error');
    assert.match(errorOf(result.error), /modified its argument: x\[1\] changed from 2 to 5/);
  });

  it('turns NaN, wrong types and wrong shapes into errors that say where', async () => {
    const nan = await check(define('nan', { params: { x: [1, 2] }, f: (p: Vec) => (p.x[1] < 2 ? NaN : 0), grad: () => ({ x: [0, 0] }) }));
    assert.equal(nan.verdict, 'error');
    assert.equal(nan.error?.message, 'f(p) returned NaN, expected a finite number with x[1] - 0.000001');
    assert.equal(nan.error?.element, 'x[1]');
    const text = await check(define('text', { params: { x: [1] }, f: () => '1', grad: () => ({ x: [0] }) }));
    assert.equal(text.error?.message, 'f(p) returned string, expected a finite number at the unperturbed point');
    const gradNaN = await check(define('gradNaN', { params: { x: [[1, 2]] }, f: () => 0, grad: () => ({ x: [[0, Infinity]] }) }));
    assert.equal(gradNaN.error?.message, 'grad(p).x[0,1] is Infinity, expected a finite number at the unperturbed point');
  });

  it('awaits async functions', async () => {
    const result = await check(define('async', { params: { x: [2] }, f: async (p: Vec) => p.x[0] ** 2, grad: async (p: Vec) => ({ x: [2 * p.x[0]] }) }));
    assert.equal(result.verdict, 'pass');
  });

  it('treats empty tensors as nothing to check', async () => {
    const result = await check(define('empty', { params: { x: [] as number[] }, f: () => 1, grad: () => ({ x: [] as number[] }) }));
    assert.equal(result.verdict, 'pass');
    assert.equal(result.checked, 0);
    assert.equal(result.evaluations.f, 2);
  });
});

describe('per-tensor counts and gradients of about zero', () => {
  // Batch norm's layout: y_i = gamma * (x_i - mean(x)) + beta, loss Σ c_i y_i. dx_i = gamma * (c_i - mean(c)),
  // dgamma = Σ c_i (x_i - mean(x)), dbeta = Σ c_i. The bug: dx without the mean of c (the 1/N term forgotten).
  const x = [0.3, -1.2, 0.8, 2.1];
  const c = [1, -2, 0.5, 3];
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  type BatchNorm = { x: number[]; gamma: number; beta: number };
  const loss = (p: BatchNorm) => p.x.reduce((sum, value, i) => sum + c[i] * (p.gamma * (value - mean(p.x)) + p.beta), 0);
  const batchNorm = (dx: (i: number, p: BatchNorm) => number) => define('batchnorm', {
    params: { x, gamma: 1.5, beta: 0.2 },
    f: loss,
    grad: (p: BatchNorm) => ({
      x: p.x.map((_, i) => dx(i, p)),
      gamma: p.x.reduce((sum, value, i) => sum + c[i] * (value - mean(p.x)), 0),
      beta: c.reduce((sum, value) => sum + value, 0),
    }),
  });

  it('counts checked and wrong elements per tensor, so a wrong dx stands out against right dgamma and dbeta', async () => {
    const wrong = await check(batchNorm((i, p) => p.gamma * c[i]));
    assert.equal(wrong.verdict, 'fail');
    assert.deepEqual(wrong.tensors, [
      { name: 'x', size: 4, checked: 4, failed: 4, kinks: 0 },
      { name: 'gamma', size: 1, checked: 1, failed: 0, kinks: 0 },
      { name: 'beta', size: 1, checked: 1, failed: 0, kinks: 0 },
    ]);
    assert.equal(tensorSummary(wrong), 'x 4/4 wrong, gamma 0/1, beta 0/1');
    // Sparse mode counts its samples, and names the tensors it never reached.
    const sparse = await checkProblem(batchNorm((i, p) => p.gamma * c[i]), { mode: 'sparse', samples: 2, seed: 3 });
    const counted = sparse.tensors.reduce((sum, tensor) => sum + tensor.checked, 0);
    assert.equal(counted, 2);
    assert.ok(sparse.tensors.some((tensor) => tensor.checked === 0));
    assert.match(tensorSummary(sparse)!, / not sampled/);
    // Fast mode checks no element one by one (this problem is small enough that it runs full mode instead).
    assert.equal(tensorSummary({ ...wrong, mode: 'fast' }), null);
  });

  it('judges elements whose gradient is 0 by their absolute error: rounding noise there is no relative error of 1', async () => {
    // A bias before batch norm: f = Σ c_i ((x_i + b) - mean(x + b))², so df/db is exactly 0 and the
    // central differences in b are rounding noise (about 1e-9 here), as are W's own exact terms.
    type Biased = { b: number[]; w: number[] };
    const flat = define('bias_before_norm', {
      params: { b: [0.1, 0.7, 0.1, 0.7], w: [0.5, -0.25] },
      f: (p: Biased) => p.b.reduce((sum, bias) => {
        const shifted = x.map((value) => value + bias);
        const centre = mean(shifted);
        return sum + shifted.reduce((inner, value, i) => inner + c[i] * (value - centre) ** 2, 0);
      }, 0) + p.w[0] * p.w[0] + 3 * p.w[1],
      grad: (p: Biased) => ({ b: p.b.map(() => 0), w: [2 * p.w[0], 3] }),
    });
    const result = await checkProblem(flat, { elementErrors: true, worst: 10 });
    assert.equal(result.verdict, 'pass');
    const biasElements = result.worst.filter((element) => element.element.startsWith('b['));
    assert.equal(biasElements.length, 4);
    // The noise makes some relative errors 1 (|0 - noise| / |noise|): those are the ones the figures leave out.
    assert.ok(biasElements.some((element) => element.numeric !== 0 && element.relError === 1), JSON.stringify(biasElements));
    assert.ok(biasElements.every((element) => element.zeroGradient === true));
    assert.equal(result.zeroGradients, 4);
    assert.ok(result.maxRelError < 1e-6, `max rel ${result.maxRelError}`);
    assert.deepEqual(result.elementErrors![0].relErrors, [0, 0, 0, 0]);
    assert.match(errorFigures(result), /\(4 with gradient ≈ 0 judged by abs error alone\)$/);
  });
});

describe('gradients returned in another shape of the same size', () => {
  type Scaled = { W: number[][]; gamma: number[] };
  // f = Σ_j gamma_j Σ_i W_ij²: dW_ij = 2 gamma_j W_ij, dgamma_j = Σ_i W_ij².
  const W = [[1, 2, 3], [4, 5, 6]];
  const f = (p: Scaled) => p.gamma.reduce((sum, g, j) => sum + g * p.W.reduce((inner, row) => inner + row[j] ** 2, 0), 0);
  const dW = (p: Scaled) => p.W.map((row) => row.map((value, j) => 2 * p.gamma[j] * value));
  const dgamma = (p: Scaled) => p.gamma.map((_, j) => p.W.reduce((inner, row) => inner + row[j] ** 2, 0));
  const problem = (grad: (p: Scaled) => object) => define('scaled', { params: { W, gamma: [0.5, -1, 2] }, f, grad });

  it('checks a keepdims-shaped gradient by its values and warns of the shape', async () => {
    const right = await check(problem((p) => ({ W: dW(p), gamma: [dgamma(p)] })));
    assert.equal(right.verdict, 'pass');
    assert.deepEqual(right.warnings, ['grad(p).gamma has shape [1,3], expected [3] like params.gamma; the values are right once reshaped']);
    const wrong = await check(problem((p) => ({ W: dW(p), gamma: [dgamma(p).map((value, j) => (j === 0 ? value : -value))] })));
    assert.equal(wrong.verdict, 'fail');
    assert.deepEqual(wrong.failedElements, ['gamma[1]', 'gamma[2]']);
    assert.deepEqual(wrong.warnings, ['grad(p).gamma has shape [1,3], expected [3] like params.gamma; once reshaped, 2 of 3 are wrong']);
  });

  it('calls any other shape an error, saying what the values are worth read row-major', async () => {
    // dW transposed: [3,2] for [2,3]. Row-major, its elements land on the wrong places: all but the corners.
    const transposed = await check(problem((p) => ({ W: dW(p)[0].map((_, j) => dW(p).map((row) => row[j])), gamma: dgamma(p) })));
    assert.equal(transposed.verdict, 'error');
    assert.equal(transposed.passed, false);
    assert.equal(errorOf(transposed.error), 'grad(p).W has shape [3,2], expected [2,3] like params.W; once reshaped, 4 of 6 are wrong');
    // Flattened but right: the values say so.
    const flat = await check(problem((p) => ({ W: dW(p).flat(), gamma: dgamma(p) })));
    assert.equal(flat.verdict, 'error');
    assert.equal(errorOf(flat.error), 'grad(p).W has shape [6], expected [2,3] like params.W; the values are right once reshaped');
    // A different size is no reshaping: the error of old.
    const short = await check(problem((p) => ({ W: dW(p).slice(1), gamma: dgamma(p) })));
    assert.match(errorOf(short.error), /^grad\(p\)\.W has shape \[1,3\], expected \[2,3\] like params\.W at the unperturbed point$/);
  });
});

describe('sparse mode', () => {
  it('checks K seeded elements at 2K+1 evaluations, the same ones for the same seed', async () => {
    const x = Array.from({ length: 200 }, (_, i) => Math.sin(i));
    const c = x.map((_, i) => 1 + (i % 3));
    const seen: number[][] = [];
    for (const seed of [1, 1, 2]) {
      const result = await checkProblem(cubic(x, c), { mode: 'sparse', samples: 7, seed, worst: 7 });
      assert.equal(result.evaluations.f, 2 * 7 + 2);
      assert.equal(result.checked, 7);
      seen.push(result.worst.map((e) => e.index[0]).sort((a, b) => a - b));
    }
    assert.deepEqual(seen[0], seen[1]);
    assert.notDeepEqual(seen[0], seen[2]);
  });
});

describe('fast mode', () => {
  const n = 4096;
  const x = Array.from({ length: n }, (_, i) => Math.cos(i) * 0.9);
  const c = x.map((_, i) => 0.5 + (i % 5) / 4);

  it('passes a correct gradient with a handful of evaluations, whatever n', async () => {
    const result = await checkProblem(cubic(x, c), { mode: 'fast' });
    assert.equal(result.verdict, 'pass');
    // Two projections at steps h and 2h, f(x) and its repeat.
    assert.equal(result.evaluations.f, 2 * 4 + 2);
    assert.equal(result.projections.length, 2);
  });

  it('localizes a single wrong element by bisection in O(log n) evaluations', async () => {
    const result = await checkProblem(cubic(x, c, (i) => (i === 3001 ? 0.05 : 0)), { mode: 'fast' });
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.worst.filter((e) => !e.passed).map((e) => e.element), ['x[3001]']);
    assert.ok(result.evaluations.f < 8 * Math.log2(n) * 2, `f evaluations ${result.evaluations.f}`);
  });
});

describe('choosing the cheaper mode, and checks too costly for their time limit', () => {
  it('runs full mode where fast mode could cost more, and says so', async () => {
    // n = 8: full needs 18 evaluations, fast 24 to find one wrong element (4 per projection, 4 per halving, 4).
    const small = await checkProblem(cubic([0.5, -1, 2, 0.25, 1, 1.5, -0.5, 0.75], [1, 2, -1, 3, 1, 1, 1, 1], (i) => (i === 5 ? 1 : 0)), { mode: 'fast' });
    assert.deepEqual([small.mode, small.verdict, small.failedElements], ['full', 'fail', ['x[5]']]);
    assert.equal(small.evaluations.f, 2 * 8 + 2);
    assert.equal(small.note, 'checked in full mode: 18 evaluations for 8 elements, no more than fast mode would need to find one wrong element (24)');
    // n = 16: fast mode pays (10 evaluations passing, 28 for one wrong element, against 34); with every
    // element wrong it costs more than full would, and says so.
    const x = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const c = x.map(() => 1);
    const passing = await checkProblem(cubic(x, c), { mode: 'fast' });
    assert.deepEqual([passing.mode, passing.evaluations.f, passing.note], ['fast', 10, null]);
    const allWrong = await checkProblem(cubic(x, c, () => 1), { mode: 'fast' });
    assert.equal(allWrong.mode, 'fast');
    assert.ok(allWrong.evaluations.f > 34, `fast took ${allWrong.evaluations.f}`);
    assert.equal(allWrong.note, `fast mode took ${allWrong.evaluations.f} evaluations, more than a full check's 34 for these 16 elements: with this many wrong elements, --mode full names them all for less`);
  });

  it('ends a full check that cannot fit its time limit early, with the cost of the cheaper modes', async () => {
    const n = 2_000;
    const x = Array.from({ length: n }, (_, i) => Math.sin(i));
    // About 0.5 ms per evaluation: 2,000 elements need about 2 s, against a limit of 0.2 s.
    const slow = define('slow', {
      params: { x },
      f: (p: Vec) => {
        const until = performance.now() + 0.5;
        while (performance.now() < until);
        return p.x.reduce((sum, value) => sum + value * value, 0);
      },
      grad: (p: Vec) => ({ x: p.x.map((value) => 2 * value) }),
    });
    const result = await checkProblem(slow, {}, { timeLimitSeconds: 0.2 });
    assert.equal(result.verdict, 'error');
    assert.equal(result.error?.kind, 'limit');
    assert.equal(result.checked, 32, 'the two timed chunks');
    const message = errorOf(result.error);
    assert.match(message, /^too costly for full mode: 2000 elements at [\d.]+ ms each \(2 evaluations\) would take about [\d.]+ s, over the 0\.2 s time limit; sparse mode checks 20 samples in 44 evaluations \(≈[\d.]+ ms\), fast mode needs 10 evaluations \(≈[\d.]+ ms; about 56 to find one wrong element\) \(--mode fast or --mode sparse\)$/);
    const estimate = Number(/would take about ([\d.]+) s/.exec(message)![1]);
    assert.ok(estimate >= 2 && estimate < 200, `estimate ${estimate} s`);
    // With time enough, the same check runs to its end.
    assert.equal((await checkProblem(slow, { mode: 'sparse', samples: 5 }, { timeLimitSeconds: 0.2 })).verdict, 'pass');
  });
});

describe('second order', () => {
  it('compares hvp with central differences of grad and localizes a wrong Hessian column', async () => {
    const good = await checkProblem(cubic([0.5, -1, 2], [1, 2, 3]), { order: 2 });
    assert.equal(good.verdict, 'pass');
    assert.deepEqual(good.evaluations, { f: 0, grad: 2 * 3 + 2, hvp: 2, forward: 0, backward: 0 });
    const wrong = define('wrongHessian', {
      params: { x: [0.5, -1, 2] },
      f: (p: Vec) => p.x[0] * p.x[1] + p.x[2] ** 2,
      grad: (p: Vec) => ({ x: [p.x[1], p.x[0], 2 * p.x[2]] }),
      // H = [[0,1,0],[1,0,0],[0,0,2]]; this hvp forgets H[2,2].
      hvp: (_p: Vec, v: Vec) => ({ x: [v.x[1], v.x[0], 0] }),
    });
    const result = await checkProblem(wrong, { order: 2 });
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.worst.filter((e) => !e.passed).map((e) => e.element), ['x[2]']);
  });

  it('skips problems without hvp and layers', async () => {
    const result = await checkProblem(define('noHvp', { params: { x: 1 }, f: (p: { x: number }) => p.x, grad: () => ({ x: 1 }) }), { order: 2 });
    assert.equal(result.verdict, 'skipped');
    assert.equal(result.passed, true);
  });
});

describe('layers', () => {
  type Inputs = { x: number[][] };
  const tanhLayer = (bug: (i: number, j: number) => number) => define('tanh', {
    inputs: { x: [[0.1, -0.4, 0.7], [1.2, -0.3, 0.05]] },
    forward: (inputs: Inputs) => inputs.x.map((row) => row.map(Math.tanh)),
    backward: (inputs: Inputs, gradOutput: number[][]) => ({
      x: inputs.x.map((row, i) => row.map((v, j) => gradOutput[i][j] * (1 - Math.tanh(v) ** 2) * (1 + bug(i, j)))),
    }),
  });

  it('checks backward against the numeric Jacobian of forward', async () => {
    const result = await checkProblem(tanhLayer(() => 0));
    assert.equal(result.kind, 'layer');
    assert.equal(result.verdict, 'pass');
    assert.deepEqual(result.evaluations, { f: 0, grad: 0, hvp: 0, forward: 2 * 6 + 2, backward: 2 });
  });

  it('names the input element whose Jacobian column is wrong', async () => {
    const result = await checkProblem(tanhLayer((i, j) => (i === 1 && j === 2 ? -2 : 0)));
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.worst.filter((e) => !e.passed).map((e) => e.element), ['x[1,2]']);
  });

  it('says which output components of a wrong Jacobian column disagree, from rows of backward', async () => {
    // out = (x0 x1, x1²): column 0 is (x1, 0) and column 1 is (x0, 2 x1); backward gets d out0/dx1 wrong (2 x0 instead of x0).
    const result = await checkProblem(define('product', {
      inputs: { x: [3, 2] },
      forward: (inputs: { x: number[] }) => [inputs.x[0] * inputs.x[1], inputs.x[1] ** 2],
      backward: (inputs: { x: number[] }, g: number[]) => ({ x: [g[0] * inputs.x[1], g[0] * 2 * inputs.x[0] + g[1] * 2 * inputs.x[1]] }),
    }));
    assert.equal(result.verdict, 'fail');
    const [wrong] = result.worst.filter((element) => !element.passed);
    assert.equal(wrong.element, 'x[1]');
    assert.equal(wrong.outputs?.length, 1);
    const [output] = wrong.outputs!;
    assert.equal(output.element, 'out[0]');
    assert.equal(output.analytic, 6);
    assert.ok(Math.abs(output.numeric - 3) < 1e-8, String(output.numeric));
    // The counts are the check's own: the explanation's backward rows and forward calls come after.
    assert.deepEqual(result.evaluations, { f: 0, grad: 0, hvp: 0, forward: 2 * 2 + 2, backward: 2 });
  });

  it('rejects a forward whose output shape changes', async () => {
    const result = await checkProblem(define('shifty', {
      inputs: { x: [1, 2] },
      forward: (inputs: { x: number[] }) => (inputs.x[0] > 1 ? [1, 2, 3] : [1, 2]),
      backward: () => ({ x: [0, 0] }),
    }));
    assert.equal(result.verdict, 'error');
    assert.match(errorOf(result.error), /forward\(inputs\) returned shape \[3\], but \[2\] at the unperturbed inputs with x\[0\] \+ 0\.000001/);
  });
});

describe('problem discovery', () => {
  it('ignores objects of neither shape and explains malformed ones', () => {
    assert.equal(classifyExport('config', { lr: 0.1 }), null);
    assert.equal(classifyExport('fn', () => 1), null);
    assert.throws(() => classifyExport('linreg', { params: { w: [1] }, f: () => 0 }), /linreg: missing grad, expected a function/);
    assert.throws(() => classifyExport('layer', { inputs: { x: [1] }, forward: 3, backward: () => 0 }), /layer: forward is number, expected a function/);
    const throwing = { params: { x: [1] }, f: () => 0, get grad(): never { throw new Error('nope'); } };
    assert.throws(() => classifyExport('getter', throwing), /getter: reading grad threw Error: nope/);
  });

  it('rejects params with NaN or ragged rows, naming the element', async () => {
    const ragged = await checkProblem(define('ragged', { params: { W: [[1, 2], [3]] }, f: () => 0, grad: () => ({ W: [[0, 0], [0]] }) }));
    assert.equal(ragged.verdict, 'error');
    assert.match(errorOf(ragged.error), /params\.W\[1\] has 1 elements, expected 2/);
  });
});

describe('mini-batches', () => {
  // Mean of (w - t_i)^2 over the samples in the batch; the buggy grad divides by the data size instead of the batch size.
  const targets = [1, 2, 3, 4, 5, 6];
  const all = targets.map((_, i) => i);
  const meanSquare = (divideByDataSize: boolean) => define('mean', {
    params: { w: 0.5 },
    data: { size: targets.length },
    f: (p: { w: number }, batch = all) => batch.reduce((s, i) => s + (p.w - targets[i]) ** 2, 0) / batch.length,
    grad: (p: { w: number }, batch = all) => ({
      w: batch.reduce((s, i) => s + 2 * (p.w - targets[i]), 0) / (divideByDataSize ? targets.length : batch.length),
    }),
  });

  it('checks the full batch by default and a seeded mini-batch with batchSize', async () => {
    const full = await check(meanSquare(true));
    assert.equal(full.verdict, 'pass');
    assert.equal(full.batch, null);
    const batched = await checkProblem(meanSquare(true), { batchSize: 3, seed: 4 });
    assert.equal(batched.verdict, 'fail');
    assert.equal(batched.batch?.length, 3);
    assert.equal(new Set(batched.batch).size, 3);
    // Hand-derived: the analytic value is half the true batch derivative (divided by 6, not 3).
    const truth = batched.batch!.reduce((s, i) => s + 2 * (0.5 - targets[i]), 0) / 3;
    assert.ok(Math.abs(batched.worst[0].numeric - truth) < 1e-7);
    assert.ok(Math.abs(batched.worst[0].analytic - truth / 2) < 1e-12);
    assert.equal((await checkProblem(meanSquare(false), { batchSize: 3, seed: 4 })).verdict, 'pass');
  });
});

describe('per-element relative errors (the dashboard heatmap)', () => {
  // f(W) = Σ W_ij², grad 2W, with a sign error in W[1,0]: relative error |−6 − 6| / 6 = 2 there, ~0 elsewhere.
  const problem = classifyExport('squares', {
    params: { W: [[1, 2], [3, 4]], b: [0.5] },
    f: ({ W, b }: { W: number[][]; b: number[] }) => W.flat().reduce((sum, value) => sum + value * value, 0) + b[0] * b[0],
    grad: ({ W, b }: { W: number[][]; b: number[] }) => ({ W: W.map((row, i) => row.map((value, j) => (i === 1 && j === 0 ? -2 : 2) * value)), b: [2 * b[0]] }),
  })!;

  it('keeps every element of every tensor when asked, row-major', async () => {
    const result = await checkProblem(problem, { elementErrors: true });
    const [W, b] = result.elementErrors!;
    assert.deepEqual([W.name, W.shape, b.name, b.shape], ['W', [2, 2], 'b', [1]]);
    assert.ok(Math.abs(W.relErrors[2]! - 2) < 1e-8, `W[1,0]: ${W.relErrors[2]}`);
    for (const index of [0, 1, 3]) assert.ok(W.relErrors[index]! < 1e-8, `W flat ${index}: ${W.relErrors[index]}`);
    assert.ok(b.relErrors[0]! < 1e-8);
    assert.deepEqual([W.kinks, b.kinks], [[], []]);
  });

  it('marks elements a sparse check skipped as null, and keeps nothing unless asked', async () => {
    const sparse = await checkProblem(problem, { elementErrors: true, mode: 'sparse', samples: 2 });
    const values = sparse.elementErrors!.flatMap((tensor) => tensor.relErrors);
    assert.equal(values.filter((value) => value !== null).length, 2);
    assert.equal((await checkProblem(problem, {})).elementErrors, null);
  });
});
