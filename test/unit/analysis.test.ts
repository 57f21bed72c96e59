import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CriticalPointReport,
  analyzeCriticalPoint,
  computeHessian,
  hessianVectorProduct,
  lanczos,
  productSymmetry,
  symmetricEigen,
} from '../../src/core/analysis';
import { type ScalarDefinition, ProblemError, classifyExport } from '../../src/core/problem';
import { asObjective } from '../../src/core/definitions';
import { UserCodeError } from '../../src/core/objective';
import { TensorError } from '../../src/core/tensor';

type XY = { x: number; y: number };

function define(name: string, value: object): ScalarDefinition {
  const definition = classifyExport(name, value);
  assert.ok(definition && definition.kind === 'scalar', `${name} should be a scalar problem`);
  return definition;
}

/** A two-variable problem f(x, y) with its gradient and, optionally, its Hessian as hvp. */
function twoD(
  name: string,
  f: (x: number, y: number) => number,
  grad: (x: number, y: number) => [number, number],
  hessian: ((x: number, y: number) => [[number, number], [number, number]]) | null,
  at: XY = { x: 0, y: 0 },
): ScalarDefinition {
  return define(name, {
    params: { ...at },
    f: (p: XY) => f(p.x, p.y),
    grad: (p: XY) => {
      const [gx, gy] = grad(p.x, p.y);
      return { x: gx, y: gy };
    },
    ...(hessian
      ? {
          hvp: (p: XY, v: XY) => {
            const [[a, b], [c, d]] = hessian(p.x, p.y);
            return { x: a * v.x + b * v.y, y: c * v.x + d * v.y };
          },
        }
      : {}),
  });
}

const saddle = (hvp: boolean) =>
  twoD('saddle', (x, y) => x * x - y * y, (x, y) => [2 * x, -2 * y], hvp ? () => [[2, 0], [0, -2]] : null);

