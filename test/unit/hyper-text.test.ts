import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findOptimizer, resolveHyperparameters } from '../../src/core/optim';
import { formatHyperparameterText, parseHyperparameterText } from '../../src/core/optim/hyper-text';

const adam = findOptimizer('adam')!;
const specs = adam.optimizer.hyperparameters;

describe('hyper-parameters as text', () => {
  it('round-trips the resolved defaults of every kind (number, pair, boolean)', () => {
    const defaults = resolveHyperparameters(adam, {});
    const text = formatHyperparameterText(defaults);
    assert.match(text, /^lr=0\.001 betas=0\.9,0\.999 eps=1e-8 /);
    assert.deepEqual(parseHyperparameterText(specs, text), defaults);
  });

  it('parses what a user types, in any order and spacing', () => {
    assert.deepEqual(parseHyperparameterText(specs, '  amsgrad=true   lr=1e-2 betas=0.8, 0.99'.replace(', ', ',')), { amsgrad: true, lr: 0.01, betas: [0.8, 0.99] });
    assert.deepEqual(parseHyperparameterText(specs, ''), {});
  });

  it('names the bad token, the hyper-parameter and what was expected', () => {
    assert.throws(() => parseHyperparameterText(specs, 'lr=fast'), /^RangeError: lr must be a number, got 'fast'$/);
    assert.throws(() => parseHyperparameterText(specs, 'betas=0.9'), /betas must be two numbers like 0\.9,0\.999, got '0\.9'/);
    assert.throws(() => parseHyperparameterText(specs, 'amsgrad=yes'), /amsgrad must be true or false, got 'yes'/);
    assert.throws(() => parseHyperparameterText(specs, 'momentum=0.9'), /no hyper-parameter momentum \(there are lr, betas, eps/);
    assert.throws(() => parseHyperparameterText(specs, 'lr'), /'lr' is not name=value/);
  });
});
