import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CHECK_OPTIONS } from '../../src/core/gradcheck';
import { DEFAULT_LIMITS } from '../../src/runner/supervisor';
import { readSettings } from '../../src/extension/settings';
import { DEFAULT_PROBLEM_GLOB } from '../../src/runner/problem-files';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('extension settings', () => {
  it('defaults to the engine defaults when nothing is set', () => {
    const { settings, problems } = readSettings(from({}));
    assert.deepEqual(problems, []);
    assert.equal(settings.problemFiles, DEFAULT_PROBLEM_GLOB);
    assert.deepEqual(settings.check, { mode: 'full', eps: DEFAULT_CHECK_OPTIONS.eps, atol: DEFAULT_CHECK_OPTIONS.atol, rtol: DEFAULT_CHECK_OPTIONS.rtol, seed: 0 });
    assert.deepEqual(settings.limits, DEFAULT_LIMITS);
    assert.equal(settings.optimizer, 'adam');
    assert.equal(settings.pythonPath, null);
  });

  it('takes valid values', () => {
    const { settings, problems } = readSettings(from({
      'check.mode': 'fast', 'check.eps': 1e-4, 'check.seed': 7, timeoutSeconds: 2, 'optimizer.default': 'Nesterov',
      'optimizer.hyperparameters': { adam: { lr: 0.01, betas: [0.8, 0.99] } }, 'telemetry.every': 10,
    }));
    assert.deepEqual(problems, []);
    assert.equal(settings.check.mode, 'fast');
    assert.equal(settings.check.eps, 1e-4);
    assert.equal(settings.check.seed, 7);
    assert.equal(settings.limits.timeoutSeconds, 2);
    assert.equal(settings.optimizer, 'nesterov');
    assert.deepEqual(settings.hyperparameters, { adam: { lr: 0.01, betas: [0.8, 0.99] } });
    assert.equal(settings.telemetryEvery, 10);
    assert.equal(readSettings(from({ pythonPath: ' /opt/venv/bin/python ' })).settings.pythonPath, '/opt/venv/bin/python');
    assert.equal(readSettings(from({ pythonPath: '' })).settings.pythonPath, null);
  });

  it('replaces each bad value by its default and names setting, value and fallback', () => {
    const { settings, problems } = readSettings(from({
      'check.eps': -1, 'check.mode': 'exhaustive', 'check.seed': 1.5, memoryLimitMb: 'lots', problemFiles: '',
      'optimizer.default': 'adamm', 'optimizer.hyperparameters': { adam: { lr: -1 }, sgd: { nope: 1 }, foo: {} }, pythonPath: 3,
    }));
    assert.equal(settings.check.eps, DEFAULT_CHECK_OPTIONS.eps);
    assert.equal(settings.check.mode, 'full');
    assert.equal(settings.limits.memoryMb, DEFAULT_LIMITS.memoryMb);
    assert.deepEqual(settings.hyperparameters, {});
    assert.deepEqual(problems, [
      'gradlens.problemFiles must be a non-empty glob pattern, got ""; using "**/{*.grad.ts,*.grad.mts,*.grad.js,*.grad.mjs,*_grad.py,*.grad.py}"',
      'gradlens.check.mode must be "full", "fast" or "sparse", got "exhaustive"; using "full"',
      'gradlens.check.eps must be a positive number, got -1; using 0.000001',
      'gradlens.check.seed must be an integer ≥ 0, got 1.5; using 0',
      'gradlens.memoryLimitMb must be an integer ≥ 64, got "lots"; using 4096',
      'gradlens.optimizer.default must name an optimizer (sgd, adagrad, rmsprop, adadelta, adam, adamw, adamax, nadam, radam, lbfgs, newton, momentum, nesterov), got "adamm"; using "adam"',
      'gradlens.pythonPath must be a path to a Python interpreter, got 3; using ""',
      'gradlens.optimizer.hyperparameters.adam: lr must be >= 0, got -1; using the torch defaults',
      'gradlens.optimizer.hyperparameters.sgd: sgd has no hyper-parameter nope (it has lr, momentum, dampening, weight_decay, nesterov, maximize, lookahead); using the torch defaults',
      'gradlens.optimizer.hyperparameters.foo: names no optimizer; using the torch defaults',
    ]);
  });
});
