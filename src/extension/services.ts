/**
 * What every feature of the extension shares: the log, the result store, the
 * job runner, the settings and the Workspace Trust gate.
 */
import * as vscode from 'vscode';
import type { ProblemSource } from '../protocol';
import { isProblemFile, isPythonFile } from '../runner/runner';
import { type DeprecatedSetting, type Settings, readSettings } from './settings';
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
  /** Deprecated names already announced this session (once each). */
  private readonly announcedDeprecations = new Set<string>();
  private loggedInterpreter = '';

  constructor(readonly context: vscode.ExtensionContext) {
    this.dashboards = new Dashboards(context);
  }

  /** The current settings; bad values are replaced by defaults and named in one warning (again only if they change). */
  settings(scope?: vscode.Uri): Settings {
    const configuration = vscode.workspace.getConfiguration('gradlens', scope);
    const { settings, problems, deprecated } = readSettings((key) => configuration.get(key), (key) => isSetByUser(configuration.inspect(key)));
    for (const setting of deprecated) this.announceDeprecation(setting, scope);
    const warning = problems.join('\n');
    if (warning !== this.warnedAbout) {
      this.warnedAbout = warning;
      this.jobs.setSettingsProblems(problems);
      if (warning) {
        this.output.warn(`Settings: ${warning}`);
        void vscode.window.showWarningMessage(problems.length > 1 ? vscode.l10n.t('GradLens settings: {0} (and {1} more)', problems[0], problems.length - 1) : vscode.l10n.t('GradLens settings: {0}', problems[0]), vscode.l10n.t('Open Settings')).then((choice) => {
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

  /** Once per session: the old name is still read; offers to move its value to the new name where it is set. */
  private announceDeprecation(setting: DeprecatedSetting, scope: vscode.Uri | undefined): void {
    if (this.announcedDeprecations.has(setting.old)) return;
    this.announcedDeprecations.add(setting.old);
    const text = vscode.l10n.t('gradlens.{0} is deprecated: it is now gradlens.{1} (its value {2} is still used).', setting.old, setting.replacement, JSON.stringify(setting.value));
    this.output.warn(`Settings: ${text}`);
    void vscode.window.showWarningMessage(vscode.l10n.t('GradLens: {0}', text), vscode.l10n.t('Rename Setting')).then((choice) => {
      if (choice) void renameSetting(setting, scope).catch((error: unknown) => this.output.error(`Settings: could not rename gradlens.${setting.old}: ${(error as Error).message}`));
    });
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
      vscode.l10n.t('GradLens runs the code of problem files, and this workspace is not trusted: {0} was not run. Built-in problems still work.', what),
      vscode.l10n.t('Manage Workspace Trust'),
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

type Inspection = ReturnType<vscode.WorkspaceConfiguration['inspect']>;

function isSetByUser(inspection: Inspection): boolean {
  if (!inspection) return false;
  return [inspection.globalValue, inspection.workspaceValue, inspection.workspaceFolderValue, inspection.globalLanguageValue, inspection.workspaceLanguageValue, inspection.workspaceFolderLanguageValue].some((value) => value !== undefined);
}

/** Moves the old setting's value to its new name in every place (user, workspace, folder) that sets it. */
async function renameSetting(setting: DeprecatedSetting, scope: vscode.Uri | undefined): Promise<void> {
  const configuration = vscode.workspace.getConfiguration('gradlens', scope);
  const inspection = configuration.inspect(setting.old);
  const places: [unknown, vscode.ConfigurationTarget][] = [
    [inspection?.globalValue, vscode.ConfigurationTarget.Global],
    [inspection?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    [inspection?.workspaceFolderValue, vscode.ConfigurationTarget.WorkspaceFolder],
  ];
  for (const [value, target] of places) {
    if (value === undefined) continue;
    await configuration.update(setting.replacement, value, target);
    await configuration.update(setting.old, undefined, target);
  }
}
