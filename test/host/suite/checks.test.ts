// Check Gradients in the real host: the verdict reaches the Test Explorer, diagnostics and CodeLens; error paths.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { FileReport } from '../../../src/runner/runner';
import { fixture, gradlens, until, withSetting } from './helpers';

async function check(uri: vscode.Uri, order: 1 | 2 = 1): Promise<FileReport[]> {
  const reports = await vscode.commands.executeCommand<FileReport[] | undefined>(order === 1 ? 'gradlens.checkGradients' : 'gradlens.checkSecondOrder', uri);
  assert.ok(reports, 'the command returned no reports');
  return reports;
}

async function lensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
  return lenses.map((lens) => lens.command?.title ?? '');
}

describe('Check Gradients', function () {
  this.timeout(120_000);

  it('names the wrong element in the report, a diagnostic on the export, a CodeLens and the Test Explorer', async () => {
    const api = await gradlens();
    const uri = fixture('buggy.grad.ts');
    await vscode.window.showTextDocument(uri);
    const [report] = await vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients');
    const [problem] = report.problems;
    assert.equal(problem.name, 'oneWrongElement');
    assert.equal(problem.verdict, 'fail');
    // f = Σ w² + w0 w1 at w = (1, −3, 0.5): ∂f/∂w1 = 2·(−3) + 1 = −5; the buggy grad says −6 (relative error 1/6).
    const wrong = problem.worst.filter((element) => !element.passed);
    assert.deepEqual(wrong.map((element) => element.element), ['w[1]']);
    assert.equal(wrong[0].analytic, -6);
    assert.ok(Math.abs(wrong[0].numeric + 5) < 1e-6);

    const diagnostics = vscode.languages.getDiagnostics(uri);
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /^oneWrongElement: gradient wrong at w\[1\]: analytic -6, numeric -5(\.0+\d*)? \(abs 1(\.0+\d*)?, rel 0\.1666\d*\); 1 of 3 checked elements fail \(w 1\/3 wrong\)$/);
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    const exportLine = (await vscode.workspace.openTextDocument(uri)).getText().split('\n').findIndex((line) => line.includes('export const oneWrongElement'));
    assert.equal(diagnostics[0].range.start.line, exportLine);

    const titles = await lensTitles(uri);
    assert.ok(titles.includes('$(beaker) Check gradient') && titles.includes('$(play) Run optimizer'), titles.join(' | '));
    assert.ok(titles.includes('✗ w[1] rel 0.166667'), titles.join(' | '));

    const item = api.testing!.tests.controller.items.get(uri.toString())?.children.get(`${uri.toString()}#oneWrongElement`);
    assert.ok(item, 'no test item for oneWrongElement');
    assert.equal(item.range?.start.line, exportLine);
    assert.equal(api.testing!.outcomes.get(item.id), 'failed');
  });

  it('clears the diagnostic once the fixed gradient passes', async () => {
    const uri = fixture('buggy.grad.ts');
    const document = await vscode.workspace.openTextDocument(uri);
    const text = document.getText();
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(text.length)), text.replace('2 * p.w[1],', '2 * p.w[1] + p.w[0],'));
    assert.ok(await vscode.workspace.applyEdit(edit));
    // Unsaved: the command saves it first (the runner reads the file from disk).
    const [report] = await check(uri);
    assert.equal(report.problems[0].verdict, 'pass');
    assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
    assert.ok((await lensTitles(uri)).some((title) => title.startsWith('✓ max rel err')));
  });

  it('lists the problem files of the workspace in the Test Explorer, with a second-order child where hvp exists', async () => {
    const api = await gradlens();
    await api.testing!.tests.discoverWorkspace();
    const files = new Set<string>();
    api.testing!.tests.controller.items.forEach((item) => files.add(item.label));
    for (const name of ['good.grad.ts', 'buggy.grad.ts', 'hang.grad.ts', 'syntax-error.grad.ts', 'second-order.grad.ts', 'buggy_grad.py']) assert.ok(files.has(name), `${name} not discovered (found ${[...files].join(', ')})`);
    const uri = fixture('second-order.grad.ts');
    const [report] = await check(uri, 2);
    assert.equal(report.problems[0].order, 2);
    assert.equal(report.problems[0].verdict, 'pass');
    const cubic = api.testing!.tests.controller.items.get(uri.toString())!.children.get(`${uri.toString()}#cubic`)!;
    const second = cubic.children.get(`${cubic.id}#2`);
    assert.ok(second, 'no second-order child item');
    assert.equal(api.testing!.outcomes.get(second.id), 'passed');
  });

  it('points a compile error at its line and column', async () => {
    const api = await gradlens();
    const uri = fixture('syntax-error.grad.ts');
    const [report] = await check(uri);
    assert.deepEqual(report.loadError?.location, { file: uri.fsPath, line: 4, column: 38 });
    const [diagnostic] = vscode.languages.getDiagnostics(uri);
    assert.ok(diagnostic, 'no diagnostic for the compile error');
    assert.deepEqual([diagnostic.range.start.line, diagnostic.range.start.character], [3, 37]);
    assert.equal(api.testing!.outcomes.get(uri.toString()), 'errored');
  });

  it('ends an infinite loop at the time limit and says where it spins', async () => {
    const uri = fixture('hang.grad.ts');
    const [report] = await withSetting('timeoutSeconds', 2, () => check(uri));
    const [problem] = report.problems;
    assert.equal(problem.verdict, 'error');
    assert.match(problem.error?.message ?? '', /^timed out after 2 s while checking hangs/);
    assert.equal(problem.error?.location?.file, uri.fsPath);
    const [diagnostic] = vscode.languages.getDiagnostics(uri);
    // In VS Code's words: the setting, not the CLI flag.
    assert.match(diagnostic.message, /^hangs: timed out after 2 s \(setting gradlens\.timeoutSeconds\) while checking hangs/);
  });

  it('stays responsive during a long check, and Stop Run cancels it', async () => {
    const api = await gradlens();
    const uri = fixture('hang.grad.ts');
    const running = withSetting('timeoutSeconds', 120, () => check(uri));
    await until('the check to start', () => api.testing!.services.jobs.busy);
    // The host answers other requests while the runner process spins.
    await vscode.window.showTextDocument(fixture('good.grad.ts'));
    const lenses = await lensTitles(fixture('good.grad.ts'));
    assert.ok(lenses.length > 0);
    assert.equal(api.testing!.services.jobs.busy, true, 'the check ended before it was stopped');
    assert.ok((await vscode.commands.executeCommand<number>('gradlens.stopRun')) >= 1);
    const [report] = await running;
    assert.equal(report.cancelled, true);
    assert.equal(api.testing!.services.jobs.busy, false);
  });

  it('replaces a bad setting by its default and still checks', async () => {
    const uri = fixture('good.grad.ts');
    const [report] = await withSetting('check.eps', -1, () => check(uri));
    assert.equal(report.problems[0].verdict, 'pass');
  });
});
