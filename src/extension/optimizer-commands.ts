/**
 * Run Optimizer…, Compare Optimizers…, Analyze Critical Point and the
 * dashboard's live runs: each request runs in the sandbox, streams its
 * telemetry to the dashboard, and takes the dashboard's controls (pause,
 * step, new hyper-parameters, stop, restart, restart from a clicked point).
 */
import * as vscode from 'vscode';
import type { ErrorReport } from '../core/errors';
import { formatAnalysis, formatComparison, formatRun } from '../report/runs';
import { VSCODE_SETTINGS } from './describe';
import { errorLine } from './text';
import type { CriticalPointReport } from '../core/analysis';
import { type OptimizerChoice, findOptimizer, optimizerNames, resolveHyperparameters } from '../core/optim';
import type { Hyperparameters } from '../core/optim/optimizer';
import { BUILTIN_PROBLEMS, findBuiltin } from '../core/problems';
import { type ScheduleSpec, parseSchedule } from '../core/optim/schedules';
import { DEFAULT_TRAIN_OPTIONS, type TrainResult } from '../core/optim/train';
import type { OptimizerRun } from '../protocol';
import { analyzeSource, optimizeSource } from '../runner/optimize';
import type { HostToWebview, ResponseBody } from '../webview-protocol';
import { LiveRun } from './live-run';
import { PANEL_RETENTION } from './dashboard/retained';
import { RecordLogs } from './record-log';
import { type DashboardRequest, askExportTarget } from './dashboard';
import { type PickedProblem, builtinChoice, configuredHyperparameters, editHyperparameters, fileChoice, pickOptimizer, pickOptimizers, pickProblem } from './pickers';
import { type InputStep, MultiStepInput } from './multi-step';
import type { Services } from './services';

const SURFACE_RESOLUTION = 64;
const CONSTANT: ScheduleSpec = { kind: 'constant' };

/**
 * What a command invocation may fix in advance, as JSON-friendly arguments
 * (a keybinding's `args`, a test): `problem` is `builtin:NAME` or a file path
 * with `#export`, optimizers by name.
 */
export interface RawCommandArguments {
  problem?: string;
  optimizer?: string;
  optimizers?: string[];
  hyperparameters?: Hyperparameters;
  at?: 'start' | 'final';
}

interface CommandArguments {
  problem?: PickedProblem;
  optimizers?: OptimizerChoice[];
  hyperparameters?: Hyperparameters;
  at?: 'start' | 'final';
}

/** Checks command arguments; throws an Error that names the bad one. */
export function commandArguments(raw: unknown): CommandArguments {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(vscode.l10n.t('GradLens: command arguments must be an object like {0}', '{ "problem": "builtin:rosenbrock", "optimizer": "adam" }'));
  const given = raw as RawCommandArguments;
  const parsed: CommandArguments = {};
  if (given.problem !== undefined) {
    if (typeof given.problem !== 'string') throw new Error(vscode.l10n.t('GradLens: "problem" must be a string such as "builtin:rosenbrock" or "/path/model.grad.ts#quadratic"'));
    if (given.problem.startsWith('builtin:')) {
      const builtin = findBuiltin(given.problem.slice('builtin:'.length));
      if (!builtin) throw new Error(vscode.l10n.t('GradLens: no built-in problem {0} (one of {1})', given.problem, BUILTIN_PROBLEMS.map((entry) => entry.name).join(', ')));
      parsed.problem = builtinChoice(builtin);
    } else {
      const [file, problem] = given.problem.split('#');
      parsed.problem = fileChoice(vscode.Uri.file(file), problem ?? null);
    }
  }
  const names = given.optimizers ?? (given.optimizer === undefined ? undefined : [given.optimizer]);
  if (names !== undefined) {
    parsed.optimizers = names.map((name) => {
      const choice = typeof name === 'string' ? findOptimizer(name) : undefined;
      if (!choice) throw new Error(vscode.l10n.t('GradLens: unknown optimizer {0} (one of {1})', JSON.stringify(name), optimizerNames().join(', ')));
      return choice;
    });
  }
  if (given.hyperparameters !== undefined) parsed.hyperparameters = given.hyperparameters;
  if (given.at !== undefined) {
    if (given.at !== 'start' && given.at !== 'final') throw new Error(vscode.l10n.t('GradLens: "at" must be "start" or "final"'));
    parsed.at = given.at;
  }
  return parsed;
}

