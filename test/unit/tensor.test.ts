import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TensorError, TensorPoint, formatElement, locateElement, readLike, readTree, unravelIndex } from '../../src/core/tensor';

describe('tensors', () => {
  it('flattens named tensors row-major and remembers shapes', () => {
    const { layout, values } = readTree({ w: [[1, 2, 3], [4, 5, 6]], b: new Float64Array([7, 8]), s: 9 }, 'params');
    assert.deepEqual(Array.from(values), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(layout.tensors.map((t) => [t.name, t.shape, t.offset, t.form]), [
      ['w', [2, 3], 0, 'nested'],
      ['b', [2], 6, 'typed'],
      ['s', [], 8, 'number'],
    ]);
  });

  it('names elements by multi-index', () => {
    const { layout } = readTree({ a: [1, 2], W: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] }, 'params');
    assert.deepEqual(unravelIndex(11, [3, 4]), [2, 3]);
    const { tensor, index } = locateElement(layout, 2 + 11);
    assert.equal(formatElement(tensor.name, index), 'W[2,3]');
    assert.equal(formatElement('b', []), 'b');
  });

  it('skips empty tensors when locating elements', () => {
    const { layout } = readTree({ a: [1], e: [], z: [[]], b: [2, 3] }, 'params');
    assert.equal(layout.size, 3);
    assert.equal(locateElement(layout, 1).tensor.name, 'b');
    assert.equal(locateElement(layout, 0).tensor.name, 'a');
  });

  it('rejects ragged arrays, non-finite values and non-numbers with the element named', () => {
    assert.throws(() => readTree({ w: [[1, 2], [3]] }, 'params'), /params\.w\[1\] has 1 elements, expected 2 .*not rectangular/);
    assert.throws(() => readTree({ w: [[1, 2], [3, Infinity]] }, 'params'), /params\.w\[1,1\] is Infinity, expected a finite number/);
    assert.throws(() => readTree({ w: [1, '2'] }, 'params'), /params\.w\[1\] is the string "2", expected a number/);
    assert.throws(() => readTree([1, 2], 'params'), TensorError);
  });

  it('reads gradients in any key order and rejects wrong shapes, missing and extra keys', () => {
    const { layout } = readTree({ w: [[1, 2], [3, 4]], b: 0 }, 'params');
    assert.deepEqual(Array.from(readLike({ b: 5, w: [[1, 2], [3, 4]] }, layout, 'grad(p)', 'params')), [1, 2, 3, 4, 5]);
    assert.throws(() => readLike({ b: 5, w: [[1, 2, 3]] }, layout, 'grad(p)', 'params'), /grad\(p\)\.w has shape \[1,3\], expected \[2,2\]/);
    assert.throws(() => readLike({ w: [[1, 2], [3, 4]] }, layout, 'grad(p)', 'params'), /grad\(p\) has no b/);
    assert.throws(() => readLike({ w: [[1, 2], [3, 4]], b: 1, c: 2 }, layout, 'grad(p)', 'params'), /grad\(p\) has c/);
    assert.throws(() => readLike({ w: [[1, 2], [3, NaN]], b: 1 }, layout, 'grad(p)', 'params'), /grad\(p\)\.w\[1,1\] is NaN/);
  });

  it('keeps the nested view and the flat values in sync', () => {
    const { layout, values } = readTree({ w: [[1, 2], [3, 4]], s: 5, t: new Float64Array([6]) }, 'params');
    const point = new TensorPoint(layout, values);
    point.set(2, 30);
    point.set(4, 50);
    point.set(5, 60);
    assert.deepEqual(point.tree.w, [[1, 2], [30, 4]]);
    assert.equal(point.tree.s, 50);
    assert.deepEqual(Array.from(point.tree.t as Float64Array), [60]);
    assert.deepEqual(Array.from(point.readBack()), [1, 2, 30, 4, 50, 60]);
  });

  it('handles a million elements without recursion over elements', () => {
    const big = Array.from({ length: 1000 }, (_, i) => Array.from({ length: 1000 }, (_, j) => i - j));
    const { layout, values } = readTree({ big }, 'params');
    assert.equal(layout.size, 1_000_000);
    assert.equal(values[999_999], 0);
    assert.equal(values[1000], 1);
  });
});
