// Run Optimizer, Compare Optimizers and Analyze Critical Point in the real host, with the dashboard open.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { CriticalPointReport } from '../../../src/core/analysis';
import type { TrainResult } from '../../../src/core/optim/train';
import { fixture, withSetting } from './helpers';

describe('optimizer commands', function () {
  this.timeout(120_000);

  it('reports divergence with its step', async () => {
    const file = `${fixture('second-order.grad.ts').fsPath}#cubic`;
    // f = x0² x1 + x1³ is unbounded below: plain gradient descent runs off to −∞.
    const results = await withSetting('optimizer.steps', 10_000, () =>
      vscode.commands.executeCommand<TrainResult[]>('gradlens.runOptimizer', { problem: file, optimizer: 'sgd', hyperparameters: { lr: 0.1 } }));
    assert.equal(results[0].stopped, 'diverged');
    assert.ok(results[0].diverged!.step > 1);
  });

  it('runs Adam on Rosenbrock and lowers the loss', async () => {
    const results = await withSetting('optimizer.steps', 300, () =>
      vscode.commands.executeCommand<TrainResult[]>('gradlens.runOptimizer', { problem: 'builtin:rosenbrock', optimizer: 'adam', hyperparameters: { lr: 0.05 } }));
    assert.equal(results.length, 1);
    const [result] = results;
    assert.equal(result.stopped, 'steps');
    assert.equal(result.final.step, 300);
    // Rosenbrock at its start (−1.5, 2): (1 + 1.5)² + 100 (2 − 2.25)² = 12.5.
    assert.equal(result.steps[0].loss, 12.5);
    assert.ok(result.final.loss! < 12.5 / 5, `final loss ${result.final.loss}`);
    assert.equal(result.hyperparameters.lr, 0.05);
  });

  it('compares optimizers from the same start on a user file', async () => {
    const file = `${fixture('good.grad.ts').fsPath}#quadratic`;
    const results = await withSetting('optimizer.steps', 50, () =>
      vscode.commands.executeCommand<TrainResult[]>('gradlens.compareOptimizers', { problem: file, optimizers: ['sgd', 'momentum', 'adam'] }));
    assert.deepEqual(results.map((result) => result.optimizer), ['sgd', 'momentum', 'adam']);
    for (const result of results) assert.equal(result.steps[0].loss, 1 + 9 + 0.25 - 3, `${result.optimizer} did not start at the file's params`);
  });

  it('classifies the saddle x² − y² at the origin', async () => {
    const report = await vscode.commands.executeCommand<CriticalPointReport>('gradlens.analyzeCriticalPoint', { problem: 'builtin:saddle', at: 'start' });
    assert.ok(report);
    assert.equal(report.classification, 'saddle');
  });

  it('refuses unknown optimizers with a message naming them', async () => {
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('gradlens.runOptimizer', { problem: 'builtin:rosenbrock', optimizer: 'adamm' })), /unknown optimizer "adamm"/);
  });

  // Last, so the dashboard (and the README screenshot the host tier takes) shows the classic comparison.
  it('compares SGD, Momentum and Adam on Rosenbrock from the same start', async () => {
    const results = await withSetting('optimizer.steps', 400, () =>
      vscode.commands.executeCommand<TrainResult[]>('gradlens.compareOptimizers', { problem: 'builtin:rosenbrock', optimizers: ['sgd', 'momentum', 'adam'] }));
    assert.deepEqual(results.map((result) => result.optimizer), ['sgd', 'momentum', 'adam']);
    for (const result of results) assert.equal(result.steps[0].loss, 12.5);
  });
});
