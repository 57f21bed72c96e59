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
import { DEFAULT_TRAIN_OPTIONS, type StepRecord, type TrainResult } from '../core/optim/train';
import type { OptimizerRun, RunControlMessage } from '../protocol';
import { analyzeSource, optimizeSource } from '../runner/optimize';
import type { HostToWebview } from '../webview-protocol';
import type { DashboardRequest } from './dashboard';
import { type PickedProblem, builtinChoice, configuredHyperparameters, editHyperparameters, fileChoice, pickOptimizer, pickOptimizers, pickProblem } from './pickers';
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
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`GradLens: command arguments must be an object like { "problem": "builtin:rosenbrock", "optimizer": "adam" }`);
  const given = raw as RawCommandArguments;
  const parsed: CommandArguments = {};
  if (given.problem !== undefined) {
    if (typeof given.problem !== 'string') throw new Error('GradLens: "problem" must be a string such as "builtin:rosenbrock" or "/path/model.grad.ts#quadratic"');
    if (given.problem.startsWith('builtin:')) {
      const builtin = findBuiltin(given.problem.slice('builtin:'.length));
      if (!builtin) throw new Error(`GradLens: no built-in problem ${given.problem} (one of ${BUILTIN_PROBLEMS.map((entry) => entry.name).join(', ')})`);
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
      if (!choice) throw new Error(`GradLens: unknown optimizer ${JSON.stringify(name)} (one of ${optimizerNames().join(', ')})`);
      return choice;
    });
  }
  if (given.hyperparameters !== undefined) parsed.hyperparameters = given.hyperparameters;
  if (given.at !== undefined) {
    if (given.at !== 'start' && given.at !== 'final') throw new Error('GradLens: "at" must be "start" or "final"');
    parsed.at = given.at;
  }
  return parsed;
}

/** One optimize request in the sandbox: one run, or several from the same start (compare). */
interface Session {
  picked: PickedProblem;
  runs: OptimizerRun[];
  start: number[] | null;
  /** Dashboard run id per optimizer run name. */
  runIds: Map<string, string>;
  /** The run the worker is stepping now (controls go to it). */
  current: string | null;
  post: ((message: RunControlMessage) => void) | null;
  stop: AbortController;
  compareGroup: string | null;
  schedule: ScheduleSpec;
  tensors: Map<string, string[]>;
  /** requestEffectiveLr waiting for the next record that carries the tensor's rates. */
  detailWaiters: { runId: string; tensor: string; requestId: number; done: () => void }[];
  /** The tensor whose full rates the records carry now. */
  detailTensor: string | null;
}

export class OptimizerCommands implements vscode.Disposable {
  private readonly sessions = new Set<Session>();
  private readonly byRunId = new Map<string, Session>();
  private nextId = 1;

  constructor(private readonly services: Services) {
    services.dashboards.onRunRequest((request) => this.handle(request));
  }

  private broadcast(message: HostToWebview, open = false): void {
    this.services.dashboards.publish(message, open);
  }

  /** Asks for whatever `given` leaves open (keybindings and tests may pass everything). */
  async runOptimizer(given: CommandArguments = {}): Promise<TrainResult[] | undefined> {
    const title = 'GradLens: Run Optimizer';
    const picked = given.problem ?? (await pickProblem(this.services, title));
    if (!picked) return undefined;
    const settings = this.services.settings();
    const choice = given.optimizers?.[0] ?? (await pickOptimizer(settings, title));
    if (!choice) return undefined;
    const hyperparameters = given.hyperparameters
      ? resolveHyperparameters(choice, given.hyperparameters)
      : await editHyperparameters(choice, settings, `${title}: ${choice.name} on ${picked.label}`);
    if (!hyperparameters) return undefined;
    return this.start(picked, [{ name: choice.name, hyperparameters }], null, null);
  }

  async compareOptimizers(given: CommandArguments = {}): Promise<TrainResult[] | undefined> {
    const title = 'GradLens: Compare Optimizers';
    const picked = given.problem ?? (await pickProblem(this.services, title));
    if (!picked) return undefined;
    const choices = given.optimizers ?? (await pickOptimizers(title));
    if (!choices) return undefined;
    const settings = this.services.settings();
    const runs = choices.map((choice) => ({ name: choice.name, hyperparameters: configuredHyperparameters(choice, settings) }));
    return this.start(picked, runs, null, `compare-${this.nextId++}`);
  }

