/** The bulk evaluations of full and sparse checks (core/bulk.ts), with helpers simulated in this process. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Helper, HelperFailure, type HelperPool, evaluateInOrder } from '../../src/core/bulk';
import { errorReport } from '../../src/core/errors';
import { type PerturbedValues, noEvaluations } from '../../src/core/objective';

/** Values that name their element: plus = i, minus = -i. */
const valuesOf = (part: Int32Array): PerturbedValues => ({ plus: Float64Array.from(part), minus: Float64Array.from(part, (i) => -i) });

/** A pool of `count` helpers that compute with `evaluate` after a macrotask (as another process answers). */
function poolOf(count: number, evaluate: (part: Int32Array, helper: number) => PerturbedValues, centers: number[] = []): HelperPool & { served: number[] } {
  let given = 0;
  const served: number[] = [];
  return {
    served,
    next: async () => {
      if (given >= count) return null;
      const number = given++;
      const helper: Helper = {
        center: centers[number] ?? 0,
        perturbed: (part) =>
          new Promise((resolve, reject) =>
            setTimeout(() => {
              try {
                served.push(number);
                resolve({ ...evaluate(part, number), evaluations: { ...noEvaluations(), f: 2 * part.length } });
              } catch (error) {
                reject(error);
              }
            }, 1),
          ),
      };
      return helper;
    },
    local: async (work) => {
      await new Promise((resolve) => setImmediate(resolve));
      return work();
    },
    close: () => undefined,
  };
}

function record(total: number) {
  const seen: number[] = [];
  const dones: number[] = [];
  return {
    seen,
    dones,
    record: (part: Int32Array, values: PerturbedValues, done: number) => {
      part.forEach((i, k) => {
        assert.equal(values.plus[k], i, 'values belong to their element');
        seen.push(i);
      });
      dones.push(done);
      assert.ok(done <= total);
    },
  };
}

describe('bulk evaluations in order', () => {
  it('alone: every element once, in order, in at most 16 chunks of at least 256', async () => {
    const indices = Int32Array.from({ length: 10_000 }, (_, i) => i);
    const parts: number[] = [];
    const { seen, record: take } = record(indices.length);
    await evaluateInOrder({ indices, evaluate: async (part) => (parts.push(part.length), valuesOf(part)), record: take, admit: () => true, helped: () => undefined });
    assert.deepEqual(seen, Array.from(indices));
    assert.ok(parts.length <= 16 && parts.slice(0, -1).every((size) => size >= 256), `chunks ${parts.join(', ')}`);
  });

  it('with a time budget: two small timed chunks, and a check that cannot fit ends there with the budget\'s error', async () => {
    const indices = Int32Array.from({ length: 10_000 }, (_, i) => i);
    // 1 ms per element against a budget of 0.5 s: 10 s of work cannot fit, not even over 3 processes.
    const slow = async (part: Int32Array) => {
      const until = performance.now() + part.length;
      while (performance.now() < until);
      return valuesOf(part);
    };
    const parts: number[] = [];
    const estimates: number[] = [];
    const budget = { deadline: performance.now() + 500, tooCostly: (estimated: number) => (estimates.push(estimated), new Error('too costly')) };
    const { seen, record: take } = record(indices.length);
    await assert.rejects(evaluateInOrder({ indices, evaluate: (part) => (parts.push(part.length), slow(part)), record: take, budget, admit: () => true, helped: () => undefined }), /^Error: too costly$/);
    assert.deepEqual(parts, [16, 16]);
    assert.equal(seen.length, 32);
    // The whole check at the faster chunk's rate: 10,000 elements at ≥ 1 ms.
    assert.ok(estimates[0] >= 10 && estimates[0] < 100, `estimate ${estimates[0]} s`);
    // The same check with time enough goes on, in the usual chunks after the timed ones.
    const roomy = { deadline: performance.now() + 3_600_000, tooCostly: () => new Error('never') };
    const fine: number[] = [];
    await evaluateInOrder({ indices, evaluate: async (part) => (fine.push(part.length), valuesOf(part)), record: record(indices.length).record, budget: roomy, admit: () => true, helped: () => undefined });
    assert.deepEqual(fine.slice(0, 2), [16, 16]);
    assert.equal(fine.reduce((sum, size) => sum + size, 0), indices.length);
    assert.ok(fine.length <= 2 + 16);
  });

  it('with helpers: the same elements in the same order, whoever computed them, and their evaluations counted', async () => {
    const indices = Int32Array.from({ length: 2_000 }, (_, i) => (i * 7) % 2_000);
    const pool = poolOf(2, valuesOf);
    let helped = 0;
    let computedHere = 0;
    const { seen, dones, record: take } = record(indices.length);
    await evaluateInOrder({
      indices,
      evaluate: async (part) => ((computedHere += part.length), valuesOf(part)),
      record: take,
      helpers: { processes: 3, offer: () => pool },
      admit: () => true,
      helped: (evaluations) => (helped += evaluations.f),
    });
    assert.deepEqual(seen, Array.from(indices));
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b));
    assert.equal(dones[dones.length - 1], indices.length);
    assert.ok(pool.served.length > 0, 'the helpers computed some chunks');
    // Two evaluations per element: those computed here and the helpers' make up the whole.
    assert.equal(computedHere + helped / 2, indices.length);
  });

  it('throws the first failure in check order, after recording every chunk before it', async () => {
    const indices = Int32Array.from({ length: 1_000 }, (_, i) => i);
    // Elements 300 and 700 fail wherever they are computed; 700 may well be reached first.
    const failAt = (part: Int32Array, where: string) => {
      const bad = Array.from(part).find((i) => i === 300 || i === 700);
      if (bad !== undefined) throw new HelperFailure(errorReport(`element ${bad} failed ${where}`, 'user', 'check'));
      return valuesOf(part);
    };
    const pool = poolOf(1, (part) => failAt(part, 'in a helper'));
    const { seen, record: take } = record(indices.length);
    await assert.rejects(
      evaluateInOrder({ indices, evaluate: async (part) => failAt(part, 'here'), record: take, helpers: { processes: 3, offer: () => pool }, admit: () => true, helped: () => undefined }),
      /^HelperFailure: element 300 failed/,
    );
    assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i), 'a prefix, in order');
    assert.ok(seen.length <= 300 && seen.length > 0);
  });

  it('does not use a helper that the plan refuses (another value at the point)', async () => {
    const indices = Int32Array.from({ length: 500 }, (_, i) => i);
    const pool = poolOf(1, valuesOf, [1]);
    const { seen, record: take } = record(indices.length);
    await evaluateInOrder({ indices, evaluate: async (part) => valuesOf(part), record: take, helpers: { processes: 3, offer: () => pool }, admit: (helper) => helper.center === 0, helped: () => undefined });
    assert.deepEqual(seen, Array.from(indices));
    assert.deepEqual(pool.served, []);
  });
});
