import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckOptions, checkProblem } from '../../src/core/gradcheck';
import { type Problem, type ProblemDefinition, classifyExport } from '../../src/core/problem';
import { BUILTIN_PROBLEMS, type BuiltinOptions, type BuiltinProblem, findBuiltin } from '../../src/core/problems';
import { blobs, linearData, spiral } from '../../src/core/problems/datasets';
import { symmetricEigen } from '../../src/core/analysis';

const eigenvalues = (matrix: number[][]) => symmetricEigen(matrix).values;
import { quadraticEigenvalues } from '../../src/core/problems/quadratic';
import { Random } from '../../src/core/random';
import type { TensorTree } from '../../src/core/tensor';

type Tree = Record<string, unknown>;

const NAMES = [
  'rosenbrock',
  'beale',
  'himmelblau',
  'saddle',
  'monkey-saddle',
  'quadratic',
  'linear-regression',
  'logistic-regression',
  'softmax-regression',
  'mlp',
];
const DATA_PROBLEMS = ['linear-regression', 'logistic-regression', 'softmax-regression', 'mlp'];

function builtin(name: string): BuiltinProblem {
  const found = findBuiltin(name);
  assert.ok(found, `no built-in ${name}`);
  return found;
}

function create(name: string, options?: BuiltinOptions): Problem {
  return builtin(name).create(options);
}

function define(name: string, problem: Problem): ProblemDefinition {
  const definition = classifyExport(name, problem);
  assert.ok(definition, `${name} should be a problem`);
  return definition;
}

/** A copy of a tensor tree with every number mapped. */
function mapTree(tree: unknown, fn: (value: number) => number): unknown {
  if (typeof tree === 'number') return fn(tree);
  if (Array.isArray(tree)) return tree.map((item) => mapTree(item, fn));
  return Object.fromEntries(Object.entries(tree as Tree).map(([key, value]) => [key, mapTree(value, fn)]));
}

function flatten(tree: unknown): number[] {
  if (typeof tree === 'number') return [tree];
  if (Array.isArray(tree)) return tree.flatMap(flatten);
  return Object.keys(tree as Tree)
    .sort()
    .flatMap((key) => flatten((tree as Tree)[key]));
}

function at(problem: Problem, params: unknown): Problem {
  return { ...problem, params: params as TensorTree };
}

function xy(point: readonly number[]): TensorTree {
  return { x: point.slice() };
}

/** Seeded points to check at: uniform in the plot window for 2-D problems, the start plus N(0, 0.5²) otherwise. */
function randomPoints(problem: BuiltinProblem, params: unknown, count: number, seed: number): unknown[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => {
    if (problem.bounds && flatten(params).length === 2) {
      const { x, y } = problem.bounds;
      return xy([x[0] + (x[1] - x[0]) * random.uniform(), y[0] + (y[1] - y[0]) * random.uniform()]);
    }
    return mapTree(params, (v) => v + 0.5 * random.normal());
  });
}

/** The Hessian at `point` of a 2-D surface, column by column from hvp. */
async function hessian2(problem: Problem, point: readonly number[]): Promise<number[][]> {
  const columns = await Promise.all([[1, 0], [0, 1]].map((e) => problem.hvp!(xy(point), xy(e))));
  return [0, 1].map((i) => columns.map((column) => (column.x as number[])[i]));
}