  async analyzeCriticalPoint(given: CommandArguments = {}): Promise<CriticalPointReport | undefined> {
    const title = 'GradLens: Analyze Critical Point';
    const picked = given.problem ?? (await pickProblem(this.services, title));
    if (!picked) return undefined;
    const where = given.at ? { at: given.at } : await vscode.window.showQuickPick(
      [
        { label: 'At the start', description: 'the problem\'s own parameters', at: 'start' as const },
        { label: 'Where an optimizer ends', description: `${this.services.settings().optimizer}, ${this.services.settings().steps} steps (gradlens.optimizer.*)`, at: 'final' as const },
      ],
      { title, placeHolder: 'Where to look at the Hessian' },
    );
    if (!where) return undefined;
    if ('file' in picked.source && !this.services.requireTrust('the analysis')) return undefined;
    const settings = this.services.settings();
    const choice = findOptimizer(settings.optimizer)!;
    const run = where.at === 'final' ? { name: choice.name, hyperparameters: configuredHyperparameters(choice, settings) } : null;
    const source = await this.services.problemSource(picked.source);
    const outcome = await this.services.jobs.run(`analyzing ${picked.label}`, (job) => analyzeSource(
      { source, problem: picked.problem, run, train: { ...DEFAULT_TRAIN_OPTIONS, steps: settings.steps, every: settings.steps } },
      settings.limits,
      { signal: job.signal, onOutput: (text) => this.services.output.append(text) },
    ));
    if (!outcome.report) {
      void vscode.window.showErrorMessage(`GradLens: the analysis of ${picked.label} did not finish: ${outcome.error ? errorLine(outcome.error) : 'stopped'}`);
      return undefined;
    }
    const place = where.at === 'start' ? `${picked.label} at its start` : `${picked.label} after ${choice.name}`;
    this.services.output.info(`\n${formatAnalysis(outcome.report, place)}`);
    this.broadcast({ type: 'criticalPoint', runId: null, report: outcome.report }, true);
    const report = outcome.report;
    void vscode.window.showInformationMessage(`GradLens: ${place}: ${report.classification} (gradient norm ${report.gradientNorm.toExponential(2)})`, 'Show Output').then((choiceMade) => {
      if (choiceMade) this.services.output.show(true);
    });
    return report;
  }

