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
        if (event.affectsConfiguration('gradlens.problemFiles')) this.changed.fire();
      }),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.services.isProblemDocument(document)) return [];
    // Before the sandbox has loaded the file: every exported value is a candidate.
    const problems = this.services.store.problems(document.uri, document.getText());
    const lenses: vscode.CodeLens[] = [];
    // Python problem files are debugged through the Python Debugger extension: no Debug lens without it.
    const debuggable = !isPythonFile(document.uri.fsPath) || pythonDebuggerType() !== null;
    for (const problem of problems) {
      if (problem.line === null || problem.kind === 'invalid') continue;
      const range = document.lineAt(Math.min(problem.line - 1, document.lineCount - 1)).range;
      const args = [document.uri, problem.name];
      const what = problem.kind === 'layer' ? 'backward' : 'gradient';
      lenses.push(new vscode.CodeLens(range, { title: '$(beaker) Check gradient', command: 'gradlens.checkProblem', arguments: args, tooltip: `Check the ${what} of ${problem.name} against central differences` }));
      if (debuggable) lenses.push(new vscode.CodeLens(range, { title: '$(debug-alt) Debug', command: 'gradlens.debugProblem', arguments: args, tooltip: `Check the ${what} of ${problem.name} with your code under the debugger (no time limit): breakpoints in ${problem.kind === 'layer' ? 'backward' : 'grad'} stop there` }));
      if (problem.kind === 'scalar') {
        lenses.push(new vscode.CodeLens(range, { title: '$(play) Run optimizer', command: 'gradlens.runOptimizerOnProblem', arguments: args, tooltip: `Step an optimizer on ${problem.name} and watch it in the dashboard` }));
      }
      for (const order of [1, 2] as const) {
        const report = this.services.store.result(document.uri, problem.name, order);
        if (!report) continue;
        if (this.services.store.isStale(document.uri, problem.name, order)) {
          lenses.push(new vscode.CodeLens(range, { title: `$(history) stale: ${verdictTitle(report)}`, command: 'gradlens.checkProblem', arguments: args, tooltip: 'The file changed since this check: click to check again' }));
        } else {
          lenses.push(new vscode.CodeLens(range, { title: verdictTitle(report), command: 'gradlens.showOutput', tooltip: 'Show the full report' }));
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
