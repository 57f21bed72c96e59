/**
 * The VS Code host. It never runs user code: every check, run and analysis
 * goes through the sandboxed runner process (esbuild and user code load only
 * there). Activation only wires things up; nothing is computed until asked.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type FileReport, isProblemFile } from '../runner/runner';
import { formatSummary } from '../report/checks';
import { errorLine } from './text';
import { ProblemCodeLenses } from './codelens';
import { type NewProblemArguments, newProblemFile } from './new-problem';
import { registerDiagnostics } from './diagnostics';
import { OptimizerCommands, type RawCommandArguments, commandArguments } from './optimizer-commands';
import { fileChoice } from './pickers';
import { type ShownStep, onDidShowStep } from './multi-step';
import { Services } from './services';
import { PROBLEM_FILE_EXCLUDE } from './settings';
import { ProblemTests, type TestOutcomes } from './testing';

/** What `activate` returns. */
export interface GradLensApi {
  /** Milliseconds spent in activate(). */
  activationMs: number;
  /** Only in extension tests (ExtensionMode.Test): the internals they observe. */
  testing: { services: Services; tests: ProblemTests; outcomes: TestOutcomes; onDidShowStep: vscode.Event<ShownStep> } | null;
}

export function activate(context: vscode.ExtensionContext): GradLensApi {
  const started = performance.now();
  const services = new Services(context);
  const outcomes: TestOutcomes | null = context.extensionMode === vscode.ExtensionMode.Test ? new Map() : null;
  const tests = new ProblemTests(services, outcomes);
  const codeLenses = new ProblemCodeLenses(services);
  const optimizers = new OptimizerCommands(services);
  const command = (id: string, handler: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, handler);
  context.subscriptions.push(
    services,
    tests,
    codeLenses,
    optimizers,
    registerDiagnostics(services.store),
    vscode.languages.registerCodeLensProvider(['typescript', 'javascript', 'python'].map((language) => ({ scheme: 'file', language })), codeLenses),
    command('gradlens.checkGradients', (uri?: vscode.Uri) => checkFile(services, tests, 1, uri)),
    command('gradlens.checkSecondOrder', (uri?: vscode.Uri) => checkFile(services, tests, 2, uri)),
    command('gradlens.checkWorkspace', () => checkWorkspace(services, tests)),
    command('gradlens.checkProblem', (uri: vscode.Uri, problem: string) => announce(services, tests.runFile(uri, 1, [problem]))),
    command('gradlens.runOptimizer', (given?: RawCommandArguments) => optimizers.runOptimizer(commandArguments(given))),
    command('gradlens.runOptimizerOnProblem', (uri: vscode.Uri, problem: string) => optimizers.runOptimizer({ problem: fileChoice(uri, problem) })),
    command('gradlens.compareOptimizers', (given?: RawCommandArguments) => optimizers.compareOptimizers(commandArguments(given))),
    command('gradlens.analyzeCriticalPoint', (given?: RawCommandArguments) => optimizers.analyzeCriticalPoint(commandArguments(given))),
    command('gradlens.openDashboard', () => void services.dashboards.open()),
    command('gradlens.stopRun', () => {
      const stopped = services.jobs.stopAll();
      if (stopped === 0) void vscode.window.showInformationMessage(vscode.l10n.t('GradLens: nothing is running.'));
      return stopped;
    }),
    command('gradlens.showOutput', () => services.output.show(true)),
    command('gradlens.newProblemFile', (given?: NewProblemArguments) => newProblemFile(context, services.output, given)),
  );
  // The Test Explorer lists problem files as soon as the workspace has any (activation on workspaceContains).
  void tests.discoverWorkspace();
  const activationMs = performance.now() - started;
  services.output.info(`GradLens activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, testing: outcomes ? { services, tests, outcomes, onDidShowStep } : null };
}

export function deactivate(): void {
  // Runner processes are stopped by the disposables (Jobs.dispose aborts every job).
}

/**
 * The file to check: the argument (explorer, editor title), else the active
 * editor's file, else the user picks problems across the workspace.
 */
async function checkFile(services: Services, tests: ProblemTests, order: 1 | 2, uri?: vscode.Uri): Promise<FileReport[] | undefined> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (!target || target.scheme !== 'file' || !isProblemFile(target.fsPath)) {
    if (order === 1) return checkWorkspace(services, tests);
    void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: open a problem file (.ts, .mts, .js, .mjs, .cjs, .py) to check its second-order gradients.'));
    return undefined;
  }
  const reports = await tests.runFile(target, order);
  if (reports === null) {
    const loadError = services.store.get(target)?.loadError;
    void vscode.window.showErrorMessage(loadError
      ? vscode.l10n.t('GradLens: {0}', errorLine(loadError))
      : vscode.l10n.t('GradLens: no problem in {0} has hvp(p, v), so there is no second-order check to run.', path.basename(target.fsPath)));
    return undefined;
  }
  return announce(services, Promise.resolve(reports));
}

/** Pick problems in any problem file of the workspace. */
async function checkWorkspace(services: Services, tests: ProblemTests): Promise<FileReport[] | undefined> {
  const files = await vscode.workspace.findFiles(services.settings().problemFiles, PROBLEM_FILE_EXCLUDE);
  if (files.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: no problem files ({0}) in this workspace; open one to check it.', services.settings().problemFiles));
    return undefined;
  }
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri; problem?: string };
  const items: Item[] = [];
  for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    const known = services.store.problems(uri, Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
    items.push({ label: vscode.workspace.asRelativePath(uri), kind: vscode.QuickPickItemKind.Separator });
    for (const problem of known) items.push({ label: problem.name, description: vscode.workspace.asRelativePath(uri), picked: true, uri, problem: problem.name });
  }
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('GradLens: Check Gradients'), placeHolder: vscode.l10n.t('Problems to check'), canPickMany: true });
  if (!picked || picked.length === 0) return undefined;
  const byFile = new Map<string, { uri: vscode.Uri; problems: string[] }>();
  for (const item of picked) {
    if (!item.uri || !item.problem) continue;
    const entry = byFile.get(item.uri.toString()) ?? { uri: item.uri, problems: [] };
    entry.problems.push(item.problem);
    byFile.set(item.uri.toString(), entry);
  }
  const reports: FileReport[] = [];
  for (const { uri, problems } of byFile.values()) reports.push(...((await tests.runFile(uri, 1, problems)) ?? []));
  return announce(services, Promise.resolve(reports));
}

/**
 * The verdict as a notification. Not awaited: the command returns its
 * reports as soon as the check ends, whatever the user does with the toast.
 */
async function announce(services: Services, pending: Promise<FileReport[] | null>): Promise<FileReport[]> {
  const reports = (await pending) ?? [];
  if (reports.length === 0) return reports;
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError);
  const cancelled = reports.some((report) => report.cancelled);
  const summary = loadErrors.length === 1 && problems.length === 0 ? errorLine(loadErrors[0].loadError!) : formatSummary(problems, loadErrors.length);
  const passed = loadErrors.length === 0 && problems.length > 0 && problems.every((problem) => problem.passed);
  const show = cancelled ? vscode.window.showWarningMessage : passed ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
  void show(cancelled ? vscode.l10n.t('GradLens: stopped; {0}', summary) : vscode.l10n.t('GradLens: {0}', summary), vscode.l10n.t('Show Output')).then((choice) => {
    if (choice) services.output.show(true);
  });
  return reports;
}
