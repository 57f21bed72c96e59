/**
 * CodeLens above each exported problem: `Check gradient` · `Run optimizer`
 * · the last result (`✓ max rel err 3e-9`, `✗ W[2,3] rel 0.5`).
 */
import * as vscode from 'vscode';
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

  private isProblemFile(document: vscode.TextDocument): boolean {
    if (this.services.store.get(document.uri)) return true;
    return vscode.languages.match({ scheme: 'file', pattern: this.services.settings(document.uri).problemFiles }, document) > 0;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.services.settings(document.uri).codeLens || !this.isProblemFile(document)) return [];
    // Before the sandbox has loaded the file: every exported value is a candidate.
    const problems = this.services.store.problems(document.uri, document.getText());
    const lenses: vscode.CodeLens[] = [];
    for (const problem of problems) {
      if (problem.line === null || problem.kind === 'invalid') continue;
      const range = document.lineAt(Math.min(problem.line - 1, document.lineCount - 1)).range;
      const args = [document.uri, problem.name];
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(beaker) Check gradient'), command: 'gradlens.checkProblem', arguments: args, tooltip: problem.kind === 'layer' ? vscode.l10n.t('Check the backward of {0} against central differences', problem.name) : vscode.l10n.t('Check the gradient of {0} against central differences', problem.name) }));
      if (problem.kind === 'scalar') {
        lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(play) Run optimizer'), command: 'gradlens.runOptimizerOnProblem', arguments: args, tooltip: vscode.l10n.t('Step an optimizer on {0} and watch it in the dashboard', problem.name) }));
      }
      for (const order of [1, 2] as const) {
        const report = this.services.store.result(document.uri, problem.name, order);
        if (report) lenses.push(new vscode.CodeLens(range, { title: verdictTitle(report), command: 'gradlens.showOutput', tooltip: vscode.l10n.t('Show the full report') }));
      }
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
