/**
 * What every feature of the extension shares: the log, the result store, the
 * job runner, the settings and the Workspace Trust gate.
 */
import * as vscode from 'vscode';
import type { ProblemSource } from '../protocol';
import { isProblemFile, isPythonFile } from '../runner/runner';
import { type Settings, readSettings } from './settings';
import { pythonInterpreter } from './python-interpreter';
import { Dashboards } from './dashboards';
import { Jobs } from './jobs';
import { ResultStore } from './results';

export class Services implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('GradLens', { log: true });
  readonly store = new ResultStore();
  readonly jobs = new Jobs();
  readonly dashboards: Dashboards;
  /** Problem files GradLens itself saved before checking them (uri strings): no edit of the user's to answer. */
  readonly ownSaves = new Set<string>();
  private warnedAbout = '';
  private loggedInterpreter = '';

  constructor(readonly context: vscode.ExtensionContext) {
    this.dashboards = new Dashboards(context);
  }

  /** The current settings; bad values are replaced by defaults and named in one warning (again only if they change). */
  settings(scope?: vscode.Uri): Settings {
    const configuration = vscode.workspace.getConfiguration('gradlens', scope);
    const { settings, problems } = readSettings((key) => configuration.get(key));
    const warning = problems.join('\n');
    if (warning !== this.warnedAbout) {
      this.warnedAbout = warning;
      this.jobs.setSettingsProblems(problems);
      if (warning) {
        this.output.warn(`Settings: ${warning}`);
        void vscode.window.showWarningMessage(`GradLens settings: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, 'Open Settings').then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'gradlens');
        });
      }
    }
    return settings;
  }

  /**
   * Whether the document is a problem file: it matches `gradlens.problemFiles`
   * (the only files Check Gradients runs) and has a language GradLens runs.
   */
  isProblemDocument(document: vscode.TextDocument): boolean {
    if (document.uri.scheme !== 'file' || !isProblemFile(document.uri.fsPath)) return false;
    return vscode.languages.match({ scheme: 'file', pattern: this.settings(document.uri).problemFiles }, document) > 0;
  }

  /** `isProblemDocument` for a file that may not be open (it is opened, not shown, to match it). */
  async isProblemUri(uri: vscode.Uri): Promise<boolean> {
    if (uri.scheme !== 'file' || !isProblemFile(uri.fsPath)) return false;
    try {
      return this.isProblemDocument(await vscode.workspace.openTextDocument(uri));
    } catch {
      return false;
    }
  }

  /** The interpreter for a Python problem file (logged when it changes); null for other files. */
  async interpreterFor(file: vscode.Uri): Promise<string | null> {
    if (!isPythonFile(file.fsPath)) return null;
    const interpreter = await pythonInterpreter(file, this.settings(file).pythonPath);
    const line = interpreter.path
      ? `Python problem files run with ${interpreter.path} (from ${interpreter.from})`
      : 'Python problem files run with python3 on the PATH (or another python3 where it lacks NumPy, or PyTorch for a file that imports torch)';
    if (line !== this.loggedInterpreter) {
      this.loggedInterpreter = line;
      this.output.info(line);
    }
    return interpreter.path;
  }

  /** `source` with the interpreter a Python problem file runs with. */
  async problemSource(source: ProblemSource): Promise<ProblemSource> {
    if (!('file' in source)) return source;
    const python = await this.interpreterFor(vscode.Uri.file(source.file));
    return python ? { ...source, python } : source;
  }

  /**
   * Workspace files run only in a trusted workspace. Otherwise says why and
   * offers to manage trust (without waiting for the answer); returns whether
   * the caller may go on.
   */
  requireTrust(what: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    this.output.warn(`Not run: ${what}. This workspace is not trusted, and GradLens runs the code of problem files.`);
    void vscode.window.showWarningMessage(
      `GradLens runs the code of problem files, and this workspace is not trusted: ${what} was not run. Built-in problems still work.`,
      'Manage Workspace Trust',
    ).then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
    return false;
  }

  dispose(): void {
    this.dashboards.dispose();
    this.jobs.dispose();
    this.store.dispose();
    this.output.dispose();
  }
}
