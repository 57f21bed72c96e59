/**
 * The Test Explorer: problem files (the `gradlens.problemFiles` glob) with
 * one test item per exported problem and a second-order child when the
 * problem has `hvp`. Items come from the source text first (no code runs);
 * once the sandbox has loaded a file, from what it really exports. Every
 * check, from here or from a command, is a test run, so results always show
 * here. An edit marks a file's results stale; the run profiles support
 * continuous runs (a watched file is checked again on every save), and the
 * Debug profile checks with the user's code under the debugger.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckMode } from '../core/gradcheck';
import type { DiscoveredProblem } from '../protocol';
import { PROBLEM_FILE_EXCLUDE } from '../runner/problem-files';
import { type FileReport, type ProblemReport, isPythonFile } from '../runner/runner';
import { type CheckSelection, checkTargets } from './checks';
import { pythonDebuggerType } from './debugging';
import { culprit, errorSentence, lastVerdictOf, problemMessage, worstLines } from './describe';
import { exportRange, vscodeLocation } from './diagnostics';
import type { Services } from './services';

const SECOND_ORDER = '#2';
/** Items the Debug profile can run: TypeScript/JavaScript problem files (js-debug attaches to their runner), Python ones with a Python debugger. */
const DEBUGGABLE = new vscode.TestTag('gradlens.debuggable');

/** The last state reported to VS Code per test id. */
export type TestOutcomes = Map<string, 'passed' | 'failed' | 'errored' | 'skipped'>;

interface ItemData {
  uri: vscode.Uri;
  /** null for a file item. */
  problem: string | null;
  order: 1 | 2;
}

/** How a run was started: where its progress shows, and whether user code runs under the debugger. */
export interface RunOptions {
  /** Overrides the `gradlens.check.mode` setting (the Test Explorer's fast profile). */
  mode?: CheckMode;
  /** Started from the Test Explorer, which shows the progress itself; else from a command (status bar progress). */
  fromTestExplorer?: boolean;
  debug?: boolean;
}

/** A continuous run: what it watches (every file when `include` is undefined) until its token is cancelled. */
interface Watch {
  request: vscode.TestRunRequest;
  token: vscode.CancellationToken;
  options: RunOptions;
  /** Files (uri strings) being checked for this watch, and those saved again meanwhile. */
  running: Set<string>;
  again: Set<string>;
}

