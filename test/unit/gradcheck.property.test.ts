import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type CheckMode, checkProblem } from '../../src/core/gradcheck';
import { classifyExport } from '../../src/core/problem';

// A fixed seed keeps CI reproducible (fast mode is probabilistic: an unlucky draw is a real
// miss, not noise, and must be reproducible to be looked at); change it to explore more inputs.
fc.configureGlobal({ seed: 20261123 });

type Shape = number[];

/** Nested array of the given shape from a flat list. */
function nest(shape: Shape, flat: number[], offset = 0): number | unknown[] {
  if (shape.length === 0) return flat[offset];
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(shape.slice(1), flat, offset + i * stride));
}

const shapeArbitrary = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const problemArbitrary: fc.Arbitrary<Sample> = fc
  .array(shapeArbitrary, { minLength: 1, maxLength: 3 })
  .chain((shapes) => {
    const size = shapes.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
    const value = fc.double({ min: -2, max: 2, noNaN: true });
    return fc.record({
      shapes: fc.constant(shapes),
      x: fc.array(value, { minLength: size, maxLength: size }),
      a: fc.array(value, { minLength: size, maxLength: size }),
      b: fc.array(value, { minLength: size, maxLength: size }),
      culprit: fc.integer({ min: 0, max: size - 1 }),
      sign: fc.constantFrom(-1, 1),
    });
  });

interface Sample {
  shapes: Shape[];
  x: number[];
  a: number[];
  b: number[];
  culprit: number;
  sign: number;
}

/**
 * f(x) = Σ a_i sin(x_i) + b_i x_i² over named tensors t0, t1, ... of random
 * shapes; its exact gradient, optionally with one element off by enough to
 * fail any allclose tolerance.
 */
function build(sample: Sample, bug: boolean) {
  const names = sample.shapes.map((_, t) => `t${t}`);
  const params: Record<string, unknown> = {};
  let offset = 0;
  const offsets: number[] = [];
  sample.shapes.forEach((shape, t) => {
    offsets.push(offset);
    const size = shape.reduce((a, b) => a * b, 1);
    params[names[t]] = nest(shape, sample.x.slice(offset, offset + size));
    offset += size;
  });
  const flatten = (p: Record<string, unknown>) => names.flatMap((name) => [p[name]].flat(3) as number[]);
  const derivative = (x: number[], i: number) => sample.a[i] * Math.cos(x[i]) + 2 * sample.b[i] * x[i];
  const definition = classifyExport('random', {
    params,
    f: (p: Record<string, unknown>) => flatten(p).reduce((sum, v, i) => sum + sample.a[i] * Math.sin(v) + sample.b[i] * v * v, 0),
    grad: (p: Record<string, unknown>) => {
      const x = flatten(p);
      const g = x.map((_, i) => derivative(x, i));
      if (bug) g[sample.culprit] += sample.sign * (0.01 + 0.01 * Math.abs(g[sample.culprit]));
      const out: Record<string, unknown> = {};
      sample.shapes.forEach((shape, t) => {
        const size = shape.reduce((a, b) => a * b, 1);
        out[names[t]] = nest(shape, g.slice(offsets[t], offsets[t] + size));
      });
      return out;
    },
  })!;
  // Which tensor and multi-index hold the culprit, from this test's own offsets.
  const t = offsets.findIndex((start, k) => start <= sample.culprit && sample.culprit < start + sample.shapes[k].reduce((a, b) => a * b, 1));
  const local = sample.culprit - offsets[t];
  const index = sample.shapes[t].map((_, d) => Math.floor(local / sample.shapes[t].slice(d + 1).reduce((a, b) => a * b, 1)) % sample.shapes[t][d]);
  const culpritName = index.length === 0 ? names[t] : `${names[t]}[${index.join(',')}]`;
  return { definition, culpritName };
}

function failing(result: Awaited<ReturnType<typeof checkProblem>>): string[] {
  return result.worst.filter((element) => !element.passed).map((element) => element.element);
}

describe('gradcheck properties (random problems)', () => {
  for (const mode of ['full', 'fast'] as CheckMode[]) {
    it(`${mode}: a correct gradient always passes`, async () => {
      await fc.assert(fc.asyncProperty(problemArbitrary, async (sample) => {
        const result = await checkProblem(build(sample, false).definition, { mode });
        assert.equal(result.verdict, 'pass', JSON.stringify(result.worst[0]));
      }), { numRuns: 150 });
    });

    it(`${mode}: one perturbed element is always caught and named`, async () => {
      await fc.assert(fc.asyncProperty(problemArbitrary, async (sample) => {
        const { definition, culpritName } = build(sample, true);
        const result = await checkProblem(definition, { mode });
        assert.equal(result.verdict, 'fail');
        assert.deepEqual(failing(result), [culpritName]);
      }), { numRuns: 150 });
    });
  }

  it('fast: in long vectors a correct gradient passes and one bad element is found in O(log n) evaluations', async () => {
    const long: fc.Arbitrary<Sample> = fc.integer({ min: 100, max: 3000 }).chain((size) => fc.record({
      shapes: fc.constant([[size]]),
      x: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: size, maxLength: size }),
      a: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: size, maxLength: size }),
      b: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: size, maxLength: size }),
      culprit: fc.integer({ min: 0, max: size - 1 }),
      sign: fc.constantFrom(-1, 1),
    }));
    await fc.assert(fc.asyncProperty(long, fc.nat(), async (sample, seed) => {
      assert.equal((await checkProblem(build(sample, false).definition, { mode: 'fast', seed })).verdict, 'pass');
      const { definition, culpritName } = build(sample, true);
      const result = await checkProblem(definition, { mode: 'fast', seed });
      assert.deepEqual(failing(result), [culpritName]);
      assert.ok(result.evaluations.f <= 10 + 4 * Math.ceil(Math.log2(sample.x.length)) * 2, `f evaluations ${result.evaluations.f}`);
    }), { numRuns: 40 });
  });

  it('sparse mode with every element sampled agrees with full mode', async () => {
    await fc.assert(fc.asyncProperty(problemArbitrary, fc.boolean(), async (sample, bug) => {
      const { definition } = build(sample, bug);
      const full = await checkProblem(definition, { mode: 'full' });
      const sparse = await checkProblem(definition, { mode: 'sparse', samples: 1000 });
      assert.equal(sparse.verdict, full.verdict);
      assert.deepEqual(failing(sparse), failing(full));
      assert.equal(sparse.maxAbsError, full.maxAbsError);
    }), { numRuns: 60 });
  });
});
