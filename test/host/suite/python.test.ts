// Python problem files in the real host: Test Explorer, Check Gradients, diagnostics, CodeLens, optimizers, the interpreter setting.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TrainResult } from '../../../src/core/optim/train';
import type { FileReport } from '../../../src/runner/runner';
import { fixture, gradlens, withSetting } from './helpers';

/** Debian's python3 with python3-numpy (scripts/install-system-deps.sh); python3 first on the PATH may lack NumPy. */
const PYTHON = '/usr/bin/python3';

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((line) => line.startsWith(needle));
}

describe('Python problem files', function () {
  this.timeout(120_000);

  before(function () {
    if (!vscode.workspace.isTrusted) this.skip();
  });

  it('are listed in the Test Explorer from their text, before any code runs', async () => {
    const api = await gradlens();
    await api.testing!.tests.discoverWorkspace();
    const uri = fixture('buggy_grad.py');
    const item = api.testing!.tests.controller.items.get(uri.toString());
    assert.ok(item, 'buggy_grad.py is not in the Test Explorer');
    const names: string[] = [];
    item.children.forEach((child) => names.push(child.label));
    assert.deepEqual(names, ['least_squares', 'raises_in_f', 'bowl']);
    assert.ok(item.children.get(`${uri.toString()}#bowl`)?.children.get(`${uri.toString()}#bowl#2`), 'no second-order child for bowl (it has hvp)');
  });

  it('Check Gradients names the wrong element, with a diagnostic on the assignment and a CodeLens', async () => {
    const api = await gradlens();
    const uri = fixture('buggy_grad.py');
    const reports = await withSetting('pythonPath', PYTHON, () => vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', uri));
    const problems = new Map(reports[0].problems.map((problem) => [problem.name, problem]));
    const leastSquares = problems.get('least_squares')!;
    assert.equal(leastSquares.verdict, 'fail');
    assert.deepEqual(leastSquares.worst.filter((element) => !element.passed).map((element) => element.element), ['w[2]']);
    assert.equal(problems.get('bowl')!.verdict, 'pass');
    assert.equal(problems.get('raises_in_f')!.verdict, 'error');

    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    const diagnostics = vscode.languages.getDiagnostics(uri);
    const onLeastSquares = diagnostics.find((diagnostic) => diagnostic.message.startsWith('least_squares: gradient wrong at w[2]'));
    assert.ok(onLeastSquares, diagnostics.map((diagnostic) => diagnostic.message).join('\n'));
    assert.equal(onLeastSquares.range.start.line, lineOf(text, 'least_squares = {'));
    // The exception's place in the Python file is related information of the diagnostic.
    const onRaise = diagnostics.find((diagnostic) => diagnostic.message.startsWith('raises_in_f'));
    assert.ok(onRaise, 'no diagnostic for raises_in_f');
    assert.match(onRaise.message, /ValueError: shapes do not line up/);
    assert.equal(onRaise.relatedInformation?.[0].location.range.start.line, lineOf(text, '    raise ValueError'));

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    const titles = lenses.map((lens) => lens.command?.title ?? '');
    assert.ok(titles.some((title) => title.startsWith('✗ w[2] rel')), titles.join(' | '));
    const item = api.testing!.tests.controller.items.get(uri.toString())!.children.get(`${uri.toString()}#least_squares`)!;
    assert.equal(api.testing!.outcomes.get(item.id), 'failed');
  });

  it('runs optimizers on a Python problem', async () => {
    const file = `${fixture('buggy_grad.py').fsPath}#bowl`;
    const results = await withSetting('pythonPath', PYTHON, () => withSetting('optimizer.steps', 40, () =>
      vscode.commands.executeCommand<TrainResult[]>('gradlens.compareOptimizers', { problem: file, optimizers: ['sgd', 'adam'] })));
    assert.deepEqual(results.map((result) => result.optimizer), ['sgd', 'adam']);
    // f = |w|² at (1, −2): 5; SGD with lr 1e-3 scales w by 0.998 a step, so f by 0.998² (hand-derived).
    assert.equal(results[0].steps[0].loss, 5);
    assert.ok(Math.abs(results[0].final.loss! - 5 * 0.998 ** 80) < 1e-12, `final loss ${results[0].final.loss}`);
  });

  it('prefers the interpreter selected in the Python extension over gradlens.pythonPath', async () => {
    // run.mjs installs a stand-in for ms-python.python whose selection is the fakePython.interpreter setting.
    assert.ok(vscode.extensions.getExtension('ms-python.python'), 'the stand-in Python extension is not installed');
    const selection = vscode.workspace.getConfiguration('fakePython');
    await selection.update('interpreter', PYTHON, vscode.ConfigurationTarget.Workspace);
    try {
      const [report] = await withSetting('pythonPath', '/nonexistent/python3', () => vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', fixture('buggy_grad.py')));
      assert.equal(report.loadError, null, 'the setting was used, not the Python extension\'s interpreter');
      assert.equal(report.problems.find((problem) => problem.name === 'bowl')?.verdict, 'pass');
    } finally {
      await selection.update('interpreter', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('names a missing interpreter and the setting that chooses one', async () => {
    const uri = fixture('buggy_grad.py');
    const [report] = await withSetting('pythonPath', '/nonexistent/python3', () => vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', uri));
    assert.match(report.loadError?.message ?? '', /^Python interpreter '\/nonexistent\/python3' not found: /);
    const [diagnostic] = vscode.languages.getDiagnostics(uri);
    assert.match(diagnostic?.message ?? '', /not found: .*or choose another interpreter \(the Python extension's interpreter or the gradlens\.pythonPath setting\)$/);
  });
});

describe('PyTorch problem files', function () {
  this.timeout(180_000);

  before(function () {
    if (!vscode.workspace.isTrusted) this.skip();
    // Debian's python3-torch (scripts/install-system-deps.sh); without it there is nothing to run.
    if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0) this.skip();
  });

  it('Check Gradients names the wrong element of a custom autograd Function in Problems and in the Test Explorer', async () => {
    const api = await gradlens();
    const uri = fixture('torch_linear_grad.py');
    await api.testing!.tests.discoverWorkspace();
    const file = api.testing!.tests.controller.items.get(uri.toString());
    assert.ok(file, 'torch_linear_grad.py is not in the Test Explorer');
    const listed: string[] = [];
    file.children.forEach((child) => listed.push(`${child.label} ${child.description ?? ''}`.trim()));
    assert.deepEqual(listed, ['linear layer (VJP)', 'linearTransposedGradWeight layer (VJP)']);

    const reports = await withSetting('pythonPath', PYTHON, () => vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', uri));
    const problems = new Map(reports[0].problems.map((problem) => [problem.name, problem]));
    assert.equal(problems.get('linear')?.verdict, 'pass');
    const transposed = problems.get('linearTransposedGradWeight')!;
    assert.equal(transposed.verdict, 'fail');
    assert.deepEqual(transposed.failedElements, ['weight[0,1]', 'weight[0,2]', 'weight[1,0]', 'weight[1,2]', 'weight[2,0]', 'weight[2,1]']);

    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    const diagnostic = vscode.languages.getDiagnostics(uri).find((entry) => entry.message.startsWith('linearTransposedGradWeight: backward wrong at weight['));
    assert.ok(diagnostic, vscode.languages.getDiagnostics(uri).map((entry) => entry.message).join('\n'));
    assert.equal(diagnostic.range.start.line, lineOf(text, 'linearTransposedGradWeight = {'));
    const item = file.children.get(`${uri.toString()}#linearTransposedGradWeight`)!;
    assert.equal(api.testing!.outcomes.get(item.id), 'failed');
  });
});
