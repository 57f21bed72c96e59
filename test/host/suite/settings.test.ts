// Settings as the host reads them: a renamed setting still honoured, CodeLens switched off, per-file check knobs.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TrainResult } from '../../../src/core/optim/train';
import { fixture, gradlens, withSetting } from './helpers';

describe('settings', function () {
  this.timeout(120_000);

  it('still reads gradlens.telemetry.every (now gradlens.optimizer.recordEvery) while the new name is unset', async () => {
    await gradlens();
    const steps = (results: TrainResult[]) => results[0].steps.map((record) => record.step);
    const run = () => vscode.commands.executeCommand<TrainResult[]>('gradlens.runOptimizer', { problem: 'builtin:quadratic', optimizer: 'sgd', hyperparameters: { lr: 0.01 } });
    // Records: the first, every k-th and the last step (train.ts).
    const old = await withSetting('optimizer.steps', 20, () => withSetting('telemetry.every', 5, run));
    assert.deepEqual(steps(old), [1, 5, 10, 15, 20]);
    const renamed = await withSetting('optimizer.steps', 20, () => withSetting('telemetry.every', 5, () => withSetting('optimizer.recordEvery', 10, run)));
    assert.deepEqual(steps(renamed), [1, 10, 20], 'the new name wins');
  });

  it('gradlens.codeLens.enabled switches the CodeLens off and on', async () => {
    await gradlens();
    const file = fixture('good.grad.ts');
    await vscode.window.showTextDocument(file);
    const titles = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file)) ?? []).map((lens) => lens.command?.title ?? '');
    assert.ok((await titles()).some((title) => title.includes('Check gradient')));
    const off = await withSetting('codeLens.enabled', false, titles);
    assert.ok(!off.some((title) => title.includes('Check gradient')), off.join(', '));
  });
});
