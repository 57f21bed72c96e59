// Results that follow edits, in the real host: an edit marks a file's results stale (Problems panel, CodeLens, store),
// and a continuous run of the Test Explorer checks a watched file again on every save until it is stopped.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { FileReport } from '../../../src/runner/runner';
import { fixture, gradlens, until } from './helpers';

// f(w) = Σ w² + w0 w1 at w = (1, −3, 0.5); the buggy grad misses + w0 in ∂f/∂w1 (−6 instead of −5).
const BUGGY = '2 * p.w[1],';
const FIXED = '2 * p.w[1] + p.w[0],';
const source = (gradOfW1: string) => [
  '// Host-test file: its gradient is broken and fixed by the test.',
  'type P = { w: number[] };',
  '',
  'export const watched = {',
  '  params: { w: [1, -3, 0.5] },',
  '  f: (p: P) => p.w.reduce((sum, v) => sum + v * v, 0) + p.w[0] * p.w[1],',
  `  grad: (p: P) => ({ w: [2 * p.w[0] + p.w[1], ${gradOfW1} 2 * p.w[2]] }),`,
  '};',
  '',
].join('\n');

async function replaceText(document: vscode.TextDocument, from: string, to: string): Promise<void> {
  const start = document.getText().indexOf(from);
  assert.ok(start >= 0, `${from} is not in ${document.fileName}`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(start), document.positionAt(start + from.length)), to);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

async function lensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
  return lenses.map((lens) => lens.command?.title ?? '');
}

describe('results that follow edits', function () {
  this.timeout(120_000);

  it('marks results stale on an edit, re-checks on save during a continuous run, and stops when the run does', async () => {
    const api = await gradlens();
    const { tests, services, outcomes } = api.testing!;
    const uri = fixture('watched.grad.ts');
    fs.writeFileSync(uri.fsPath, source(BUGGY));
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const [first] = (await vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', uri))!;
    assert.equal(first.problems[0].verdict, 'fail');
    const itemId = `${uri.toString()}#watched`;
    assert.equal(outcomes.get(itemId), 'failed');
    assert.equal(vscode.languages.getDiagnostics(uri)[0]?.severity, vscode.DiagnosticSeverity.Error);

    // A continuous run of the file, as the Test Explorer's "Start Continuous Run" makes it.
    const file = tests.controller.items.get(uri.toString())!;
    const watching = new vscode.CancellationTokenSource();
    const profile = tests.profiles.full;
    assert.equal(profile.supportsContinuousRun, true);
    await profile.runHandler(new vscode.TestRunRequest([file], undefined, profile, true), watching.token);
    // Starting it checks nothing: nothing changed yet.
    assert.equal(services.jobs.busy, false);

    // The fix typed, not saved: the old verdict is stale everywhere it shows.
    await replaceText(document, BUGGY, FIXED);
    await until('the result to be stale', () => services.store.isStale(uri, 'watched', 1));
    const stale = await until('a dimmed diagnostic', () => vscode.languages.getDiagnostics(uri).find((diagnostic) => diagnostic.message.endsWith('(stale: the file changed since this check)')));
    assert.equal(stale.severity, vscode.DiagnosticSeverity.Information);
    assert.ok((await lensTitles(uri)).some((title) => title.startsWith('$(history) stale: ✗ w[1]')), (await lensTitles(uri)).join(' | '));
    assert.equal(services.jobs.busy, false, 'an edit alone must not run the file');

    // Saved: the continuous run checks it again, and it passes.
    assert.ok(await document.save());
    await until('the re-check on save', () => outcomes.get(itemId) === 'passed', 60_000);
    assert.equal(services.store.result(uri, 'watched', 1)?.verdict, 'pass');
    assert.equal(services.store.isStale(uri, 'watched', 1), false);
    await until('the diagnostics to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
    assert.ok((await lensTitles(uri)).some((title) => title.startsWith('✓ max rel err')));

    // Stopped: a save checks nothing any more.
    watching.cancel();
    await until('the check to end', () => !services.jobs.busy);
    await replaceText(document, FIXED, BUGGY);
    assert.ok(await document.save());
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.equal(outcomes.get(itemId), 'passed');
    assert.equal(services.store.result(uri, 'watched', 1)?.verdict, 'pass');
    assert.equal(services.store.isStale(uri, 'watched', 1), true);
    watching.dispose();
  });
});