/** One step of a command's multi-step input: asks one thing and keeps the answer. */
type Ask = (input: MultiStepInput) => Promise<void>;

/** Runs the steps as one multi-step input (none: nothing to ask); false when the user cancelled. */
function ask(title: string, steps: Ask[]): Promise<boolean> {
  if (steps.length === 0) return Promise.resolve(true);
  const at = (index: number): InputStep | undefined =>
    index < steps.length
      ? async (input) => {
          await steps[index](input);
          return at(index + 1);
        }
      : undefined;
  return MultiStepInput.run(title, steps.length, at(0)!);
}

/** Settings are read for the problem's file (folder settings apply); built-ins read the window's. */
function settingsScope(picked: PickedProblem): vscode.Uri | undefined {
  return 'file' in picked.source ? vscode.Uri.file(picked.source.file) : undefined;
}

export class OptimizerCommands implements vscode.Disposable {
  private readonly live = new Set<LiveRun>();
  private readonly byRunId = new Map<string, LiveRun>();
  private nextId = 1;
  /** Every record of the runs the dashboard keeps, for its zoomed charts. */
  private readonly recordLogs = new RecordLogs(PANEL_RETENTION.runs);

  constructor(private readonly services: Services) {
    services.dashboards.onRunRequest((request) => this.handle(request));
  }

  private broadcast(message: HostToWebview, open = false): void {
    this.recordLogs.observe(message);
    this.services.dashboards.publish(message, open);
  }

  /** Asks for whatever `given` leaves open (keybindings and tests may pass everything), in one multi-step input. */
  async runOptimizer(given: CommandArguments = {}): Promise<TrainResult[] | undefined> {
    let picked = given.problem;
    let choice = given.optimizers?.[0];
    let hyperparameters: Hyperparameters | undefined;
    const steps: Ask[] = [];
    if (!given.problem) steps.push(async (input) => void (picked = await pickProblem(input, this.services, picked)));
    if (!given.optimizers) steps.push(async (input) => void (choice = await pickOptimizer(input, this.services.settings(settingsScope(picked!)), choice)));
    if (!given.hyperparameters) steps.push(async (input) => void (hyperparameters = await editHyperparameters(input, choice!, this.services.settings(settingsScope(picked!)), picked!.label)));
    if (!(await ask(vscode.l10n.t('GradLens: Run Optimizer'), steps)) || !picked || !choice) return undefined;
    const values = given.hyperparameters ? resolveHyperparameters(choice, given.hyperparameters) : hyperparameters;
    if (!values) return undefined;
    return this.start(picked, [{ name: choice.name, hyperparameters: values }], null, null);
  }

  async compareOptimizers(given: CommandArguments = {}): Promise<TrainResult[] | undefined> {
    let picked = given.problem;
    let choices = given.optimizers;
    const steps: Ask[] = [];
    if (!given.problem) steps.push(async (input) => void (picked = await pickProblem(input, this.services, picked)));
    if (!given.optimizers) steps.push(async (input) => void (choices = await pickOptimizers(input, choices)));
    if (!(await ask(vscode.l10n.t('GradLens: Compare Optimizers'), steps)) || !picked || !choices) return undefined;
    const settings = this.services.settings(settingsScope(picked));
    const runs = choices.map((choice) => ({ name: choice.name, hyperparameters: configuredHyperparameters(choice, settings) }));
    return this.start(picked, runs, null, `compare-${this.nextId++}`);
  }

