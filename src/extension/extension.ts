/**
 * The VS Code host. It never runs user code: every check, run and analysis
 * goes through the sandboxed runner process (esbuild and user code load only
 * there). Activation only wires things up; nothing is computed until asked.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PROBLEM_FILE_EXCLUDE } from '../runner/problem-files';
import type { FileReport } from '../runner/runner';
import { checkNotification } from './describe';
import { errorLine } from './text';
import { ProblemCodeLenses } from './codelens';
import { type NewProblemArguments, newProblemFile } from './new-problem';
import { registerDiagnostics } from './diagnostics';
import { OptimizerCommands, type RawCommandArguments, commandArguments } from './optimizer-commands';
import { fileChoice } from './pickers';
import { type ShownStep, onDidShowStep } from './multi-step';
import { Services } from './services';
import { ProblemFileContext } from './problem-context';
import { ProblemTests, type TestOutcomes } from './testing';
import { WatchCommands } from './watch-commands';

/** globalState key: the user chose "Don't Show Again" on the notification of a failed check. */
const QUIET_FAILURES = 'gradlens.quietCheckFailures';

/** What `activate` returns. */
export interface GradLensApi {
  /** Milliseconds spent in activate(). */
  activationMs: number;
  /** Only in extension tests (ExtensionMode.Test): the internals they observe. */
  testing: { services: Services; tests: ProblemTests; outcomes: TestOutcomes; watch: WatchCommands; onDidShowStep: vscode.Event<ShownStep> } | null;
}

export function activate(context: vscode.ExtensionContext): GradLensApi {
  const started = performance.now();
  const services = new Services(context);
  const outcomes: TestOutcomes | null = context.extensionMode === vscode.ExtensionMode.Test ? new Map() : null;
  const tests = new ProblemTests(services, outcomes);
  const codeLenses = new ProblemCodeLenses(services);
  const problemContext = new ProblemFileContext(services, tests);
  const optimizers = new OptimizerCommands(services);
  const watch = new WatchCommands(context, services);
  const command = (id: string, handler: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, handler);
  context.subscriptions.push(
    services,
    tests,
    problemContext,
    codeLenses,
    optimizers,
    watch,
    registerDiagnostics(services.store),
    vscode.languages.registerCodeLensProvider(['typescript', 'javascript', 'python'].map((language) => ({ scheme: 'file', language })), codeLenses),
    command('gradlens.checkGradients', (uri?: vscode.Uri) => checkFile(services, tests, 1, uri)),
    command('gradlens.checkSecondOrder', (uri?: vscode.Uri) => checkFile(services, tests, 2, uri)),
    command('gradlens.checkWorkspace', () => checkWorkspace(services, tests)),
    command('gradlens.checkProblem', (uri: vscode.Uri, problem: string) => announce(services, tests.runFile(uri, 1, [problem]))),
    command('gradlens.debugProblem', (uri: vscode.Uri, problem: string) => tests.runFile(uri, 1, [problem], { debug: true })),
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
    command('gradlens.openRunLog', (given?: vscode.Uri | string) => watch.openRunLog(given)),
    command('gradlens.newProblemFile', (given?: NewProblemArguments) => newProblemFile(context, services.output, given)),
  );
  // The Test Explorer lists problem files as soon as the workspace has any (activation on workspaceContains).
  void tests.discoverWorkspace();
  void watch.start();
  const activationMs = performance.now() - started;
  services.output.info(`GradLens activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, testing: outcomes ? { services, tests, outcomes, watch, onDidShowStep } : null };
}

export function deactivate(): void {
  // Runner processes are stopped by the disposables (Jobs.dispose aborts every job).
}

/**
 * The file to check: the argument (explorer, editor title), else the active
 * editor's file, else the user picks problems across the workspace. Only
 * files matching `gradlens.problemFiles` are run.
 */
async function checkFile(services: Services, tests: ProblemTests, order: 1 | 2, uri?: vscode.Uri): Promise<FileReport[] | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const target = uri ?? (active && services.isProblemDocument(active) ? active.uri : undefined);
  if (uri && !(await services.isProblemUri(uri))) {
    void vscode.window.showErrorMessage(`GradLens: ${path.basename(uri.fsPath)} is not a problem file (setting gradlens.problemFiles: ${services.settings(uri).problemFiles}).`);
    return undefined;
  }
  if (!target) {
    if (order === 1) return checkWorkspace(services, tests);
    void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: open a problem file ({0}) to check its second-order gradients.', services.settings().problemFiles));
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
 * A command's check ends quietly: its verdict is in the Test Explorer, the
 * Problems panel and the status bar. A notification only for what needs
 * action (checkNotification); a failure's can be turned off. Not awaited: the
 * command returns its reports as soon as the check ends.
 */
async function announce(services: Services, pending: Promise<FileReport[] | null>): Promise<FileReport[]> {
  const reports = (await pending) ?? [];
  const notice = checkNotification(reports, errorLine);
  const state = services.context.globalState;
  if (!notice || (notice.repeats && state.get<boolean>(QUIET_FAILURES))) return reports;
  const actions = notice.kind === 'runnerFailure' ? [vscode.l10n.t('Show Output')] : [vscode.l10n.t('Show Problems'), vscode.l10n.t("Don't Show Again")];
  void vscode.window.showErrorMessage(notice.text, ...actions).then((choice) => {
    if (choice === actions[0] && notice.kind === 'runnerFailure') services.output.show(true);
    else if (choice === actions[0]) void vscode.commands.executeCommand('workbench.actions.view.problems');
    else if (choice === actions[1]) void state.update(QUIET_FAILURES, true);
  });
  return reports;
}
