/**
 * The sandboxed runner process (dist/worker-main.js, loaded by dist/worker.js). It loads one problem file,
 * whatever its language (a TypeScript/JavaScript bundle in this process, a
 * Python file in an interpreter it starts), and runs every check, optimizer
 * run and analysis here, so user code never runs in the caller's process.
 * The caller (supervisor.ts) enforces time and memory limits by killing this
 * process: a hang, an out-of-memory, an exit or a crash is handled there, the
 * same way for every language.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeCriticalPoint } from '../core/analysis';
import { asObjective } from '../core/definitions';
import { type ErrorPhase, type ErrorReport, InputError, errorReport, reportFailure } from '../core/errors';
import { HelperFailure } from '../core/bulk';
import { checkGradients, errorResult, helperSide } from '../core/gradcheck';
import { type Objective, lossesOrNaN, startingPoint } from '../core/objective';
import { findOptimizer } from '../core/optim';
import { type StepGate, type StepRecord, type TrainResult, train } from '../core/optim/train';
import { type ScalarDefinition, classifyExport } from '../core/problem';
import { BUILTIN_PROBLEMS, findBuiltin } from '../core/problems';
import type { AnalyzeRequest, CheckRequest, DiscoveredProblem, HelpRequest, HelperMessage, OptimizeRequest, OptimizerRun, ParentToWorker, RunControlMessage, WorkerToParent } from '../protocol';
import { FileNotLoaded, type LoadedFile, type LoadedProblem, type TimeLimit, loadScriptFile } from './load';
import { loadPythonFile } from './python/load';
import type { HangPlace } from './python/session';
import { RunControl } from './run-control';
import { SharedCheck, serveHelp } from './shared-check';
import { atExport } from './reports';
import { HANG_REPORT_FD, type HangReport, Watchdog } from './watchdog';

const API_MODULE = path.join(__dirname, 'api.js');
const PROGRESS_INTERVAL_MS = 100;
/** Record batches a run may have on their way to the parent before it waits for them, and their largest size. */
const UNSENT_BATCHES = 2;
const BATCH_RECORDS = 1000;

/** Set once this process has said 'fatal': from then on nothing else reaches the parent. */
let ending = false;