  async analyzeCriticalPoint(given: CommandArguments = {}): Promise<CriticalPointReport | undefined> {
    let picked = given.problem;
    let at = given.at;
    const steps: Ask[] = [];
    if (!given.problem) steps.push(async (input) => void (picked = await pickProblem(input, this.services, picked)));
    if (!given.at) {
      steps.push(async (input) => {
        const settings = this.services.settings(settingsScope(picked!));
        const items = [
          { label: vscode.l10n.t('At the start'), description: vscode.l10n.t('the problem\'s own parameters'), at: 'start' as const },
          { label: vscode.l10n.t('Where an optimizer ends'), description: vscode.l10n.t('{0}, {1} steps (gradlens.optimizer.*)', settings.optimizer, settings.steps), at: 'final' as const },
        ];
        at = (await input.pick({ items, active: items.filter((item) => item.at === at), placeholder: vscode.l10n.t('Where to look at the Hessian') })).at;
      });
    }
    if (!(await ask(vscode.l10n.t('GradLens: Analyze Critical Point'), steps))) return undefined;
    const target = picked;
    if (!target || !at) return undefined;
    const where = { at };
    if ('file' in target.source && !this.services.requireTrust(vscode.l10n.t('the analysis'))) return undefined;
    const settings = this.services.settings(settingsScope(target));
    const choice = findOptimizer(settings.optimizer)!;
    const run = where.at === 'final' ? { name: choice.name, hyperparameters: configuredHyperparameters(choice, settings) } : null;
    const source = await this.services.problemSource(target.source);
    const outcome = await this.services.jobs.run(vscode.l10n.t('analyzing {0}', target.label), (job) => analyzeSource(
      { source, problem: target.problem, run, train: { ...DEFAULT_TRAIN_OPTIONS, steps: settings.steps, every: settings.steps } },
      settings.limits,
      { signal: job.signal, onOutput: (text) => this.services.output.append(text) },
    ));
    if (!outcome.report) {
      void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: the analysis of {0} did not finish: {1}', target.label, outcome.error ? errorLine(outcome.error) : vscode.l10n.t('stopped')));
      return undefined;
    }
    const place = where.at === 'start' ? vscode.l10n.t('{0} at its start', target.label) : vscode.l10n.t('{0} after {1}', target.label, choice.name);
    this.services.output.info(`\n${formatAnalysis(outcome.report, place)}`);
    this.broadcast({ type: 'criticalPoint', runId: null, report: outcome.report }, true);
    const report = outcome.report;
    void vscode.window.showInformationMessage(vscode.l10n.t('GradLens: {0}: {1} (gradient norm {2})', place, report.classification, report.gradientNorm.toExponential(2)), vscode.l10n.t('Show Output')).then((choiceMade) => {
      if (choiceMade) this.services.output.show(true);
    });
    return report;
  }

  /** Runs `runs` on the problem, live in the dashboard; resolves with the results when the request ends. */
  private async start(picked: PickedProblem, runs: OptimizerRun[], start: number[] | null, compareGroup: string | null, schedule: ScheduleSpec = CONSTANT): Promise<TrainResult[] | undefined> {
    if ('file' in picked.source && !this.services.requireTrust(vscode.l10n.t('the optimizer run'))) return undefined;
    const settings = this.services.settings(settingsScope(picked));
    const title = runs.length === 1 ? vscode.l10n.t('{0} on {1}', runs[0].name, picked.label) : vscode.l10n.t('comparing {0} optimizers on {1}', runs.length, picked.label);
    const source = await this.services.problemSource(picked.source);
    this.services.dashboards.open();
    const outcome = await this.services.jobs.run(title, (job) => {
      const run = new LiveRun(picked, runs, start, compareGroup, schedule, settings.steps, (name) => `${this.nextId++}-${name}`, {
        broadcast: (message, open) => this.broadcast(message, open),
        progress: (text) => job.report(text),
        trained: (result) => this.services.output.info(`\n${formatRun(result, picked.label, settings.recordEvery > 1, VSCODE_SETTINGS)}`),
        describeFailure: (result) => result.failure && errorLine(result.failure.error),
      });
      this.live.add(run);
      for (const runId of run.runIds.values()) this.byRunId.set(runId, run);
      job.signal.addEventListener('abort', () => run.close());
      return optimizeSource(
        {
          source,
          problem: picked.problem,
          runs,
          train: { ...DEFAULT_TRAIN_OPTIONS, steps: settings.steps, every: settings.recordEvery, seed: settings.check.seed, recordParams: true, schedule },
          start,
          surface: { resolution: SURFACE_RESOLUTION },
        },
        settings.limits,
        run.events((text) => this.services.output.append(text)),
      ).finally(() => {
        run.close();
        this.live.delete(run);
      });
    });
    if (outcome.error && outcome.nothingRan) {
      void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: {0}', errorLine(outcome.error)));
      return undefined;
    }
    if (runs.length > 1) this.services.output.info(`\n${formatComparison(outcome.results, picked.label, 1e-6)}`);
    this.announce(picked, outcome.results, outcome.error);
    return outcome.results;
  }

