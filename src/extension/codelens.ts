/**
 * CodeLens above each exported problem: `Check gradient` · `Debug` · `Run
 * optimizer` · the last result (`✓ max rel err 3e-9`, `✗ W[2,3] rel 0.5`),
 * marked stale once the file has changed since (a click checks again).
 */
import * as vscode from 'vscode';
import { isPythonFile } from '../runner/runner';
import { pythonDebuggerType } from './debugging';
import { verdictTitle } from './describe';
import type { Services } from './services';

export class ProblemCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly services: Services) {
    this.subscription = vscode.Disposable.from(
      services.store.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('gradlens.problemFiles') || event.affectsConfiguration('gradlens.codeLens.enabled')) this.changed.fire();
      }),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.services.settings(document.uri).codeLens || !this.services.isProblemDocument(document)) return [];
    // Before the sandbox has loaded the file: every exported value is a candidate.
    const problems = this.services.store.problems(document.uri, document.getText());
    const lenses: vscode.CodeLens[] = [];
    // Python problem files are debugged through the Python Debugger extension: no Debug lens without it.
    const debuggable = !isPythonFile(document.uri.fsPath) || pythonDebuggerType() !== null;
    for (const problem of problems) {
      if (problem.line === null || problem.kind === 'invalid') continue;
      const range = document.lineAt(Math.min(problem.line - 1, document.lineCount - 1)).range;
      const args = [document.uri, problem.name];
      const isLayer = problem.kind === 'layer';
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(beaker) Check gradient'), command: 'gradlens.checkProblem', arguments: args, tooltip: isLayer ? vscode.l10n.t('Check the backward of {0} against central differences', problem.name) : vscode.l10n.t('Check the gradient of {0} against central differences', problem.name) }));
      if (debuggable) {
        const tooltip = isLayer
          ? vscode.l10n.t('Check the backward of {0} with your code under the debugger (no time limit): breakpoints in backward stop there', problem.name)
          : vscode.l10n.t('Check the gradient of {0} with your code under the debugger (no time limit): breakpoints in grad stop there', problem.name);
        lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(debug-alt) Debug'), command: 'gradlens.debugProblem', arguments: args, tooltip }));
      }
      if (problem.kind === 'scalar') {
        lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(play) Run optimizer'), command: 'gradlens.runOptimizerOnProblem', arguments: args, tooltip: vscode.l10n.t('Step an optimizer on {0} and watch it in the dashboard', problem.name) }));
      }
      for (const order of [1, 2] as const) {
        const report = this.services.store.result(document.uri, problem.name, order);
        if (!report) continue;
        if (this.services.store.isStale(document.uri, problem.name, order)) {
          lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(history) stale: {0}', verdictTitle(report)), command: 'gradlens.checkProblem', arguments: args, tooltip: vscode.l10n.t('The file changed since this check: click to check again') }));
        } else {
          lenses.push(new vscode.CodeLens(range, { title: verdictTitle(report), command: 'gradlens.showOutput', tooltip: vscode.l10n.t('Show the full report') }));
        }
      }
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
