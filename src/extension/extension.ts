/**
 * The VS Code host. It never runs user code: every check goes through the
 * sandboxed runner process (esbuild and user code load only there).
 */
import * as vscode from 'vscode';
import { formatFile, formatSummary } from '../cli/format';
import { checkFile } from '../runner/runner';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('GradLens', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('gradlens.checkGradients', () => checkActiveFile(output)),
  );
}

export function deactivate(): void {
  // Runner processes end with the checks that started them.
}

async function checkActiveFile(output: vscode.LogOutputChannel): Promise<void> {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('GradLens: open a problem file (.ts, .mts, .js, .mjs, .cjs) to check its gradients.');
    return;
  }
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showWarningMessage(
      'GradLens runs the code of problem files, and this workspace is not trusted.',
      'Manage Workspace Trust',
    );
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return;
  }
  // The runner reads the file from disk.
  if (document.isDirty) await document.save();
  const file = document.uri.fsPath;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'GradLens: checking gradients', cancellable: true },
    (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return checkFile(file, {}, undefined, {
        signal: controller.signal,
        onOutput: (text) => output.append(text),
        onProblemStarted: (_file, problem) => progress.report({ message: problem }),
      });
    },
  );
  report.file = vscode.workspace.asRelativePath(file);
  output.info(`\n${formatFile(report, { color: false })}`);
  const summary = report.loadError ?? formatSummary(report.problems, 0);
  const allPassed = !report.loadError && report.problems.length > 0 && report.problems.every((problem) => problem.passed);
  const show = allPassed ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
  if ((await show(`GradLens: ${summary}`, 'Show Output')) === 'Show Output') output.show(true);
}