function close(actual: number, expected: number, tolerance: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} differs from ${expected} by more than ${tolerance}`);
}

function closeAll(actual: readonly number[], expected: readonly number[], tolerance: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((value, i) => close(value, expected[i], tolerance, `${what}[${i}]`));
}

function jsonSafe(report: CriticalPointReport): void {
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
}

describe('critical points of two-variable functions', () => {
  for (const hvp of [false, true]) {
    it(`x² - y² at the origin is a saddle, escaped along ±(0, 1) with loss change exactly -α² (${hvp ? 'hvp' : 'finite differences'})`, async () => {
      const report = await analyzeCriticalPoint(saddle(hvp));
      assert.equal(report.critical, true);
      assert.equal(report.loss, 0);
      assert.equal(report.gradientNorm, 0);
      assert.equal(report.hessian.source, hvp ? 'hvp' : 'finite-difference');
      assert.equal(report.hessian.symmetry.consistent, true);
      assert.equal(report.hessian.symmetry.defect, 0);
      assert.equal(report.classification, 'saddle');
      assert.deepEqual(report.spectrum.eigenvalues, [-2, 2]);
      assert.equal(report.spectrum.complete, true);
      assert.equal(report.spectrum.negative, 1);
      assert.equal(report.spectrum.positive, 1);
      assert.equal(report.minimumRatio, 0.5);
      assert.equal(report.conditionNumber, 1);
      const escape = report.escape;
      assert.ok(escape);
      assert.equal(escape.eigenvalue, -2);
      assert.deepEqual(escape.direction, [0, 1]);
      assert.deepEqual(escape.elements, [{ element: 'y', value: 1 }, { element: 'x', value: 0 }]);
      // f(0, ±α) - f(0, 0) = -α², and the quadratic model ½λα² = -α² is exact for a quadratic.
      assert.deepEqual(escape.steps.map((step) => step.step), [1e-3, 1e-2, 1e-1]);
      for (const step of escape.steps) {
        assert.equal(step.lossChange, -step.step * step.step);
        assert.equal(step.predicted, -step.step * step.step);
      }
      assert.equal(
        report.summary,
        'saddle point: 1 of 2 eigenvalues negative (minimum ratio 0.5); escape along (0, 1) lowers the loss by 0.01 at step 0.1 (quadratic model 0.01)',
      );
      // loss and gradient once, the Hessian (2n grad calls or n hvp calls), then ±α for three steps.
      assert.deepEqual(report.evaluations, { f: 1 + 6, grad: 1 + (hvp ? 0 : 4), hvp: hvp ? 2 : 0, forward: 0, backward: 0 });
      jsonSafe(report);
    });
  }

  it('works the same with async user functions', async () => {
    const report = await analyzeCriticalPoint(define('async', {
      params: { x: 0, y: 0 },
      f: async (p: XY) => p.x * p.x - p.y * p.y,
      grad: async (p: XY) => ({ x: 2 * p.x, y: -2 * p.y }),
      hvp: async (_p: XY, v: XY) => ({ x: 2 * v.x, y: -2 * v.y }),
    }));
    assert.equal(report.classification, 'saddle');
    assert.deepEqual(report.spectrum.eigenvalues, [-2, 2]);
    assert.deepEqual(report.escape?.direction, [0, 1]);
  });

  it('x² + 3y² is a minimum with condition number 3 and no escape direction', async () => {
    const report = await analyzeCriticalPoint(twoD('bowl', (x, y) => x * x + 3 * y * y, (x, y) => [2 * x, 6 * y], null));
    assert.equal(report.critical, true);
    assert.equal(report.classification, 'minimum');
    closeAll(report.spectrum.eigenvalues, [2, 6], 1e-9);
    close(report.conditionNumber!, 3, 1e-9);
    assert.equal(report.minimumRatio, 1);
    assert.equal(report.escape, null);
    assert.equal(report.summary, 'minimum: all 2 eigenvalues positive (condition number 3)');
    jsonSafe(report);
  });

  it('-x² - y² is a maximum, escaped along any direction with loss change -α²', async () => {
    const report = await analyzeCriticalPoint(twoD('cap', (x, y) => -x * x - y * y, (x, y) => [-2 * x, -2 * y], null));
    assert.equal(report.classification, 'maximum');
    closeAll(report.spectrum.eigenvalues, [-2, -2], 1e-9);
    assert.equal(report.minimumRatio, 0);
    const escape = report.escape;
    assert.ok(escape);
    close(Math.hypot(...escape.direction), 1, 1e-12, '‖v‖');
    for (const step of escape.steps) close(step.lossChange, -step.step * step.step, 1e-15 + 1e-12 * step.step ** 2, 'loss change');
    assert.match(report.summary, /^maximum: all 2 eigenvalues negative; escape along \(.*\) lowers the loss by 0\.01 at step 0\.1/);
  });

  it('x⁴ + y² is degenerate: one zero eigenvalue, infinite condition number (null)', async () => {
    const report = await analyzeCriticalPoint(twoD('quartic', (x, y) => x ** 4 + y * y, (x, y) => [4 * x ** 3, 2 * y], null));
    assert.equal(report.critical, true);
    assert.equal(report.classification, 'degenerate');
    // Central differences of 4x³ at 0 give 4h² = 4e-10: zero at the default relative tolerance 1e-6.
    closeAll(report.spectrum.eigenvalues, [0, 2], 1e-9);
    assert.equal(report.spectrum.zero, 1);
    assert.equal(report.conditionNumber, null);
    assert.equal(report.nonZeroConditionNumber, 1);
    assert.equal(report.minimumRatio, 0.5);
    assert.equal(report.escape, null);
    assert.match(report.summary, /^degenerate critical point: 1 of 2 eigenvalues zero .*inconclusive$/);
    jsonSafe(report);
  });

  for (const hvp of [false, true]) {
    it(`the monkey saddle x³ - 3xy² at 0 has a zero Hessian: degenerate (${hvp ? 'hvp' : 'finite differences'})`, async () => {
      const report = await analyzeCriticalPoint(twoD(
        'monkey',
        (x, y) => x ** 3 - 3 * x * y * y,
        (x, y) => [3 * x * x - 3 * y * y, -6 * x * y],
        hvp ? (x, y) => [[6 * x, -6 * y], [-6 * y, -6 * x]] : null,
      ));
      assert.equal(report.critical, true);
      assert.equal(report.classification, 'degenerate');
      assert.deepEqual(report.spectrum.eigenvalues, [0, 0]);
      assert.equal(report.spectrum.zero, 2);
      assert.equal(report.minimumRatio, 0);
      assert.equal(report.conditionNumber, null);
      assert.equal(report.nonZeroConditionNumber, null);
      assert.equal(report.summary, 'degenerate critical point: the Hessian is zero, so the second-derivative test is inconclusive');
      jsonSafe(report);
    });
  }

  it('names the escape direction of a larger problem by its largest elements', async () => {
    // f = Σ z_i² - 2(2z0 - z1)²: Hessian 2I - 4wwᵀ with w = (2, -1, 0, 0, 0), lowest eigenvalue 2 - 4·5 = -18 along w/√5.
    type P = { z: number[] };
    const report = await analyzeCriticalPoint(define('valley', {
      params: { z: [0, 0, 0, 0, 0] },
      f: (p: P) => p.z.reduce((sum, v) => sum + v * v, 0) - 2 * (2 * p.z[0] - p.z[1]) ** 2,
      grad: (p: P) => {
        const c = -4 * (2 * p.z[0] - p.z[1]);
        return { z: p.z.map((v, i) => 2 * v + (i === 0 ? 2 * c : i === 1 ? -c : 0)) };
      },
    }));
    assert.equal(report.classification, 'saddle');
    closeAll(report.spectrum.eigenvalues, [-18, 2, 2, 2, 2], 1e-8);
    closeAll(report.escape!.direction, [2 / Math.sqrt(5), -1 / Math.sqrt(5), 0, 0, 0], 1e-8, 'direction');
    for (const step of report.escape!.steps) close(step.lossChange, -9 * step.step ** 2, 1e-12, 'loss change');
    assert.equal(
      report.summary,
      'saddle point: 1 of 5 eigenvalues negative (minimum ratio 0.8); escape along 0.894·z[0] - 0.447·z[1] lowers the loss by 0.09 at step 0.1 (quadratic model 0.09)',
    );
  });

  it('says when the point is not critical, naming the largest gradient element', async () => {
    const bowl = twoD('bowl', (x, y) => x * x + 3 * y * y, (x, y) => [2 * x, 6 * y], null);
    const report = await analyzeCriticalPoint(bowl, new Float64Array([1, -0.5]));
    assert.equal(report.critical, false);
    assert.equal(report.loss, 1.75);
    close(report.gradientNorm, Math.hypot(2, 3), 1e-15);
    assert.deepEqual(report.largestGradient, { element: 'y', value: -3 });
    assert.equal(report.gradientTolerance, 1.75e-6);
    assert.equal(report.classification, 'minimum');
    assert.match(report.summary, /^not a critical point: gradient norm 3\.61 > tolerance 1\.7e-6 \(largest y = -3\); curvature there \(minimum\)/);
    // A looser tolerance makes it critical.
    assert.equal((await analyzeCriticalPoint(bowl, [1, -0.5], { gradientTolerance: 4 })).critical, true);
  });
});

/** Rosenbrock f = (1 - x)² + 100 (y - x²)², whose Hessian is [[2 - 400y + 1200x², -400x], [-400x, 200]]. */
const rosenbrock = (hvp: boolean) =>
  twoD(
    'rosenbrock',
    (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
    hvp ? (x, y) => [[2 - 400 * y + 1200 * x * x, -400 * x], [-400 * x, 200]] : null,
    { x: 1, y: 1 },
  );

/**
 * f(W, b) = Σ_ij b_i sin(W_ij) + exp(b0 b1) + (W00 W11)² over z = (W00, W01, W10, W11, b0, b1),
 * with its Hessian derived by hand.
 */
function mixed(withHvp: boolean): { definition: ScalarDefinition; hessian: (z: number[]) => number[][] } {
  type P = { W: number[][]; b: number[] };
  const flat = (p: P) => [p.W[0][0], p.W[0][1], p.W[1][0], p.W[1][1], p.b[0], p.b[1]];
  const hessian = (z: number[]): number[][] => {
    const [w00, w01, w10, w11, b0, b1] = z;
    const W = [w00, w01, w10, w11];
    const e = Math.exp(b0 * b1);
    const H = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
    for (let k = 0; k < 4; k++) {
      const row = k < 2 ? 0 : 1;
      H[k][k] = -[b0, b1][row] * Math.sin(W[k]);
      H[k][4 + row] = H[4 + row][k] = Math.cos(W[k]);
    }
    H[0][0] += 2 * w11 * w11;
    H[3][3] += 2 * w00 * w00;
    H[0][3] = H[3][0] = 4 * w00 * w11;
    H[4][4] = b1 * b1 * e;
    H[5][5] = b0 * b0 * e;
    H[4][5] = H[5][4] = e + b0 * b1 * e;
    return H;
  };
  const definition = define('mixed', {
    params: { W: [[0.3, -0.7], [1.1, 0.4]], b: [0.5, -0.2] },
    f: (p: P) => {
      let sum = Math.exp(p.b[0] * p.b[1]) + (p.W[0][0] * p.W[1][1]) ** 2;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) sum += p.b[i] * Math.sin(p.W[i][j]);
      return sum;
    },
    grad: (p: P) => {
      const e = Math.exp(p.b[0] * p.b[1]);
      const W = p.W.map((row, i) => row.map((w) => p.b[i] * Math.cos(w)));
      W[0][0] += 2 * p.W[0][0] * p.W[1][1] ** 2;
      W[1][1] += 2 * p.W[0][0] ** 2 * p.W[1][1];
      const b = [0, 1].map((i) => Math.sin(p.W[i][0]) + Math.sin(p.W[i][1]) + p.b[1 - i] * e);
      return { W, b };
    },
    ...(withHvp
      ? {
          hvp: (p: P, v: P) => {
            const H = hessian(flat(p));
            const u = flat(v);
            const out = H.map((row) => row.reduce((sum, h, j) => sum + h * u[j], 0));
            return { W: [[out[0], out[1]], [out[2], out[3]]], b: [out[4], out[5]] };
          },
        }
      : {}),
  });
  return { definition, hessian };
}

describe('Hessians', () => {
  it('Rosenbrock at (1, 1) is [[802, -400], [-400, 200]] (by hand), exactly from hvp and to 1e-6 by differences', async () => {
    const exact = await computeHessian(rosenbrock(true));
    assert.equal(exact.source, 'hvp');
    assert.deepEqual(exact.matrix, [[802, -400], [-400, 200]]);
    assert.deepEqual(exact.names, ['x', 'y']);
    const numeric = await computeHessian(rosenbrock(false));
    assert.equal(numeric.source, 'finite-difference');
    numeric.matrix.forEach((row, i) => closeAll(row, exact.matrix[i], 1e-6, `row ${i}`));
    assert.equal(numeric.symmetry.consistent, true);
    // ... and the minimum there has eigenvalues 501 ± √250601 (trace 1002, determinant 400).
    const report = await analyzeCriticalPoint(rosenbrock(true));
    assert.equal(report.classification, 'minimum');
    assert.equal(report.loss, 0);
    const root = Math.sqrt(250601);
    closeAll(report.spectrum.eigenvalues, [501 - root, 501 + root], 1e-9);
    close(report.conditionNumber!, (501 + root) / (501 - root), 1e-6);
  });

  it('hvp and finite-difference Hessians agree to 1e-6, and both match the hand derivation', async () => {
    const { definition, hessian } = mixed(true);
    const z = [0.3, -0.7, 1.1, 0.4, 0.5, -0.2];
    const byHand = hessian(z);
    const exact = await computeHessian(definition, undefined, { source: 'hvp' });
    const numeric = await computeHessian(definition, undefined, { source: 'finite-difference' });
    assert.deepEqual(exact.names, ['W[0,0]', 'W[0,1]', 'W[1,0]', 'W[1,1]', 'b[0]', 'b[1]']);
    for (let i = 0; i < 6; i++) {
      closeAll(exact.matrix[i], byHand[i], 1e-14, `hvp row ${i}`);
      closeAll(numeric.matrix[i], exact.matrix[i], 1e-6, `difference row ${i}`);
    }
    assert.ok(exact.symmetry.defect < 1e-14);
    assert.ok(numeric.symmetry.consistent);
    // At another point, through values.
    const other = [-0.2, 0.9, 0.1, -1.3, 1.5, 0.7];
    const moved = await computeHessian(definition, other, { source: 'finite-difference' });
    hessian(other).forEach((row, i) => closeAll(moved.matrix[i], row, 1e-6, `row ${i} at another point`));
  });

  it('Hessian-vector products from hvp and from differences of grad agree', async () => {
    const { definition, hessian } = mixed(true);
    const H = hessian([0.3, -0.7, 1.1, 0.4, 0.5, -0.2]);
    const v = new Float64Array([0.2, -1, 0.5, 0.3, -0.7, 1.2]);
    const expected = H.map((row) => row.reduce((sum, h, j) => sum + h * v[j], 0));
    const exact = hessianVectorProduct(definition, undefined, { source: 'hvp' });
    const numeric = hessianVectorProduct(definition, undefined, { source: 'finite-difference' });
    assert.equal(numeric.source, 'finite-difference');
    closeAll(Array.from(await exact.apply(v)), expected, 1e-14, 'hvp');
    closeAll(Array.from(await numeric.apply(v)), expected, 1e-6, 'differences');
    assert.deepEqual(Array.from(await numeric.apply(new Float64Array(6))), [0, 0, 0, 0, 0, 0]);
    assert.equal((await productSymmetry(exact)).consistent, true);
    assert.equal((await productSymmetry(numeric)).consistent, true);
  });

  it('flags a grad whose Jacobian is not symmetric: it is not the gradient of any function', async () => {
    // f = x² + y² but grad = (2x + y, 2y): Jacobian [[2, 1], [0, 2]].
    const definition = twoD('wrong-grad', (x, y) => x * x + y * y, (x, y) => [2 * x + y, 2 * y], null);
    const hessian = await computeHessian(definition);
    assert.equal(hessian.symmetry.consistent, false);
    close(hessian.symmetry.defect, 1, 1e-9);
    close(hessian.symmetry.relativeDefect, 0.5, 1e-9);
    assert.equal(hessian.symmetry.worst?.row, 'x');
    assert.equal(hessian.symmetry.worst?.column, 'y');
    assert.match(hessian.symmetry.warning ?? '', /^grad is inconsistent: its Jacobian is not symmetric \(∂grad\[x\]\/∂y = 1 but ∂grad\[y\]\/∂x = 0;/);
    closeAll(hessian.matrix[0], [2, 0.5], 1e-9, 'symmetrized');
    const report = await analyzeCriticalPoint(definition);
    assert.match(report.summary, /; warning: grad is inconsistent/);
    // Through products only (the Lanczos path) the probes see it too.
    const probed = await productSymmetry(hessianVectorProduct(definition));
    assert.equal(probed.consistent, false);
    assert.match(probed.warning ?? '', /^grad is inconsistent/);
  });

  it('flags an hvp that is not the derivative of grad', async () => {
    const definition = twoD('wrong-hvp', (x, y) => x * x + y * y, (x, y) => [2 * x, 2 * y], () => [[2, 0], [3, 2]]);
    const hessian = await computeHessian(definition);
    assert.equal(hessian.source, 'hvp');
    assert.equal(hessian.symmetry.consistent, false);
    assert.match(hessian.symmetry.warning ?? '', /^hvp is inconsistent: .*hvp\(p, e\[y\]\) gives H\[x, y\] = 0 but hvp\(p, e\[x\]\) gives H\[y, x\] = 3; largest defect 3, 100% of the largest entry\)/);
  });
});

describe('errors in user code', () => {
  it('names the function, the element and the point of a non-finite gradient', async () => {
    const definition = twoD('nan', (x, y) => x * x + y * y, (x, y) => [2 * x, x > 0 ? NaN : 2 * y], null);
    await assert.rejects(analyzeCriticalPoint(definition), (error: unknown) => {
      assert.ok(error instanceof TensorError);
      assert.equal(error.message, 'grad(p).y is NaN, expected a finite number with x + 1.0e-5 (Hessian column 0)');
      return true;
    });
  });

  it('passes on what an async hvp rejected with, and where', async () => {
    const definition = define('rejects', {
      params: { w: [1, 2] },
      f: (p: { w: number[] }) => p.w[0] ** 2,
      grad: (p: { w: number[] }) => ({ w: [2 * p.w[0], 0] }),
      hvp: async () => {
        throw new Error('boom');
      },
    });
    await assert.rejects(analyzeCriticalPoint(definition), (error: unknown) => {
      assert.ok(error instanceof UserCodeError);
      assert.equal(error.functionName, 'hvp');
      assert.equal(error.message, 'hvp threw Error: boom at the point with v = e_0 (w[0])');
      return true;
    });
  });

  it('rejects gradients of the wrong shape, points of the wrong size, and layers', async () => {
    const definition = define('shape', { params: { w: [1, 2] }, f: () => 0, grad: () => ({ w: [0] }) });
    await assert.rejects(analyzeCriticalPoint(definition), /^TensorError: grad\(p\)\.w has shape \[1\], expected \[2\] like params\.w at the point$/);
    const fine = define('fine', { params: { w: [1, 2] }, f: () => 0, grad: () => ({ w: [0, 0] }) });
    await assert.rejects(analyzeCriticalPoint(fine, [1, 2, 3]), /the point has 3 elements, expected 2/);
    await assert.rejects(analyzeCriticalPoint(fine, [1, NaN]), /the point's element 1 \(w\[1\]\) is NaN, expected a finite number/);
    const layer = classifyExport('layer', { inputs: { x: [1] }, forward: () => 0, backward: () => ({ x: [0] }) });
    assert.throws(() => asObjective(layer as unknown as ScalarDefinition), ProblemError);
  });

  it('is not fooled by user code that writes into its argument', async () => {
    const definition = define('mutating', {
      params: { w: [0, 0] },
      f: (p: { w: number[] }) => {
        const value = p.w[0] ** 2 - p.w[1] ** 2;
        p.w[0] = 100;
        return value;
      },
      grad: (p: { w: number[] }) => {
        const g = { w: [2 * p.w[0], -2 * p.w[1]] };
        p.w.fill(7);
        return g;
      },
    });
    const report = await analyzeCriticalPoint(definition);
    assert.deepEqual(report.spectrum.eigenvalues, [-2, 2]);
    assert.equal(report.escape?.steps[2].lossChange, -(0.1 ** 2));
  });
});

/** f = ½ Σ d_i x_i² over one tensor of n elements: Hessian diag(d). */
function diagonalQuadratic(d: readonly number[], withHvp = true): ScalarDefinition {
  type P = { x: Float64Array };
  return define('diagonal', {
    params: { x: new Float64Array(d.length) },
    f: (p: P) => p.x.reduce((sum, xi, i) => sum + 0.5 * d[i] * xi * xi, 0),
    grad: (p: P) => ({ x: p.x.map((xi, i) => d[i] * xi) }),
    ...(withHvp ? { hvp: (_p: P, v: P) => ({ x: v.x.map((vi, i) => d[i] * vi) }) } : {}),
  });
}

describe('Lanczos for large problems', () => {
  it('recovers the 6 lowest and 6 highest of 1000 known eigenvalues to 1e-8 without forming the Hessian', async () => {
    const n = 1000;
    // Eigenvalues -1 ... 2, evenly spaced, in a scrambled order.
    const d = Array.from({ length: n }, (_, i) => -1 + (3 * ((i * 337) % n)) / (n - 1));
    const report = await analyzeCriticalPoint(diagonalQuadratic(d));
    assert.equal(report.spectrum.method, 'lanczos');
    assert.equal(report.spectrum.complete, false);
    assert.equal(report.spectrum.converged, true);
    assert.ok(report.spectrum.iterations! <= 300);
    const sorted = [...d].sort((a, b) => a - b);
    closeAll(report.spectrum.eigenvalues, [...sorted.slice(0, 6), ...sorted.slice(-6)], 1e-8, 'extremes');
    assert.equal(report.evaluations.hvp, report.spectrum.iterations! + 2); // plus two symmetry probes
    assert.equal(report.classification, 'saddle');
    assert.equal(report.minimumRatio, null); // the middle of the spectrum is unknown
    assert.equal(report.conditionNumber, null);
    // Escape along e_j for the j with d_j = -1, where the loss falls by exactly ½α².
    const escape = report.escape!;
    const j = d.indexOf(-1);
    close(escape.direction[j], 1, 1e-8, 'escape direction');
    assert.equal(escape.elements[0].element, `x[${j}]`);
    for (const step of escape.steps) close(step.lossChange, -0.5 * step.step ** 2, 1e-8 * step.step ** 2, 'loss change');
    assert.match(report.summary, /^saddle point: at least 6 of 1000 eigenvalues negative; escape along x\[\d+\] lowers the loss by 0\.005 at step 0\.1 \(quadratic model 0\.005\); extreme eigenvalues by Lanczos \(\d+ iterations\)$/);
    jsonSafe(report);
  });

  it('classifies a definite Hessian from its extremes, with its condition number, also by differences of grad', async () => {
    const n = 60;
    const d = Array.from({ length: n }, (_, i) => 0.5 + 2 ** (i / 10));
    for (const withHvp of [true, false]) {
      const report = await analyzeCriticalPoint(diagonalQuadratic(d, withHvp), undefined, { denseLimit: 10, k: 3 });
      assert.equal(report.spectrum.method, 'lanczos');
      assert.equal(report.hessian.source, withHvp ? 'hvp' : 'finite-difference');
      assert.equal(report.classification, 'minimum');
      assert.equal(report.minimumRatio, 1);
      closeAll(report.spectrum.eigenvalues, [...d.slice(0, 3), ...d.slice(-3)], 1e-7);
      close(report.conditionNumber!, d[n - 1] / d[0], 1e-7);
      assert.equal(report.escape, null);
    }
  });

  it('finds repeated eigenvalues by restarting in invariant subspaces', async () => {
    const d = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : 3));
    const result = await lanczos((v) => v.map((vi, i) => d[i] * vi), 50, { k: 4 });
    assert.equal(result.converged, true);
    closeAll(result.pairs.map((pair) => pair.value), [1, 1, 1, 1, 3, 3, 3, 3], 1e-12);
    // Ritz vectors of a repeated eigenvalue are orthonormal eigenvectors.
    const y0 = result.vector(0);
    const y1 = result.vector(1);
    close(y0.reduce((sum, value, i) => sum + value * y1[i], 0), 0, 1e-10, 'y0·y1');
    y0.forEach((value, i) => d[i] === 3 && close(value, 0, 1e-10, `y0[${i}]`));
  });

  it('gives the whole spectrum when 2k reaches n', async () => {
    const result = await lanczos((v) => Float64Array.from([2 * v[0] + v[1], v[0] + 2 * v[1], 5 * v[2]]), 3);
    assert.equal(result.pairs.length, 3);
    closeAll(result.pairs.map((pair) => pair.value), [1, 3, 5], 1e-12);
    assert.equal(result.converged, true);
  });
});

/** Q = H_1 H_2 ... with Householder reflections H = I - 2uuᵀ/uᵀu: orthogonal by construction. */
function orthogonalFrom(vectors: number[][], n: number): number[][] {
  let Q: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (const u of vectors) {
    const uu = u.reduce((sum, value) => sum + value * value, 0);
    if (uu < 1e-6) continue;
    // Q ← Q (I - 2uuᵀ/uᵀu)
    Q = Q.map((row) => {
      const c = (2 * row.reduce((sum, value, j) => sum + value * u[j], 0)) / uu;
      return row.map((value, j) => value - c * u[j]);
    });
  }
  return Q;
}

describe('property: the quadratic ½xᵀAx with A = QΛQᵀ', () => {
  const sampleArbitrary = fc.integer({ min: 1, max: 8 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      signs: fc.array(fc.constantFrom(-1, 0, 1), { minLength: n, maxLength: n }),
      magnitudes: fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
      reflections: fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 3 }),
      hvp: fc.boolean(),
    }),
  );

  it('is classified by the signs of Λ, and its eigenvalues are Λ to 1e-8', async () => {
    await fc.assert(
      fc.asyncProperty(sampleArbitrary, async ({ n, signs, magnitudes, reflections, hvp }) => {
        const lambda = signs.map((sign, i) => sign * magnitudes[i]);
        const Q = orthogonalFrom(reflections, n);
        const A = Q.map((row) => Q.map((other) => row.reduce((sum, q, k) => sum + q * lambda[k] * other[k], 0)));
        const times = (x: ArrayLike<number>) => A.map((row) => row.reduce((sum, a, j) => sum + a * x[j], 0));
        type P = { x: number[] };
        const definition = define('quadratic', {
          params: { x: new Array<number>(n).fill(0) },
          f: (p: P) => 0.5 * times(p.x).reduce((sum, value, i) => sum + value * p.x[i], 0),
          grad: (p: P) => ({ x: times(p.x) }),
          ...(hvp ? { hvp: (_p: P, v: P) => ({ x: times(v.x) }) } : {}),
        });
        const report = await analyzeCriticalPoint(definition);
        const negative = signs.filter((sign) => sign < 0).length;
        const positive = signs.filter((sign) => sign > 0).length;
        const expected = negative > 0 && positive > 0
          ? 'saddle'
          : negative + positive < n
            ? 'degenerate'
            : positive === n ? 'minimum' : 'maximum';
        assert.equal(report.critical, true);
        assert.equal(report.classification, expected);
        closeAll(report.spectrum.eigenvalues, [...lambda].sort((a, b) => a - b), 1e-8, 'eigenvalues');
        assert.equal(report.spectrum.negative, negative);
        assert.equal(report.spectrum.positive, positive);
        assert.equal(report.minimumRatio, positive / n);
        if (expected === 'saddle' || expected === 'maximum') {
          // The escape direction is a unit eigenvector of the lowest eigenvalue: Av = λv.
          const v = report.escape!.direction;
          const lowest = Math.min(...lambda);
          closeAll(times(v), v.map((value) => lowest * value), 1e-7, 'Av - λv');
        } else {
          assert.equal(report.escape, null);
        }
        jsonSafe(report);
      }),
      { numRuns: 100 },
    );
  });

  it('symmetricEigen survives entries near underflow (which make ml-matrix tql2 throw)', () => {
    const { values, vectors } = symmetricEigen([[0, 1e-321], [1e-321, -0.1]]);
    assert.deepEqual(values, [-0.1, 0]);
    assert.deepEqual(vectors.map((v) => Array.from(v, Math.abs)), [[0, 1], [1, 0]]);
    assert.deepEqual(symmetricEigen([[0, 0], [0, 0]]).values, [0, 0]);
    assert.deepEqual(symmetricEigen([]).values, []);
  });

  it('symmetricEigen reconstructs A = VΛVᵀ', () => {
    fc.assert(
      fc.property(sampleArbitrary, ({ n, signs, magnitudes, reflections }) => {
        const lambda = signs.map((sign, i) => sign * magnitudes[i]);
        const Q = orthogonalFrom(reflections, n);
        const A = Q.map((row) => Q.map((other) => row.reduce((sum, q, k) => sum + q * lambda[k] * other[k], 0)));
        const { values, vectors } = symmetricEigen(A);
        closeAll(values, [...lambda].sort((a, b) => a - b), 1e-10);
        for (let i = 0; i < n; i++) {
          const row = A[i].map((_, j) => values.reduce((sum, value, k) => sum + vectors[k][i] * value * vectors[k][j], 0));
          closeAll(row, A[i], 1e-10, `row ${i}`);
        }
      }),
    );
  });
});
