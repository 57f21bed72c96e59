/**
 * Watched training scripts in VS Code: the socket their runs stream to (its path, and GradLens's Python
 * folder for `import gradlens`, given to every new terminal through the extension's environment variable
 * collection), and GradLens: Open Run Log…, which replays a gradlens.watch log into the dashboard.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { InputError } from '../core/errors';
import { readRunLog } from '../core/run-log';
import { ExternalRuns, SOCKET_VARIABLE } from './external-runs';
import type { Services } from './services';

export class WatchCommands implements vscode.Disposable {
  readonly runs: ExternalRuns;

  constructor(private readonly context: vscode.ExtensionContext, private readonly services: Services) {
    this.runs = new ExternalRuns({
      publish: (message, open) => services.dashboards.publish(message, open),
      log: (text) => services.output.warn(text),
    });
    services.dashboards.onExternalRuns(this.runs);
  }

  private starting: Promise<void> | null = null;

  /**
   * Listens for watched scripts and tells new terminals where (activation does not wait for it); the same
   * promise on every call, so that a caller can wait until terminals it creates get the socket.
   */
  start(): Promise<void> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<void> {
    try {
      const socket = await this.runs.listen();
      const environment = this.context.environmentVariableCollection;
      // The socket is this window's: a restored terminal of another session must not find a stale one.
      environment.persistent = false;
      environment.description = 'GradLens: gradlens.watch(optimizer) in Python scripts streams to the dashboard';
      environment.replace(SOCKET_VARIABLE, socket);
      environment.append('PYTHONPATH', `${path.delimiter}${this.context.asAbsolutePath('python')}`);
      this.services.output.info(`Training scripts run in VS Code's terminals stream gradlens.watch() runs to ${socket}`);
    } catch (error) {
      this.services.output.warn(`No live runs from terminals: the watch socket could not be opened (${(error as Error).message}); gradlens.watch() writes logs instead`);
    }
  }

  /** Open Run Log…: a log file (the argument, or picked), overlaid on another external run when asked. */
  async openRunLog(given?: vscode.Uri | string): Promise<string | undefined> {
    let uri = typeof given === 'string' ? vscode.Uri.file(given) : given;
    if (!uri) {
      const folder = vscode.workspace.workspaceFolders?.[0];
      const picked = await vscode.window.showOpenDialog({
        title: 'GradLens: Open Run Log',
        openLabel: 'Open Run Log',
        canSelectMany: false,
        filters: { 'gradlens.watch run logs': ['jsonl'], 'All files': ['*'] },
        defaultUri: folder && vscode.Uri.joinPath(folder.uri, 'gradlens-runs'),
      });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    const file = vscode.workspace.asRelativePath(uri);
    let log;
    try {
      log = readRunLog(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'), file);
    } catch (error) {
      const message = error instanceof InputError ? error.message : `${file}: ${(error as Error).message}`;
      void vscode.window.showErrorMessage(`GradLens: ${message}`);
      return undefined;
    }
    let compareWith: string | null = null;
    const others = this.runs.runs();
    if (others.length && typeof given !== 'string') {
      type Item = vscode.QuickPickItem & { runId: string | null };
      const choice = await vscode.window.showQuickPick<Item>(
        [{ label: 'On its own', runId: null }, ...others.map((run) => ({ label: `Overlay on ${run.label}`, description: run.live ? 'live' : 'log', runId: run.runId }))],
        { title: `GradLens: Open ${path.basename(uri.fsPath)}`, placeHolder: 'Show the log alone, or overlaid on another training run to compare' },
      );
      if (!choice) return undefined;
      compareWith = choice.runId;
    }
    const runId = this.runs.replay(log, uri.fsPath, compareWith);
    if (log.cutOff || !log.end) this.services.output.info(`${file}: opened up to step ${log.steps.at(-1)?.record.step ?? 0}; ${log.cutOff ? 'its last line was cut off and is left out' : 'the log has no end line (the script was killed, or still runs)'}`);
    return runId;
  }

  dispose(): void {
    this.runs.dispose();
  }
}