function send(message: WorkerToParent): Promise<void> {
  return new Promise((resolve) => {
    // A user timer can throw (fatal) while a check is finishing: its result must not follow the fatal report,
    // and the work waiting on this send stays parked until the parent ends the process.
    if (ending && message.type !== 'fatal') return;
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

/**
 * Reports why this process cannot go on and waits for the parent to end it
 * (it kills a runner that says 'fatal'): the process never ends itself, so
 * nothing it does after the report can reach the parent.
 */
async function endWith(error: ErrorReport): Promise<never> {
  if (ending) return new Promise<never>(() => undefined);
  ending = true;
  await send({ type: 'fatal', error });
  return new Promise<never>(() => undefined);
}

/** Thrown instead of exiting, so a `process.exit` in user code fails one problem with its location. */
class ExitCalled extends Error {}

function guardExit(): void {
  process.exit = ((code?: number | string | null) => {
    throw new ExitCalled(`process.exit(${code ?? ''}) called in user code`);
  }) as typeof process.exit;
}

/**
 * The JavaScript watchdog (a thread with an inspector session), started only where JavaScript user
 * code runs: a Python file's interpreter keeps its own time, and the inspector slows this process.
 */
let watchdog: Watchdog | null = null;
const javascriptWatchdog = (): Watchdog => (watchdog ??= new Watchdog(path.join(__dirname, 'watchdog.js')));
/** The file of this request, once loaded: its time limit and its way of locating errors. */
let loaded: LoadedFile | null = null;
/** Until a file is loaded (and for built-ins), JavaScript's watchdog keeps the time. */
const limit = (): TimeLimit => loaded?.limit ?? javascriptWatchdog();

/** A Python time limit met: reported on the watchdog's channel, so the parent handles it like any other hang. */
function reportHang(activity: string, place: HangPlace | null): void {
  const hang: HangReport = { reason: 'timeout', problem: activity, location: place?.location ?? null, functionName: place?.functionName ?? null };
  fs.writeSync(HANG_REPORT_FD, `${JSON.stringify(hang)}\n`);
}

/** How long loading the file took (with its interpreter's start): about what a helper process needs to start. */
let loadSeconds = 0;

/** Loads the request's file in its language; reports 'loaded' or 'loadError' (then null). */
async function loadFile(requested: string, request: { timeoutMs: number; memoryMb: number; python: string | null }): Promise<LoadedFile | null> {
  const file = path.resolve(requested);
  const started = performance.now();
  try {
    loaded = path.extname(file) === '.py'
      ? await loadPythonFile(file, request, (text) => process.stderr.write(text), reportHang)
      : await loadScriptFile(file, API_MODULE, javascriptWatchdog(), request.timeoutMs);
  } catch (error) {
    const report = error instanceof FileNotLoaded ? error.report : reportFailure(error, 'load');
    await send({ type: 'loadError', file: requested, error: report });
    return null;
  }
  loadSeconds = (performance.now() - started) / 1000;
  const problems: DiscoveredProblem[] = loaded.problems.map(({ name, kind, line, secondOrder }) => ({ name, kind, line, secondOrder }));
  await send({ type: 'loaded', file: requested, problems });
  return loaded;
}

/** Runs `task` as an activity: 'started', the time limit, 'done'. */
async function activity<T>(name: string, doing: string, timeoutMs: number, task: () => Promise<T>): Promise<T> {
  await send({ type: 'started', name, activity: doing });
  limit().arm(name, timeoutMs);
  try {
    return await task();
  } finally {
    limit().disarm();
    await send({ type: 'done', name });
  }
}

async function checkOne(file: LoadedFile, problem: LoadedProblem, request: CheckRequest): Promise<void> {
  await send({ type: 'started', name: problem.name, activity: `checking ${problem.name}` });
  const located = (error: ErrorReport) => atExport(error, file.file, problem.line);
  if (problem.invalid !== null) {
    await send({ type: 'result', result: errorResult(problem.name, problem.looksLike, request.options, located(errorReport(problem.invalid, 'user', 'check'))) });
    await send({ type: 'done', name: problem.name });
    return;
  }
  limit().arm(problem.name, request.timeoutMs);
  let lastProgress = 0;
  let result;
  shared = request.jobs > 1 ? new SharedCheck(problem.name, request.jobs, loadSeconds, request.timeoutMs, (message) => void send(message), limit()) : null;
  try {
    result = await checkGradients(problem.checkable(), request.options, {
      locateError: (error) => file.locate(error),
      helpers: shared ?? undefined,
      timeLimitSeconds: request.timeoutMs / 1000,
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void send({ type: 'progress', name: problem.name, done, total });
      },
    });
  } catch (error) {
    // Opening the problem failed (malformed params or inputs).
    result = errorResult(problem.name, problem.looksLike, request.options, reportFailure(error, 'check', (cause) => file.locate(cause)));
  }
  shared = null;
  // Let zero-delay timers the check left behind run now, so their failures count against this problem.
  await new Promise((resolve) => setTimeout(resolve, 0));
  limit().disarm();
  if (result.error?.kind === 'runner') {
    // This process can evaluate nothing more (its interpreter died): end it, and the parent starts a fresh one for the rest.
    await endWith(result.error);
  }
  if (result.error) result.error = located(result.error);
  await send({ type: 'result', result });
  await send({ type: 'done', name: problem.name });
}

/** The check in progress that may share its evaluations with helpers (the parent passes their messages). */
let shared: SharedCheck | null = null;
/** In a helper process: the answers to the check's requests. */
let helping: ((message: HelperMessage) => void) | null = null;

/** A helper process of a shared check: opens the problem as the check did, then answers until the parent ends it. */
async function help(request: HelpRequest): Promise<void> {
  const file = await loadFile(request.file, request);
  if (!file) return;
  const problem = file.problems.find((candidate) => candidate.name === request.name);
  if (!problem || problem.invalid !== null) {
    await send({ type: 'refused', error: errorReport(`no problem ${request.name} to help with in ${request.file}`, 'internal', 'check') });
    return;
  }
  await send({ type: 'started', name: problem.name, activity: `checking ${problem.name}` });
  limit().arm(problem.name, Math.max(1, request.deadline - Date.now()));
  try {
    const side = await helperSide(problem.checkable(), request.options, { locateError: (error) => file.locate(error) });
    helping = serveHelp(side, send);
    await send({ type: 'ready', center: side.center });
  } catch (error) {
    await send({ type: 'refused', error: error instanceof HelperFailure ? error.report : reportFailure(error, 'check') });
    return;
  }
  // Serves until the parent ends this process with the check.
  await new Promise<never>(() => undefined);
}

async function check(request: CheckRequest): Promise<void> {
  const file = await loadFile(request.file, request);
  if (!file) return;
  for (const problem of file.problems) {
    if (request.only && !request.only.includes(problem.name)) continue;
    if (request.skip.includes(problem.name)) continue;
    await checkOne(file, problem, request);
  }
}

/** The scalar problem an optimize or analyze request names: a built-in, or a problem of a file; refused (null) otherwise. */
async function resolveScalar(request: OptimizeRequest | AnalyzeRequest): Promise<Objective | null> {
  const refuse = async (message: string) => {
    await send({ type: 'refused', error: errorReport(message, 'user', request.type) });
    return null;
  };
  const source = request.source;
  if ('builtin' in source) {
    const builtin = findBuiltin(source.builtin);
    if (!builtin) return refuse(`no built-in problem '${source.builtin}' (one of ${BUILTIN_PROBLEMS.map((entry) => entry.name).join(', ')})`);
    return asObjective(classifyExport(builtin.name, builtin.create(source.options)) as ScalarDefinition);
  }
  const file = await loadFile(source.file, { ...request, python: source.python ?? null });
  if (!file) return null;
  const problems = file.problems;
  if (request.problem !== null) {
    const named = problems.find((candidate) => candidate.name === request.problem);
    if (!named) return refuse(`no problem named ${request.problem} in ${source.file} (it has ${problems.map((entry) => entry.name).join(', ') || 'none'})`);
    if (named.invalid !== null) return refuse(named.invalid);
    if (named.kind !== 'scalar') return refuse(`${named.name} is a layer: optimizers need a scalar problem (params, f, grad)`);
    return named.objective();
  }
  const scalars = problems.filter((candidate) => candidate.kind === 'scalar');
  if (scalars.length !== 1) {
    return refuse(`${source.file} has ${scalars.length} scalar problems (${scalars.map((entry) => entry.name).join(', ') || 'none'}): choose one with --problem`);
  }
  return scalars[0].objective();
}

/** The controls of the run in progress (messages from the parent while an optimize request runs). */
let liveRun: RunControl | null = null;
/** Controls that arrived between runs (a pause sent right after the request): they apply to the next run. */
let earlyControls: RunControlMessage[] = [];

/** Runs one optimizer in the sandbox, streaming its records in batches; the parent may pause, step, retune or stop it. */
async function runOptimizer(objective: Objective, run: OptimizerRun, request: OptimizeRequest | AnalyzeRequest, start: number[] | null, trajectoriesOnly: boolean): Promise<TrainResult> {
  const choice = findOptimizer(run.name);
  if (!choice) throw new InputError(`unknown optimizer ${run.name}`);
  const timeoutMs = request.timeoutMs;
  return activity(run.name, `running ${run.name} on ${objective.name}`, timeoutMs, async () => {
    // Records go in batches of what PROGRESS_INTERVAL_MS gathers (BATCH_RECORDS at most). A run that outpaces the channel to the
    // parent waits for it (at most UNSENT_BATCHES batches on their way), so no process piles records up.
    let pending: StepRecord[] = [];
    let lastFlush = Date.now();
    let unsent = 0;
    let drained: (() => void) | null = null;
    const flush = () => {
      if (pending.length === 0) return;
      const records = pending;
      pending = [];
      lastFlush = Date.now();
      unsent++;
      void send({ type: 'records', run: run.name, records }).then(() => {
        unsent--;
        if (unsent < UNSENT_BATCHES) drained?.();
      });
    };
    const caughtUp = () => new Promise<void>((resolve) => (drained = resolve));
    // No time limit while paused: the limit is disarmed, and the parent holds its own timer.
    const control = new RunControl({
      paused: (step) => {
        limit().disarm();
        flush();
        void send({ type: 'paused', run: run.name, step });
      },
      resumed: () => {
        limit().arm(run.name, timeoutMs);
        void send({ type: 'resumed', run: run.name });
      },
      rates: (requestId, rates, error) => void send({ type: 'rates', run: run.name, requestId, rates, error }),
    });
    liveRun = control;
    for (const message of earlyControls) control.handle(message);
    earlyControls = [];
    let lastYield = Date.now();
    const gate: StepGate = {
      attach: (inspect) => control.attach(inspect),
      async beforeStep(step: number) {
        if (unsent >= UNSENT_BATCHES) await caughtUp();
        // Steps of synchronous user code settle in microtasks: give the parent's messages (stop, pause) a turn now and then.
        if (Date.now() - lastYield >= PROGRESS_INTERVAL_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = Date.now();
        }
        const changes = await control.beforeStep(step);
        if (changes?.hyperparameters) await send({ type: 'hyperparametersChanged', run: run.name, step, values: changes.hyperparameters });
        return changes;
      },
    };
    const initial = startingPoint(objective, start ?? undefined);
    await send({ type: 'runStarted', run: run.name, tensors: objective.layout.tensors.map((spec) => ({ name: spec.name, shape: [...spec.shape] })), start: Array.from(initial) });
    const result = await train(objective, run.name, choice.optimizer, run.hyperparameters, {
      ...request.train,
      // Streamed as they come ('records'): kept in neither process unless the parent asks (optimize.ts).
      keepRecords: false,
      start: initial,
      recordParams: request.train.recordParams && (!trajectoriesOnly || objective.layout.size === 2),
      signal: control.stopper.signal,
      gate,
      locateError: (error) => loaded?.locate(error) ?? null,
      onRecord: (record) => {
        pending.push(record);
        if (pending.length >= BATCH_RECORDS || Date.now() - lastFlush >= PROGRESS_INTERVAL_MS) flush();
      },
    });
    liveRun = null;
    flush();
    return result;
  });
}

/** The loss on a grid for the contour plot: a built-in's own window, else a box around the start. */
async function sendSurface(objective: Objective, request: OptimizeRequest, resolution: number): Promise<void> {
  const builtin = 'builtin' in request.source ? findBuiltin(request.source.builtin) : undefined;
  const start = startingPoint(objective, request.start ?? undefined);
  const around = (center: number): [number, number] => {
    const half = 2 * Math.max(1, Math.abs(center));
    return [center - half, center + half];
  };
  const x = builtin?.bounds?.x ?? around(start[0]);
  const y = builtin?.bounds?.y ?? around(start[1]);
  const points: Float64Array[] = [];
  for (let j = 0; j < resolution; j++) {
    for (let i = 0; i < resolution; i++) {
      points.push(Float64Array.of(x[0] + ((x[1] - x[0]) * i) / (resolution - 1), y[0] + ((y[1] - y[0]) * j) / (resolution - 1)));
    }
  }
  // Where f is undefined (log of a negative, say) the plot has a hole: NaN travels as null.
  const values = await activity('surface', `evaluating the loss surface of ${objective.name}`, request.timeoutMs, () => lossesOrNaN(objective, points));
  const minima = (builtin?.minima ?? []).map((minimum): [number, number] => [minimum[0], minimum[1]]);
  await send({ type: 'surface', x, y, resolution, values, minima });
}

async function optimize(request: OptimizeRequest): Promise<void> {
  const objective = await resolveScalar(request);
  if (!objective) return;
  const resolution = request.surface?.resolution;
  if (resolution && resolution >= 2 && objective.layout.size === 2) await sendSurface(objective, request, resolution);
  for (const run of request.runs) {
    const result = await runOptimizer(objective, run, request, request.start ?? null, Boolean(request.surface));
    await send({ type: 'trained', result });
  }
}

async function analyze(request: AnalyzeRequest): Promise<void> {
  const objective = await resolveScalar(request);
  if (!objective) return;
  const trained = request.run ? await runOptimizer(objective, request.run, request, null, false) : null;
  if (trained) await send({ type: 'trained', result: trained });
  const at = trained?.final.params;
  const report = await activity('analysis', 'analyzing the critical point', request.timeoutMs, () => analyzeCriticalPoint(objective, at));
  await send({ type: 'analysis', report });
}

/** Errors of a request outside a check (user code, bad input, a GradLens bug) end it with a report. */
async function serve(request: CheckRequest | OptimizeRequest | AnalyzeRequest | HelpRequest): Promise<void> {
  phase = request.type === 'check' || request.type === 'help' ? 'check' : request.type;
  try {
    if (request.type === 'check') await check(request);
    else if (request.type === 'help') await help(request);
    else if (request.type === 'optimize') await optimize(request);
    else await analyze(request);
  } catch (error) {
    await send({ type: 'refused', error: reportFailure(error, phase, (cause) => loaded?.locate(cause) ?? null) });
  }
}

/** What the request is doing, for reports of errors outside it. */
let phase: ErrorPhase = 'load';

/**
 * An error outside any awaited call (a throw from a timer or callback of user
 * code), with its place: this process ends after reporting it.
 */
function fatal(what: string, error: unknown): void {
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  void endWith(errorReport(`${what} ${described}`, 'user', phase, { location: loaded?.locate(error) ?? null }));
}

process.on('uncaughtException', (error) => fatal('uncaught', error));
process.on('unhandledRejection', (error) => fatal('unhandled rejection:', error));

// A listener stays attached so the IPC channel keeps this process alive while user promises are pending:
// a promise that never settles then meets the time limit instead of ending the process quietly.
let started = false;
process.on('message', (request: ParentToWorker) => {
  if (request.type === 'control' || request.type === 'setHyperparameters' || request.type === 'detail') {
    if (liveRun) liveRun.handle(request);
    else earlyControls.push(request);
    return;
  }
  if (request.type === 'evaluate') {
    helping?.(request);
    return;
  }
  if (request.type === 'helperReady' || request.type === 'helperValues' || request.type === 'helperFailed') {
    shared?.handle(request);
    return;
  }
  if (started) return;
  started = true;
  process.setSourceMapsEnabled(true);
  // User output must never reach the caller's stdout (it may be --json); the parent forwards it.
  guardExit();
  void serve(request).then(() => {
    const exchanges = loaded?.exchanges() ?? 0;
    loaded?.close();
    return send({ type: 'finished', exchanges });
  });
});