function close(actual: number, expected: number, tolerance: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} ${actual} is not within ${tolerance} of ${expected}`);
}

async function expectPass(definition: ProblemDefinition, options: Partial<CheckOptions>, label: string): Promise<void> {
  const result = await checkProblem(definition, options);
  assert.equal(result.verdict, 'pass', `${label}: ${result.verdict} ${result.error ?? ''} ${JSON.stringify(result.worst.slice(0, 2))}`);
  assert.equal(result.checked, result.size, label);
}

describe('the built-in list', () => {
  it('has every problem once, by its kebab-case name', () => {
    assert.deepEqual(BUILTIN_PROBLEMS.map((p) => p.name), NAMES);
    for (const problem of BUILTIN_PROBLEMS) assert.equal(findBuiltin(problem.name), problem);
    assert.equal(findBuiltin('Rosenbrock'), undefined);
    assert.equal(findBuiltin('nope'), undefined);
  });

  it('describes each problem in one or two sentences and states its dimension', () => {
    for (const problem of BUILTIN_PROBLEMS) {
      const sentences = problem.description.match(/[.!?](\s|$)/g) ?? [];
      assert.ok(sentences.length >= 1 && sentences.length <= 2, `${problem.name}: ${problem.description}`);
      const created = problem.create();
      assert.equal(flatten(created.params).length, problem.dimension, problem.name);
      assert.equal(typeof created.description, 'string');
    }
  });

  it('gives 2-D problems params { x: start }, a plot window holding start and minima, and minima among the critical points', () => {
    for (const problem of BUILTIN_PROBLEMS.filter((p) => p.dimension === 2)) {
      const { bounds, start, minima, criticalPoints } = problem;
      assert.ok(bounds && start && minima && criticalPoints, problem.name);
      assert.deepEqual(problem.create().params, { x: start });
      const inside = ([x, y]: number[]) => x >= bounds.x[0] && x <= bounds.x[1] && y >= bounds.y[0] && y <= bounds.y[1];
      assert.ok(inside(start), problem.name);
      for (const point of criticalPoints.map((c) => c.point)) assert.ok(inside(point), `${problem.name} ${point}`);
      assert.deepEqual(minima, criticalPoints.filter((c) => c.kind === 'minimum').map((c) => c.point));
      assert.equal(problem.create().data, undefined);
    }
  });

  it('starts elsewhere with the start option and rejects unknown or malformed options', () => {
    assert.deepEqual(create('himmelblau', { start: [1, -2] }).params, { x: [1, -2] });
    assert.throws(() => create('quadratic', { conditon: 10 }), /quadratic: unknown option conditon/);
    assert.throws(() => create('quadratic', { condition: 0.5 }), /quadratic: option condition is 0.5, expected a number >= 1/);
    assert.throws(() => create('quadratic', { dimension: 2.5 }), /expected an integer >= 2/);
    assert.throws(() => create('mlp', { activation: 'sigmoid' }), /mlp: option activation is "sigmoid", expected one of 'relu', 'tanh'/);
    assert.throws(() => create('saddle', { start: [1] }), /saddle: option start is \[1\], expected 2 finite numbers/);
    assert.throws(() => create('rosenbrock', { seed: 1.5 }), /option seed is 1.5, expected an integer/);
  });

  it('never shares mutable params between two problems', () => {
    const first = create('rosenbrock');
    (first.params.x as number[])[0] = 42;
    assert.deepEqual(create('rosenbrock').params, { x: [-1.5, 2] });
    assert.deepEqual(builtin('rosenbrock').start, [-1.5, 2]);
  });
});

describe('gradient checks of every built-in (full mode)', () => {
  // [name, options, seeded random points besides the start]; the MLP (2·|params| + 4 passes over 300 samples per check) gets fewer.
  const variants: [string, BuiltinOptions, number][] = [
    ...NAMES.map((name): [string, BuiltinOptions, number] => [name, {}, name === 'mlp' ? 2 : 3]),
    ['quadratic', { dimension: 6, condition: 1000, seed: 3 }, 3],
    ['logistic-regression', { l2: 0.1, seed: 2 }, 3],
    ['softmax-regression', { dataset: 'blobs', l2: 0.05 }, 3],
    ['mlp', { activation: 'tanh', hidden: 8, seed: 1 }, 2],
  ];
  for (const [name, options, count] of variants) {
    it(`${name} ${JSON.stringify(options)}: order 1${findBuiltin(name)?.create().hvp ? ' and 2' : ''} at the start and ${count} seeded points`, async () => {
      const problem = create(name, options);
      const points = [problem.params, ...randomPoints(builtin(name), problem.params, count, 11)];
      for (const [k, point] of points.entries()) {
        const definition = define(name, at(problem, point));
        await expectPass(definition, { order: 1 }, `${name} point ${k} order 1`);
        if (problem.hvp) await expectPass(definition, { order: 2 }, `${name} point ${k} order 2`);
        else assert.ok(!DATA_PROBLEMS.slice(0, 3).includes(name), `${name} is convex and should have hvp`);
      }
    });
  }

  it('checks the data problems on a seeded mini-batch too', async () => {
    for (const name of DATA_PROBLEMS) {
      const problem = create(name);
      const result = await checkProblem(define(name, problem), { batchSize: 16, seed: 5 });
      assert.equal(result.verdict, 'pass', name);
      assert.equal(result.batch?.length, 16);
    }
  });
});

describe('hand-derived values', () => {
  it('Rosenbrock: f(1,1) = 0 with zero gradient, f(-1.5, 2) = 12.5, Hessian [[802,-400],[-400,200]] at (1,1)', async () => {
    const problem = create('rosenbrock');
    assert.equal(await problem.f(xy([1, 1])), 0);
    assert.deepEqual(flatten(await problem.grad(xy([1, 1]))).map(Math.abs), [0, 0]); // -2(1 − x) is -0 at x = 1
    assert.equal(await problem.f(problem.params), 2.5 ** 2 + 100 * 0.25 ** 2);
    assert.deepEqual(await problem.grad(xy([0, 0])), { x: [-2, 0] });
    assert.deepEqual(await hessian2(problem, [1, 1]), [[802, -400], [-400, 200]]);
    const [flat, steep] = eigenvalues(await hessian2(problem, [1, 1]));
    close(steep / flat, 2508, 1, 'curvature ratio across / along the valley');
  });

  it('Beale: f(3, 0.5) = 0 with zero gradient; f(0, 1) = 1.5² + 2.25² + 2.625²', async () => {
    const problem = create('beale');
    assert.equal(await problem.f(xy([3, 0.5])), 0);
    assert.deepEqual(await problem.grad(xy([3, 0.5])), { x: [0, 0] });
    assert.equal(await problem.f(xy([0, 1])), 14.203125);
    // At x = 0 only the mixed derivative survives: 2(1.5 + 2·2.25 + 3·2.625) = 27.75.
    assert.deepEqual(await hessian2(problem, [0, 1]), [[0, 27.75], [27.75, 0]]);
  });

  it('Himmelblau: four minima with f = 0 and the maximum f(-0.270845, -0.923039) ≈ 181.617', async () => {
    const problem = create('himmelblau');
    const minima = builtin('himmelblau').minima!;
    assert.equal(minima.length, 4);
    assert.equal(await problem.f(xy([3, 2])), 0);
    for (const point of minima) close(await problem.f(xy(point)), 0, 1e-20, `f(${point})`);
    close(await problem.f(xy([-0.270845, -0.923039])), 181.617, 1e-3, 'maximum');
    const kinds = builtin('himmelblau').criticalPoints!.map((c) => c.kind);
    assert.deepEqual([kinds.filter((k) => k === 'maximum').length, kinds.filter((k) => k === 'saddle').length], [1, 4]);
  });

  it('saddle: Hessian diag(2, -2) everywhere; f and grad by hand', async () => {
    const problem = create('saddle');
    for (const point of [[0, 0], [1, 1e-3], [-0.7, 2]]) assert.deepEqual(await hessian2(problem, point), [[2, 0], [0, -2]]);
    assert.equal(await problem.f(xy([3, 2])), 5);
    assert.deepEqual(await problem.grad(xy([3, 2])), { x: [6, -4] });
    assert.deepEqual(problem.params, { x: [1, 1e-3] });
  });

  it('monkey saddle: gradient and Hessian vanish at the origin; f(1, 1) = -2', async () => {
    const problem = create('monkey-saddle');
    assert.deepEqual(flatten(await problem.grad(xy([0, 0]))).map(Math.abs), [0, 0]);
    assert.deepEqual(flatten(await hessian2(problem, [0, 0])).map(Math.abs), [0, 0, 0, 0]);
    assert.equal(await problem.f(xy([1, 1])), -2);
    assert.deepEqual(await problem.grad(xy([1, 1])), { x: [0, -6] });
  });

  it('quadratic: Hessian eigenvalues 1 and κ in 2-D with coupled coordinates, κ^(i/(n-1)) in n-D', async () => {
    assert.deepEqual(quadraticEigenvalues(2, 100), [1, 100]);
    const spread = quadraticEigenvalues(5, 1e4);
    assert.equal(spread[0], 1);
    assert.equal(spread[4], 1e4);
    spread.forEach((lambda, i) => close(lambda, 10 ** i, 1e-9 * 10 ** i));
    for (const [options, n, condition] of [[{}, 2, 100], [{ condition: 10 }, 2, 10], [{ dimension: 6, condition: 1000, seed: 4 }, 6, 1000]] as const) {
      const problem = create('quadratic', options);
      const origin = xy(new Array<number>(n).fill(0));
      const columns = await Promise.all(Array.from({ length: n }, (_, j) => problem.hvp!(origin, xy(Array.from({ length: n }, (_, i) => (i === j ? 1 : 0))))));
      const matrix = Array.from({ length: n }, (_, i) => columns.map((column) => (column.x as number[])[i]));
      eigenvalues(matrix).forEach((lambda, i) => close(lambda, quadraticEigenvalues(n, condition)[i], 1e-10 * condition, `λ${i}`));
      assert.ok(Math.abs(matrix[0][1]) > 0.1, 'coordinates are coupled');
      assert.equal(await problem.f(origin), 0);
      // f = ½ xᵀAx, so f(x) = ½ x·grad(x).
      const x = problem.params.x as number[];
      const g = (await problem.grad(problem.params)).x as number[];
      close(await problem.f(problem.params), 0.5 * x.reduce((s, xi, i) => s + xi * g[i], 0), 1e-12 * condition);
    }
  });

});

describe('critical points', () => {
  for (const problem of BUILTIN_PROBLEMS.filter((p) => p.criticalPoints)) {
    it(`${problem.name}: gradient ~0 at each listed point, and the Hessian agrees with its kind`, async () => {
      const created = problem.create();
      for (const { point, kind } of problem.criticalPoints!) {
        const gradient = flatten(await created.grad(xy(point)));
        assert.ok(Math.hypot(...gradient) < 1e-10, `${problem.name} at ${point}: gradient ${gradient}`);
        const [low, high] = eigenvalues(await hessian2(created, point));
        const found = Math.min(Math.abs(low), Math.abs(high)) < 1e-9 ? 'degenerate' : low > 0 ? 'minimum' : high < 0 ? 'maximum' : 'saddle';
        assert.equal(found, kind, `${problem.name} at ${point}: eigenvalues ${low}, ${high}`);
      }
    });
  }
});

describe('data problems', () => {
  for (const name of DATA_PROBLEMS) {
    it(`${name}: f and grad are means over the batch, the full data set without one`, async () => {
      const problem = create(name);
      const size = problem.data!.size;
      const p = randomPoints(builtin(name), problem.params, 1, 3)[0] as TensorTree;
      const all = Array.from({ length: size }, (_, i) => i);
      assert.equal(await problem.f(p, all), await problem.f(p));
      assert.deepEqual(await problem.grad(p, all), await problem.grad(p));
      const batch = new Random(9).sample(size, 12);
      const losses = await Promise.all(batch.map((i) => problem.f(p, [i])));
      close(await problem.f(p, batch), losses.reduce((a, b) => a + b, 0) / batch.length, 1e-12, 'batch mean');
      const grads = await Promise.all(batch.map(async (i) => flatten(await problem.grad(p, [i]))));
      const batchGrad = flatten(await problem.grad(p, batch));
      batchGrad.forEach((g, k) => close(g, grads.reduce((s, row) => s + row[k], 0) / batch.length, 1e-12, `grad[${k}]`));
      // The batch is read, not kept or changed; repeated indices weigh twice.
      const twice = await problem.f(p, [batch[0], batch[0], batch[1]]);
      close(twice, (2 * losses[0] + losses[1]) / 3, 1e-12, 'repeated index');
      await assert.rejects(async () => problem.f(p, []), /batch is empty/);
      await assert.rejects(async () => problem.grad(p, [size]), new RegExp(`batch index ${size} is not a sample index in \\[0, ${size}\\)`));
    });

    it(`${name}: the same seed gives the same data, another seed different data`, async () => {
      const [a, b, c] = [7, 7, 8].map((seed) => create(name, { seed }));
      assert.deepEqual(a.params, b.params);
      const p = randomPoints(builtin(name), a.params, 1, 4)[0] as TensorTree;
      const perSample = (problem: Problem) => Promise.all([0, 1, 2, 50, 150].map((i) => problem.f(p, [i])));
      assert.deepEqual(await perSample(a), await perSample(b));
      const [same, other] = [await perSample(a), await perSample(c)];
      assert.ok(same.some((loss, k) => loss !== other[k]), `${name}: seeds 7 and 8 gave the same losses`);
    });
  }

  it('add the L2 penalty λ/2·|w|² to every sample of logistic and softmax regression', async () => {
    for (const [name, weights] of [['logistic-regression', 'w'], ['softmax-regression', 'W']] as const) {
      const plain = create(name);
      const penalized = create(name, { l2: 0.3 });
      const p = randomPoints(builtin(name), plain.params, 1, 6)[0] as TensorTree;
      const squared = flatten(p[weights]).reduce((s, v) => s + v * v, 0);
      for (const batch of [undefined, [3], [1, 4, 9]]) {
        close((await penalized.f(p, batch)) - (await plain.f(p, batch)), 0.15 * squared, 1e-12, `${name} ${batch}`);
      }
    }
  });

  it('linear-regression: 256 samples of 5 features; data with no noise is fitted exactly by the true weights', async () => {
    assert.equal(create('linear-regression').data!.size, 256);
    assert.deepEqual(create('linear-regression').params, { w: [0, 0, 0, 0, 0], b: 0 });
    const { x, y, w, b } = linearData(new Random(1), 20, 3, 0);
    x.forEach((row, i) => close(y[i], row.reduce((s, v, j) => s + v * w[j], b), 1e-12));
  });

  it('logistic-regression: 256 samples, 2 weights and a bias, balanced classes', () => {
    const problem = create('logistic-regression');
    assert.equal(problem.data!.size, 256);
    assert.deepEqual(problem.params, { w: [0, 0], b: 0 });
    assert.equal(create('logistic-regression', { samples: 9 }).data!.size, 9);
  });

  it("spiral: CS231n's data, 3 classes of 100 points, radius i/99, starting at the origin", () => {
    const { x, y } = spiral(new Random(0));
    assert.equal(x.length, 300);
    for (let c = 0; c < 3; c++) {
      assert.deepEqual(y.slice(100 * c, 100 * (c + 1)), new Array<number>(100).fill(c));
      assert.deepEqual(x[100 * c].map(Math.abs), [0, 0]);
      for (let i = 0; i < 100; i++) close(Math.hypot(...x[100 * c + i]), i / 99, 1e-15);
    }
    assert.equal(create('softmax-regression').data!.size, 300);
    assert.equal(create('mlp').data!.size, 300);
  });

  it('blobs: points scattered around centers on a circle', () => {
    const { x, y } = blobs(new Random(0), 400, 3, 2, 0.5);
    for (let k = 0; k < 3; k++) {
      const points = x.filter((_, i) => y[i] === k);
      assert.equal(points.length, 400);
      const angle = Math.PI / 4 + (2 * Math.PI * k) / 3;
      close(points.reduce((s, p) => s + p[0], 0) / 400, 2 * Math.cos(angle), 0.1);
      close(points.reduce((s, p) => s + p[1], 0) / 400, 2 * Math.sin(angle), 0.1);
    }
  });

  it('mlp: 2-16-16-3 with He init for ReLU and Xavier init for tanh', () => {
    const std = (matrix: unknown) => {
      const values = flatten(matrix);
      return Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    };
    const relu = create('mlp').params as Record<string, number[][] | number[]>;
    assert.deepEqual(['W1', 'W2', 'W3'].map((key) => [relu[key].length, (relu[key][0] as number[]).length]), [[2, 16], [16, 16], [16, 3]]);
    close(std(relu.W2), Math.sqrt(2 / 16), 0.2 * Math.sqrt(2 / 16), 'He std');
    assert.deepEqual(relu.b1, new Array<number>(16).fill(0.01));
    const tanh = create('mlp', { activation: 'tanh' }).params as Record<string, number[]>;
    close(std(tanh.W2), Math.sqrt(2 / 32), 0.2 * Math.sqrt(2 / 32), 'Xavier std');
    assert.deepEqual(tanh.b1, new Array<number>(16).fill(0));
    assert.equal(flatten(create('mlp', { hidden: 4 }).params).length, 2 * 4 + 4 + 4 * 4 + 4 + 4 * 3 + 3);
  });
});
