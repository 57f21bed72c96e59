/**
 * Context keys for `when` clauses, so that menus, the palette and the
 * keybinding offer GradLens's file commands only where they can run:
 * - `gradlens.problemFilePaths`: the problem files (matching
 *   `gradlens.problemFiles`) discovered or open, for `resourcePath in …`;
 * - `gradlens.problemFileOpen`: the active editor shows one;
 * - `gradlens.hasProblemFiles`: the workspace has any.
 */
import * as vscode from 'vscode';
import type { Services } from './services';
import type { ProblemTests } from './testing';

export class ProblemFileContext implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;
  private pending: NodeJS.Timeout | undefined;
  private last = '';

  constructor(
    private readonly services: Services,
    private readonly tests: ProblemTests,
  ) {
    const later = () => this.schedule();
    this.subscription = vscode.Disposable.from(
      tests.onDidChangeFiles(later),
      vscode.window.onDidChangeActiveTextEditor(later),
      vscode.workspace.onDidOpenTextDocument(later),
      vscode.workspace.onDidCloseTextDocument(later),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('gradlens.problemFiles')) later();
      }),
    );
    this.update();
  }

  /** Events come in bursts (discovery adds files one by one): one update per burst. */
  private schedule(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.update(), 50);
  }

  update(): void {
    const paths = new Set<string>();
    this.tests.controller.items.forEach((item) => {
      if (item.uri) paths.add(item.uri.fsPath);
    });
    for (const document of vscode.workspace.textDocuments) if (this.services.isProblemDocument(document)) paths.add(document.uri.fsPath);
    const active = vscode.window.activeTextEditor?.document;
    const open = active !== undefined && this.services.isProblemDocument(active);
    const state = JSON.stringify([[...paths].sort(), open]);
    if (state === this.last) return;
    this.last = state;
    void vscode.commands.executeCommand('setContext', 'gradlens.problemFilePaths', [...paths]);
    void vscode.commands.executeCommand('setContext', 'gradlens.problemFileOpen', open);
    void vscode.commands.executeCommand('setContext', 'gradlens.hasProblemFiles', paths.size > 0);
  }

  dispose(): void {
    clearTimeout(this.pending);
    this.subscription.dispose();
  }
}