  /** Runs `runs` on the problem, live in the dashboard; resolves with the results when the request ends. */
  private async start(picked: PickedProblem, runs: OptimizerRun[], start: number[] | null, compareGroup: string | null, schedule: ScheduleSpec = CONSTANT): Promise<TrainResult[] | undefined> {
    if ('file' in picked.source && !this.services.requireTrust('the optimizer run')) return undefined;
    const settings = this.services.settings();
    const session: Session = {
      picked,
      runs,
      start,
      runIds: new Map(runs.map((run) => [run.name, `${this.nextId++}-${run.name}`])),
      current: null,
      post: null,
      stop: new AbortController(),
      compareGroup,
      schedule,
      tensors: new Map(),
      detailWaiters: [],
      detailTensor: null,
    };
    this.sessions.add(session);
    for (const runId of session.runIds.values()) this.byRunId.set(runId, session);
    this.services.dashboards.open();
    const runId = (name: string) => session.runIds.get(name)!;
    const started = new Map<string, number>();
    const lastStep = new Map<string, number>();
    const title = runs.length === 1 ? `${runs[0].name} on ${picked.label}` : `comparing ${runs.length} optimizers on ${picked.label}`;
    const source = await this.services.problemSource(picked.source);
    try {
      const outcome = await this.services.jobs.run(title, (job) => {
        job.signal.addEventListener('abort', () => session.stop.abort());
        return optimizeSource(
          {
            source,
            problem: picked.problem,
            runs,
            train: { ...DEFAULT_TRAIN_OPTIONS, steps: settings.steps, every: settings.telemetryEvery, seed: settings.check.seed, recordParams: true, schedule },
            start,
            surface: { resolution: SURFACE_RESOLUTION },
          },
          settings.limits,
          {
            signal: session.stop.signal,
            onOutput: (text) => this.services.output.append(text),
            onControlChannel: (post) => (session.post = post),
            onSurface: (surface) => this.broadcast({
              type: 'lossSurface',
              problem: picked.label,
              x: surface.x,
              y: surface.y,
              nx: surface.resolution,
              ny: surface.resolution,
              values: surface.values,
              minima: surface.minima,
            }),
            onRunStarted: (message) => {
              session.current = message.run;
              started.set(message.run, performance.now());
              session.tensors.set(runId(message.run), message.tensors.map((tensor) => tensor.name));
              job.report(message.run);
              const choice = findOptimizer(message.run);
              this.broadcast({
                type: 'runStarted',
                runId: runId(message.run),
                problem: picked.label,
                optimizer: message.run,
                hyperparameters: runs.find((run) => run.name === message.run)!.hyperparameters,
                tensors: message.tensors,
                twoDimensional: message.start.length === 2,
                start: message.start.length === 2 ? [message.start[0], message.start[1]] : null,
                adaptive: choice?.optimizer.adaptive ?? false,
                detailTensor: null,
                steps: settings.steps,
                compareGroup,
              }, true);
            },
            onRecords: (run, records) => {
              const since = started.get(run) ?? performance.now();
              const elapsed = (performance.now() - since) / 1000;
              const last = records[records.length - 1];
              lastStep.set(run, last.step);
              if (last.effectiveLrDetail) this.answerDetail(session, runId(run), last);
              job.report(`${run}: step ${last.step} of ${settings.steps}, loss ${last.loss.toPrecision(4)}`);
              this.broadcast({ type: 'records', runId: runId(run), records, seconds: records.map(() => elapsed) });
            },
            // The dashboard's buttons follow these, not the responses to its requests.
            onPaused: (run, step) => this.broadcast({ type: 'runStatus', runId: runId(run), paused: true, step }),
            onResumed: (run) => this.broadcast({ type: 'runStatus', runId: runId(run), paused: false, step: lastStep.get(run) ?? 0 }),
            onHyperparametersChanged: (run, step, values) => this.broadcast({ type: 'hyperparametersChanged', runId: runId(run), step, values }),
            onTrained: (result) => {
              this.services.output.info(`\n${formatRun(result, picked.label, settings.telemetryEvery > 1, VSCODE_SETTINGS)}`);
              this.broadcast({
                type: 'runEnded',
                runId: runId(result.optimizer),
                stopped: result.stopped,
                diverged: result.diverged,
                failure: result.failure && errorLine(result.failure.error),
                finalLoss: result.final.loss,
                finalStep: result.final.step,
                seconds: result.seconds,
              });
            },
          },
        );
      });
      if (outcome.error && outcome.nothingRan) {
        void vscode.window.showErrorMessage(`GradLens: ${errorLine(outcome.error)}`);
        return undefined;
      }
      if (runs.length > 1) this.services.output.info(`\n${formatComparison(outcome.results, picked.label, 1e-6)}`);
      this.announce(picked, outcome.results, outcome.error);
      return outcome.results;
    } finally {
      this.sessions.delete(session);
    }
  }

  private announce(picked: PickedProblem, results: TrainResult[], failure: ErrorReport | null): void {
    const error = failure && errorLine(failure);
    const diverged = results.find((result) => result.diverged);
    const failed = results.find((result) => result.failure);
    const lines = results.map((result) => `${result.optimizer}: loss ${result.final.loss === null ? 'n/a' : result.final.loss.toPrecision(4)} after ${result.final.step} steps`);
    const text = `GradLens: ${picked.label}: ${lines.join('; ')}${error ? ` (${error})` : ''}`;
    if (diverged?.diverged) void vscode.window.showWarningMessage(`GradLens: ${diverged.optimizer} diverged at step ${diverged.diverged.step}: ${diverged.diverged.message}`, 'Show Output').then((choice) => choice && this.services.output.show(true));
    else if (failed?.failure) void vscode.window.showErrorMessage(`GradLens: ${failed.optimizer} stopped at step ${failed.failure.step}: ${errorLine(failed.failure.error)}`, 'Show Output').then((choice) => choice && this.services.output.show(true));
    else void vscode.window.showInformationMessage(text);
    this.services.jobs.setLastVerdict({ ok: !diverged && !failed && !error, text: lines[0] ?? 'no run', tooltip: text });
  }