  private announce(picked: PickedProblem, results: TrainResult[], failure: ErrorReport | null): void {
    const error = failure && errorLine(failure);
    const diverged = results.find((result) => result.diverged);
    const failed = results.find((result) => result.failure);
    const lines = results.map((result) => vscode.l10n.t('{0}: loss {1} after {2} steps', result.optimizer, result.final.loss === null ? 'n/a' : result.final.loss.toPrecision(4), result.final.step));
    const text = error ? vscode.l10n.t('GradLens: {0}: {1} ({2})', picked.label, lines.join('; '), error) : vscode.l10n.t('GradLens: {0}: {1}', picked.label, lines.join('; '));
    if (diverged?.diverged) void vscode.window.showWarningMessage(vscode.l10n.t('GradLens: {0} diverged at step {1}: {2}', diverged.optimizer, diverged.diverged.step, diverged.diverged.message), vscode.l10n.t('Show Output')).then((choice) => choice && this.services.output.show(true));
    else if (failed?.failure) void vscode.window.showErrorMessage(vscode.l10n.t('GradLens: {0} stopped at step {1}: {2}', failed.optimizer, failed.failure.step, errorLine(failed.failure.error)), vscode.l10n.t('Show Output')).then((choice) => choice && this.services.output.show(true));
    else void vscode.window.showInformationMessage(text);
    this.services.jobs.setLastVerdict({ ok: !diverged && !failed && !error, needsUser: failure?.kind === 'runner', text: lines[0] ?? 'no run', tooltip: text });
  }

  /** A request of the dashboard about a run (already validated by its channel). */
  private async handle(request: Exclude<DashboardRequest, { type: 'reveal' }>): Promise<ResponseBody | null> {
    const run = this.byRunId.get(request.runId);
    if (!run) throw new Error(vscode.l10n.t('run {0} is not known', request.runId));
    switch (request.type) {
      case 'control':
        if (request.action === 'restart') this.restart(run, run.start);
        else run.control(request.runId, request.action);
        return null;
      case 'setHyperparameters':
        run.setHyperparameters(request.runId, request.values);
        return null;
      case 'restartFrom':
        this.restart(run, [request.start[0], request.start[1]]);
        return null;
      case 'runWith': {
        // Checked before anything starts, so a typo comes back as the request's error.
        const schedule = request.schedule === null ? CONSTANT : parseSchedule(request.schedule);
        const choice = findOptimizer(request.optimizer)!;
        void this.start(run.picked, [{ name: choice.name, hyperparameters: configuredHyperparameters(choice, this.services.settings(settingsScope(run.picked))) }], run.start, null, schedule);
        return null;
      }
      case 'requestEffectiveLr':
        return run.requestRates(request.runId, request.tensor);
      case 'requestRecords':
        return this.recordLogs.range(request.runId, request.fromStep, request.toStep);
      case 'exportRecords': {
        const target = await askExportTarget(request.fileName);
        if (!target) return { kind: 'saved', path: null };
        // Written from the host's copy a block of rows at a time, so a million-step run takes bounded memory: a local file.
        if (target.scheme !== 'file') throw new Error(vscode.l10n.t('every record goes to a file on this machine; {0} is not one', target.toString(true)));
        await this.recordLogs.writeCsv(request.runId, target.fsPath);
        return { kind: 'saved', path: vscode.workspace.asRelativePath(target) };
      }
    }
  }

  /** Stops the request and starts its runs again (new run ids), from `start` or the problem's own start. */
  private restart(run: LiveRun, start: number[] | null): void {
    run.close();
    void this.start(run.picked, run.runs, start, run.compareGroup ? `compare-${this.nextId++}` : null, run.schedule);
  }

  dispose(): void {
    for (const run of this.live) run.close();
    this.recordLogs.dispose();
  }
}