export class ProblemTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('gradlens', 'GradLens');
  /** The run profiles: checks (continuous runs too) and the debugger's. */
  readonly profiles: { full: vscode.TestRunProfile; fast: vscode.TestRunProfile; debug: vscode.TestRunProfile };
  private readonly data = new WeakMap<vscode.TestItem, ItemData>();
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly watches = new Set<Watch>();
  private readonly filesChanged = new vscode.EventEmitter<void>();
  /** The set of problem files (the controller's top-level items) changed. */
  readonly onDidChangeFiles = this.filesChanged.event;

  private watchedGlob = '';

  /** @param outcomes where the extension tests read what the Test Explorer was told (null outside them) */
  constructor(
    private readonly services: Services,
    private readonly outcomes: TestOutcomes | null = null,
  ) {
    this.controller.resolveHandler = (item) => this.resolve(item);
    this.controller.refreshHandler = () => this.discoverWorkspace();
    const handler = (options: RunOptions) => async (request: vscode.TestRunRequest, token: vscode.CancellationToken) => {
      if (request.continuous) this.watch(request, token, options);
      else await this.runRequest(request, token, options);
    };
    const { Run, Debug } = vscode.TestRunProfileKind;
    this.profiles = {
      full: this.controller.createRunProfile(vscode.l10n.t('Full check'), Run, handler({ mode: 'full', fromTestExplorer: true }), true, undefined, true),
      fast: this.controller.createRunProfile(vscode.l10n.t('Fast check (random directions)'), Run, handler({ mode: 'fast', fromTestExplorer: true }), false, undefined, true),
      debug: this.controller.createRunProfile(vscode.l10n.t('Debug check'), Debug, handler({ fromTestExplorer: true, debug: true }), true, DEBUGGABLE, true),
    };
    this.disposables.push(
      this.controller,
      this.filesChanged,
      services.store.onDidChange((uri) => this.refreshFromStore(uri)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        const item = this.controller.items.get(event.document.uri.toString());
        if (!item || event.contentChanges.length === 0) return;
        if (!services.store.get(event.document.uri)?.discovered) this.setChildren(item, services.store.problems(event.document.uri, event.document.getText()));
        // Results no longer say what the file does: dimmed here, in the Problems panel and in the CodeLens until checked again.
        if (services.store.markStale(event.document.uri)) this.controller.invalidateTestResults(item);
      }),
      vscode.workspace.onDidSaveTextDocument((document) => {
        const key = document.uri.toString();
        // Saved by a check about to run it: that check loads the file anyway.
        if (services.ownSaves.delete(key) || !this.controller.items.get(key)) return;
        if (!this.recheckWatched(document.uri)) void this.discoverInSandbox(document.uri);
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('gradlens.problemFiles')) void this.discoverWorkspace();
      }),
      // Granting trust lets the sandbox load files: their real problems replace the static listing.
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.discoverWorkspace()),
    );
  }

  private async resolve(item: vscode.TestItem | undefined): Promise<void> {
    if (!item) return this.discoverWorkspace();
    const data = this.data.get(item);
    if (data?.problem === null) await this.discoverInSandbox(data.uri);
  }

  /** Finds the problem files of the workspace and watches for new, changed and deleted ones. */
  async discoverWorkspace(): Promise<void> {
    const glob = this.services.settings().problemFiles;
    if (glob !== this.watchedGlob) {
      this.watcher?.dispose();
      this.watchedGlob = glob;
      this.watcher = vscode.workspace.createFileSystemWatcher(glob);
      this.watcher.onDidCreate((uri) => void this.fileItem(uri));
      this.watcher.onDidChange((uri) => void this.fileItem(uri));
      this.watcher.onDidDelete((uri) => {
        this.controller.items.delete(uri.toString());
        this.services.store.delete(uri);
        this.filesChanged.fire();
      });
    }
    const files = await vscode.workspace.findFiles(glob, PROBLEM_FILE_EXCLUDE);
    const keep = new Set(files.map((uri) => uri.toString()));
    this.controller.items.forEach((item) => {
      const data = this.data.get(item);
      if (data && !keep.has(item.id) && !this.services.store.get(data.uri)) this.controller.items.delete(item.id);
    });
    await Promise.all(files.map((uri) => this.fileItem(uri)));
    this.filesChanged.fire();
  }

  /** The file's item, created (with children from its source text) when new. */
  async fileItem(uri: vscode.Uri): Promise<vscode.TestItem> {
    let item = this.controller.items.get(uri.toString());
    if (!item) {
      item = this.controller.createTestItem(uri.toString(), vscode.workspace.asRelativePath(uri), uri);
      item.canResolveChildren = true;
      item.tags = isPythonFile(uri.fsPath) && pythonDebuggerType() === null ? [] : [DEBUGGABLE];
      this.data.set(item, { uri, problem: null, order: 1 });
      this.controller.items.add(item);
      this.filesChanged.fire();
    }
    const known = this.services.store.get(uri)?.discovered;
    if (known) this.setChildren(item, known);
    else {
      try {
        const bytes = await vscode.workspace.fs.readFile(uri);
        this.setChildren(item, this.services.store.problems(uri, Buffer.from(bytes).toString('utf8')));
      } catch {
        // Deleted meanwhile: the watcher removes it.
      }
    }
    return item;
  }

  /** Loads the file in the sandbox (checks nothing) to learn its real problems; trusted workspaces only. */
  private async discoverInSandbox(uri: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    await this.services.jobs.run(`loading ${path.basename(uri.fsPath)}`, (job) => checkTargets(this.services, [{ uri, only: [] }], { order: 1 }, job), { location: 'window' });
  }

  private refreshFromStore(uri: vscode.Uri): void {
    const item = this.controller.items.get(uri.toString());
    const results = this.services.store.get(uri);
    if (!item || !results) return;
    item.error = results.loadError ? new vscode.MarkdownString().appendText(errorSentence(results.loadError)) : undefined;
    if (results.discovered) this.setChildren(item, results.discovered);
  }

  private setChildren(item: vscode.TestItem, problems: readonly DiscoveredProblem[]): void {
    const uri = item.uri!;
    const children = problems.map((problem) => {
      const child = item.children.get(`${item.id}#${problem.name}`) ?? this.controller.createTestItem(`${item.id}#${problem.name}`, problem.name, uri);
      child.tags = item.tags;
      child.range = problem.line ? new vscode.Range(problem.line - 1, 0, problem.line - 1, 0) : undefined;
      child.description = problem.kind === 'layer' ? 'layer (VJP)' : problem.kind === 'invalid' ? 'not a valid problem' : undefined;
      this.data.set(child, { uri, problem: problem.name, order: 1 });
      if (problem.secondOrder) {
        const id = `${child.id}${SECOND_ORDER}`;
        const second = child.children.get(id) ?? this.controller.createTestItem(id, 'second order (hvp)', uri);
        second.tags = item.tags;
        second.range = child.range;
        this.data.set(second, { uri, problem: problem.name, order: 2 });
        child.children.replace([second]);
      } else {
        child.children.replace([]);
      }
      return child;
    });
    item.children.replace(children);
  }

  /**
   * Checks a file (or some of its problems) as a test run: what the commands
   * use. Order 2 runs the problems with hvp; null when there are none.
   */
  async runFile(uri: vscode.Uri, order: 1 | 2, only: string[] | null = null, options: RunOptions = {}): Promise<FileReport[] | null> {
    let file = await this.fileItem(uri);
    if (order === 1 && only === null) return this.runRequest(new vscode.TestRunRequest([file]), undefined, options);
    if (order === 2 && !this.services.store.get(uri)?.discovered) {
      if (!this.services.requireTrust(vscode.l10n.t('the second-order check'))) return [];
      await this.discoverInSandbox(uri);
      file = await this.fileItem(uri);
    }
    const include: vscode.TestItem[] = [];
    file.children.forEach((child) => {
      if (only && !only.includes(child.label)) return;
      const item = order === 1 ? child : child.children.get(`${child.id}${SECOND_ORDER}`);
      if (item) include.push(item);
    });
    return include.length === 0 ? null : this.runRequest(new vscode.TestRunRequest(include), undefined, options);
  }

  /** A continuous run: watched files are checked again on save until the run is stopped (no check now: nothing changed yet). */
  private watch(request: vscode.TestRunRequest, token: vscode.CancellationToken, options: RunOptions): void {
    const watch: Watch = { request, token, options, running: new Set(), again: new Set() };
    this.watches.add(watch);
    token.onCancellationRequested(() => this.watches.delete(watch));
  }

  /** The items of `uri` a watch covers: the file when it watches everything or the file, else the problems it names. */
  private watchedItems(watch: Watch, uri: vscode.Uri): vscode.TestItem[] {
    const file = this.controller.items.get(uri.toString());
    if (!file) return [];
    if (!watch.request.include) return [file];
    return watch.request.include.filter((item) => item === file || this.data.get(item)?.uri.toString() === uri.toString());
  }

  /** Checks a saved file again for every continuous run that watches it; returns whether any does. */
  private recheckWatched(uri: vscode.Uri): boolean {
    let watched = false;
    for (const watch of this.watches) {
      const items = this.watchedItems(watch, uri);
      if (items.length === 0 || watch.token.isCancellationRequested) continue;
      watched = true;
      void this.recheck(watch, uri, items);
    }
    return watched;
  }

  /** One save's check of a watched file; a save during it checks once more afterwards. */
  private async recheck(watch: Watch, uri: vscode.Uri, items: vscode.TestItem[]): Promise<void> {
    const key = uri.toString();
    if (watch.running.has(key)) {
      watch.again.add(key);
      return;
    }
    watch.running.add(key);
    try {
      do {
        watch.again.delete(key);
        await this.runRequest(new vscode.TestRunRequest(items, watch.request.exclude, watch.request.profile, true), watch.token, watch.options);
      } while (watch.again.has(key) && !watch.token.isCancellationRequested);
    } finally {
      watch.running.delete(key);
    }
  }

  private async runRequest(request: vscode.TestRunRequest, token: vscode.CancellationToken | undefined, options: RunOptions = {}): Promise<FileReport[]> {
    const run = this.controller.createTestRun(request, undefined, true);
    const excluded = new Set(request.exclude ?? []);
    // Per file and order: which problems (null = all of the file).
    const plan = new Map<string, { uri: vscode.Uri; first: Set<string> | null; second: Set<string> | null; items: vscode.TestItem[] }>();
    const add = (item: vscode.TestItem) => {
      if (excluded.has(item)) return;
      const data = this.data.get(item);
      if (!data) return;
      const key = data.uri.toString();
      const entry = plan.get(key) ?? { uri: data.uri, first: new Set<string>(), second: new Set<string>(), items: [] };
      plan.set(key, entry);
      entry.items.push(item);
      if (data.problem === null) {
        entry.first = null;
        entry.second = null;
      } else if (data.order === 2) entry.second?.add(data.problem);
      else {
        entry.first?.add(data.problem);
        item.children.forEach((child) => {
          if (!excluded.has(child)) entry.second?.add(data.problem!);
        });
      }
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    if (plan.size > 0 && !this.services.requireTrust(options.debug ? vscode.l10n.t('the debugged check') : vscode.l10n.t('the gradient check'))) {
      for (const entry of plan.values()) for (const item of entry.items) run.skipped(item);
      run.end();
      return [];
    }
    if (options.debug) this.skipUndebuggable(run, plan);
    if (plan.size === 0) {
      run.end();
      return [];
    }
    for (const entry of plan.values()) this.enqueue(run, entry.items);
    const reports: FileReport[] = [];
    const title = plan.size === 1
      ? (options.debug ? vscode.l10n.t('debugging {0}', path.basename([...plan.values()][0].uri.fsPath)) : vscode.l10n.t('checking {0}', path.basename([...plan.values()][0].uri.fsPath)))
      : (options.debug ? vscode.l10n.t('debugging {0} files', plan.size) : vscode.l10n.t('checking {0} files', plan.size));
    await this.services.jobs.run(title, async (job) => {
      for (const order of [1, 2] as const) {
        const targets: CheckSelection[] = [];
        for (const entry of plan.values()) {
          const names = order === 1 ? entry.first : entry.second;
          // An order-2 pass of a whole file runs only where hvp exists.
          const only = names === null && order === 2 ? this.secondOrderProblems(entry.uri) : names === null ? null : [...names];
          if (only !== null && only.length === 0) continue;
          targets.push({ uri: entry.uri, only });
        }
        const results = await checkTargets(this.services, targets, {
          order,
          mode: options.mode,
          debug: options.debug ? { testRun: run } : undefined,
          onResult: (uri, report) => this.report(run, uri, report),
        }, job);
        for (const report of results) this.reportFile(run, report);
        reports.push(...results);
        if (job.signal.aborted) break;
      }
    }, { token, location: options.fromTestExplorer ? 'none' : 'window' });
    run.end();
    if (reports.length > 0) this.services.jobs.setLastVerdict(lastVerdictOf(reports));
    return reports;
  }

  /**
   * Python problem files are debugged through the Python Debugger extension:
   * without it they are skipped with the reason, in the run's output and
   * once as a warning (the user asked for something that did not happen).
   */
  private skipUndebuggable(run: vscode.TestRun, plan: Map<string, { uri: vscode.Uri; items: vscode.TestItem[] }>): void {
    if (pythonDebuggerType() !== null) return;
    for (const [key, entry] of plan) {
      if (!isPythonFile(entry.uri.fsPath)) continue;
      plan.delete(key);
      const message = `${path.basename(entry.uri.fsPath)} was not debugged: debugging Python problem files needs the Python Debugger extension (ms-python.debugpy) and debugpy for the interpreter.`;
      run.appendOutput(`${message}\r\n`);
      for (const item of entry.items) {
        run.skipped(item);
        this.outcomes?.set(item.id, 'skipped');
      }
      void vscode.window.showWarningMessage(`GradLens: ${message}`);
    }
  }

  private secondOrderProblems(uri: vscode.Uri): string[] {
    return (this.services.store.get(uri)?.discovered ?? []).filter((problem) => problem.secondOrder).map((problem) => problem.name);
  }

  private enqueue(run: vscode.TestRun, items: readonly vscode.TestItem[]): void {
    for (const item of items) {
      run.enqueued(item);
      item.children.forEach((child) => this.enqueue(run, [child]));
    }
  }

  private itemFor(uri: vscode.Uri, problem: string, order: 1 | 2): vscode.TestItem | undefined {
    const file = this.controller.items.get(uri.toString());
    const child = file?.children.get(`${file.id}#${problem}`);
    return order === 2 ? child?.children.get(`${child.id}${SECOND_ORDER}`) : child;
  }

  private report(run: vscode.TestRun, uri: vscode.Uri, report: ProblemReport): void {
    // The sandbox may have found problems the static listing did not: the store update added them.
    const item = this.itemFor(uri, report.name, report.order);
    if (!item) return;
    const duration = report.seconds * 1000;
    const document = vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri.toString());
    const at = new vscode.Location(uri, exportRange(document, report.line, report.name));
    switch (report.verdict) {
      case 'pass':
      case 'kink':
        if (report.verdict === 'kink') run.appendOutput(`${problemMessage(report)}\r\n`, at, item);
        run.passed(item, duration);
        this.outcomes?.set(item.id, 'passed');
        return;
      case 'skipped':
        run.skipped(item);
        this.outcomes?.set(item.id, 'skipped');
        return;
      case 'fail': {
        const element = culprit(report);
        const text = [problemMessage(report), ...worstLines(report).slice(1)].join('\n');
        const message = element ? vscode.TestMessage.diff(text, String(element.numeric), String(element.analytic)) : new vscode.TestMessage(text);
        message.location = at;
        run.failed(item, message, duration);
        this.outcomes?.set(item.id, 'failed');
        return;
      }
      case 'nondeterministic':
      case 'error': {
        const message = new vscode.TestMessage(problemMessage(report));
        message.location = report.error?.location ? vscodeLocation(report.error.location) : at;
        run.errored(item, message, duration);
        this.outcomes?.set(item.id, 'errored');
        return;
      }
    }
  }

  /** A file that did not load fails all of its items; items no result came for were cancelled. */
  private reportFile(run: vscode.TestRun, report: FileReport): void {
    const uri = vscode.Uri.file(report.file);
    const file = this.controller.items.get(uri.toString());
    if (!file) return;
    if (report.loadError) {
      const message = new vscode.TestMessage(errorSentence(report.loadError));
      if (report.loadError.location) message.location = vscodeLocation(report.loadError.location);
      run.errored(file, message);
      this.outcomes?.set(file.id, 'errored');
    }
  }

  dispose(): void {
    this.watches.clear();
    this.watcher?.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