  /** A run control from the dashboard (already validated by its channel). */
  private async handle(request: Exclude<DashboardRequest, { type: 'reveal' }>): Promise<void> {
    const session = this.byRunId.get(request.runId);
    if (!session) throw new Error(`run ${request.runId} is not known`);
    const live = this.sessions.has(session);
    const isCurrent = live && session.current !== null && session.runIds.get(session.current) === request.runId;
    switch (request.type) {
      case 'control':
        if (request.action === 'restart') return this.restart(session, session.start);
        if (!isCurrent) throw new Error(live ? `${request.runId} is not running now (a compare runs its optimizers one after another)` : `${request.runId} has ended`);
        // Stop ends the current run with its result; a compare goes on with the next optimizer.
        session.post?.({ type: 'control', action: request.action });
        return;
      case 'setHyperparameters': {
        if (!isCurrent) throw new Error(`${request.runId} is not running`);
        const run = session.runs.find((entry) => session.runIds.get(entry.name) === request.runId)!;
        const choice = findOptimizer(run.name)!;
        // Numbers only: a boolean (amsgrad, centered) changes the shape of the optimizer's state.
        for (const name of Object.keys(request.values)) {
          const spec = choice.optimizer.hyperparameters.find((candidate) => candidate.name === name);
          if (!spec) throw new Error(`${run.name} has no hyper-parameter ${name}`);
          if (spec.kind !== 'number' && spec.kind !== 'pair') throw new Error(`${name} cannot change during a run (it changes the optimizer's state); restart with it instead`);
        }
        run.hyperparameters = resolveHyperparameters(choice, { ...run.hyperparameters, ...request.values });
        session.post?.({ type: 'setHyperparameters', values: request.values });
        return;
      }
      case 'restartFrom':
        return this.restart(session, [request.start[0], request.start[1]]);
      case 'runWith': {
        // Checked before anything starts, so a typo comes back as the request's error.
        const schedule = request.schedule === null ? CONSTANT : parseSchedule(request.schedule);
        const choice = findOptimizer(request.optimizer)!;
        const run = { name: choice.name, hyperparameters: configuredHyperparameters(choice, this.services.settings()) };
        void this.start(session.picked, [run], session.start, null, schedule);
        return;
      }
      case 'requestEffectiveLr': {
        const tensors = session.tensors.get(request.runId) ?? [];
        if (!tensors.includes(request.tensor)) throw new Error(`no tensor ${request.tensor} in ${request.runId} (it has ${tensors.join(', ')})`);
        if (!isCurrent) throw new Error(`${request.runId} has ended: its per-element rates are no longer computed`);
        // The next step's record carries the tensor's full rates; answered from there (a paused run: at its next step).
        session.detailTensor = request.tensor;
        session.post?.({ type: 'detail', tensor: request.tensor });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            session.detailWaiters = session.detailWaiters.filter((waiter) => waiter.requestId !== request.requestId);
            reject(new Error(`no step of ${request.runId} within 10 s (paused or ended?): step it to see the rates`));
          }, 10_000);
          session.detailWaiters.push({ runId: request.runId, tensor: request.tensor, requestId: request.requestId, done: () => {
            clearTimeout(timer);
            resolve();
          } });
        });
        return;
      }
    }
  }

  private answerDetail(session: Session, runId: string, record: StepRecord): void {
    const answered = (waiter: Session['detailWaiters'][number]) => waiter.runId === runId && waiter.tensor === session.detailTensor;
    const waiting = session.detailWaiters.filter(answered);
    if (waiting.length === 0) return;
    session.detailWaiters = session.detailWaiters.filter((waiter) => !answered(waiter));
    for (const waiter of waiting) {
      this.broadcast({ type: 'effectiveLr', requestId: waiter.requestId, runId, tensor: waiter.tensor, step: record.step, values: record.effectiveLrDetail!, grad: record.gradDetail, accumulator: record.accumulatorDetail });
      waiter.done();
    }
  }

  /** Stops the session and starts its runs again (new run ids), from `start` or the problem's own start. */
  private async restart(session: Session, start: number[] | null): Promise<void> {
    session.stop.abort();
    void this.start(session.picked, session.runs, start, session.compareGroup ? `compare-${this.nextId++}` : null, session.schedule);
  }

  dispose(): void {
    for (const session of this.sessions) session.stop.abort();
  }
}
