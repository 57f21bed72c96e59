import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestName, editDistance, unknownProblemMessage } from '../../src/core/names';

describe('mistyped names', () => {
  it('edit distance counts insertions, deletions, substitutions and swaps of neighbours', () => {
    // Hand-counted: kitten → sitten → sittin → sitting.
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('same', 'same'), 0);
    assert.equal(editDistance('afine', 'affine'), 1);
    assert.equal(editDistance('rleu', 'relu'), 1);
    assert.equal(editDistance('ca', 'abc'), 3);
    // Symmetric.
    for (const [a, b] of [['softmax', 'sotfmxa'], ['svm_loss', 'svmloss_naive'], ['x', 'yz']]) assert.equal(editDistance(a, b), editDistance(b, a));
  });

  it('suggests the closest name when a third of the letters or fewer differ, ignoring case', () => {
    const problems = ['affine', 'relu', 'batchnorm', 'softmax_loss', 'svm_loss'];
    assert.equal(closestName('afine', problems), 'affine');
    assert.equal(closestName('rleu', problems), 'relu');
    assert.equal(closestName('Affine', problems), 'affine');
    assert.equal(closestName('batchnrom', problems), 'batchnorm');
    assert.equal(closestName('svm', problems), null);
    assert.equal(closestName('conv', problems), null);
    assert.equal(closestName('affine', problems), null);
    // One letter is all of a one-letter name: no suggestion.
    assert.equal(closestName('x', ['f', 'g']), null);
  });

  it('names the files looked in, what they have, and the likely one', () => {
    assert.equal(
      unknownProblemMessage('afine', ['layers_grad.py'], ['affine', 'relu', 'batchnorm']),
      "no problem named 'afine' in layers_grad.py; its problems: affine, relu, batchnorm (did you mean affine?)",
    );
    assert.equal(unknownProblemMessage('conv', ['layers_grad.py'], ['affine', 'relu']), "no problem named 'conv' in layers_grad.py; its problems: affine, relu");
    assert.equal(unknownProblemMessage('fo', ['a.grad.ts', 'b_grad.py'], ['f', 'f', 'g']), "no problem named 'fo' in a.grad.ts, b_grad.py; their problems: f, g (did you mean f?)");
    assert.equal(unknownProblemMessage('x', ['a.grad.ts'], ['f', 'g']), "no problem named 'x' in a.grad.ts; its problems: f, g");
    assert.equal(unknownProblemMessage('x', ['a', 'b', 'c', 'd'], []), "no problem named 'x' in 4 files; they have no problems");
    const many = Array.from({ length: 15 }, (_, i) => `p${i}`);
    assert.match(unknownProblemMessage('q0', ['m.grad.ts'], many), /its problems: p0, p1, .*, p11, \.\.\. \(3 more\) \(did you mean p0\?\)$/);
  });
});
