// Workspace Trust: in an untrusted folder nothing from the workspace runs; built-in problems still do.
// run.mjs runs these in a second host whose folder is untrusted (GRADLENS_HOST_TRUST=untrusted).
import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TrainResult } from '../../../src/core/optim/train';
import { fixture, gradlens } from './helpers';

describe('untrusted workspace', function () {
  this.timeout(60_000);

  before(function () {
    if (vscode.workspace.isTrusted) this.skip();
  });

  it('checks nothing from the workspace and says why', async () => {
    const api = await gradlens();
    const uri = fixture('buggy.grad.ts');
    const reports = await vscode.commands.executeCommand<unknown[]>('gradlens.checkGradients', uri);
    assert.deepEqual(reports, []);
    assert.equal(api.testing!.services.store.get(uri)?.results.size ?? 0, 0, 'a result exists, so the file was run');
    assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
    const python = fixture('buggy_grad.py');
    assert.deepEqual(await vscode.commands.executeCommand<unknown[]>('gradlens.checkGradients', python), []);
    assert.equal(api.testing!.services.store.get(python)?.results.size ?? 0, 0, 'a result exists, so the Python file was run');
  });

  it('still lists the problems of the workspace from their source text', async () => {
    const api = await gradlens();
    await api.testing!.tests.discoverWorkspace();
    const uri = fixture('buggy.grad.ts');
    const item = api.testing!.tests.controller.items.get(uri.toString());
    assert.ok(item?.children.get(`${uri.toString()}#oneWrongElement`), 'the static listing is missing');
    const python = fixture('buggy_grad.py');
    assert.ok(api.testing!.tests.controller.items.get(python.toString())?.children.get(`${python.toString()}#least_squares`), 'the static listing of the Python file is missing');
  });

  it('does not run optimizers on workspace files, but runs built-in problems', async () => {
    const file = `${fixture('good.grad.ts').fsPath}#quadratic`;
    assert.equal(await vscode.commands.executeCommand('gradlens.runOptimizer', { problem: file, optimizer: 'sgd', hyperparameters: {} }), undefined);
    const results = await vscode.commands.executeCommand<TrainResult[]>('gradlens.runOptimizer', { problem: 'builtin:quadratic', optimizer: 'sgd', hyperparameters: { lr: 0.01 } });
    assert.equal(results[0].stopped, 'steps');
  });
});
