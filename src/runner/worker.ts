/**
 * The sandboxed runner process (dist/worker.js). It bundles and loads one
 * problem file and runs every check loop here, so user code never runs in
 * the caller's process; the caller enforces time and memory limits by
 * killing this process.
 */
import Module from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateExport } from '../core/exports';
import { checkProblem, describeFailure, errorResult } from '../core/gradcheck';
import { Objective, analyzeCriticalPoint } from '../core/analysis';
import { findOptimizer } from '../core/optim';
import { type StepRecord, type TrainResult, train as trainProblem, trainingProblem } from '../core/optim/train';
import { type ScalarDefinition, classifyExport, discoverProblems } from '../core/problem';
import { BUILTIN_PROBLEMS, findBuiltin } from '../core/problems';
import type { AnalyzeRequest, CheckRequest, DiscoveredProblem, OptimizeRequest, OptimizerRun, ParentToWorker, RunControlMessage, WorkerToParent } from '../protocol';
import { LoadError, bundleProblemFile } from './bundle';
import { displayPath, formatLocation, userFrame } from './stack';
import { RunControl } from './run-control';
import { HANG_REPORT_FD, type HangReport, Watchdog } from './watchdog';
import { type LoadReply, PythonSession, PythonTimeLimit, loadErrorMessage, locatePython, pythonObjective, resolveInterpreter } from './python';

const API_MODULE = path.join(__dirname, 'api.js');
/** The user's files in the loaded bundle; stack frames there are what errors point at. */
let userSources: string[] = [];
const PROGRESS_INTERVAL_MS = 100;
/** The watchdog's name for the module's own top-level code. */
const LOADING = '';

function send(message: WorkerToParent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** Thrown instead of exiting, so a `process.exit` in user code fails one problem with its location. */
class ExitCalled extends Error {}

function guardExit(): void {
  process.exit = ((code?: number | string | null) => {
    throw new ExitCalled(`process.exit(${code ?? ''}) called in user code`);
  }) as typeof process.exit;
}

function locate(error: unknown): string {
  const python = locatePython(error);
  if (python) return python;
  const frame = userFrame(error, userSources);
  return frame ? ` (at ${formatLocation(frame)})` : '';
}

function describeLoadError(error: unknown, file: string): string {
  const relative = displayPath(file);
  if (error instanceof LoadError) return error.message;
  const code = (error as { code?: string }).code;
  const frame = userFrame(error, userSources);
  const where = frame ? formatLocation(frame) : relative;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec((error as Error).message)?.[1] ?? 'a module';
    return `${where}: cannot find module '${missing}' (imported by ${relative}; is it installed in the workspace?)`;
  }
  return `${where}: loading ${relative} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

function loadModule(code: string, file: string): unknown {
  const module = new Module(file);
  module.filename = file;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  (module as unknown as { _compile(code: string, file: string): void })._compile(code, file);
  return module.exports;
}

interface LoadedFile {
  file: string;
  definitions: ReturnType<typeof discoverProblems>;
  discovered: DiscoveredProblem[];
}

/** Bundles and loads a problem file; reports 'loaded' or 'loadError' (then null). */
async function loadFile(requested: string, timeoutMs: number): Promise<LoadedFile | null> {
  const file = path.resolve(requested);
  let moduleExports: unknown;
  try {
    if (!fs.existsSync(file)) throw new LoadError(`${requested}: no such file`);
    const bundle = await bundleProblemFile(file, API_MODULE);
    userSources = bundle.sources;
    watchdog.bundle(file, bundle.code, bundle.sources);
    watchdog.arm(LOADING, timeoutMs);
    moduleExports = loadModule(bundle.code, file);
    watchdog.disarm();
  } catch (error) {
    await send({ type: 'loadError', file: requested, message: describeLoadError(error, file) });
    return null;
  }
  const source = fs.readFileSync(file, 'utf8');
  // Report in source order (the bundle lists exports alphabetically).
  const located = discoverProblems(moduleExports)
    .map((definition) => ({ definition, line: locateExport(source, definition.name) }))
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  const discovered: DiscoveredProblem[] = located.map(({ definition, line }) => ({
    name: definition.name,
    kind: definition.kind,
    line,
    secondOrder: definition.kind === 'scalar' && definition.hvp !== null,
  }));
  await send({ type: 'loaded', file: requested, problems: discovered });
  return { file, definitions: located.map(({ definition }) => definition), discovered };
}

async function check(request: CheckRequest): Promise<void> {
  const loaded = await loadFile(request.file, request.timeoutMs);
  if (!loaded) return;
  const { file, definitions, discovered } = loaded;
  const exportLocation = (name: string): string => {
    const line = discovered.find((entry) => entry.name === name)?.line ?? 1;
    return `${displayPath(file)}:${line}`;
  };
  // Errors that did not come with a place in user code point at the export.
  const located = (name: string, error: string): string => (error.includes('(at ') ? error : `${error} (at ${exportLocation(name)})`);
  for (const definition of definitions) {
    if (request.only && !request.only.includes(definition.name)) continue;
    if (request.skip.includes(definition.name)) continue;
    await send({ type: 'started', name: definition.name, activity: `checking ${definition.name}` });
    watchdog.arm(definition.name, request.timeoutMs);
    if (definition.kind === 'invalid') {
      await send({ type: 'result', result: errorResult(definition.name, definition.looksLike, request.options, located(definition.name, definition.error)) });
      await send({ type: 'done', name: definition.name });
      continue;
    }
    let lastProgress = 0;
    const result = await checkProblem(definition, request.options, {
      locateError: locate,
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void send({ type: 'progress', name: definition.name, done, total });
      },
    });
    // Let zero-delay timers the check left behind run now, so their failures count against this problem.
    await new Promise((resolve) => setTimeout(resolve, 0));
    watchdog.disarm();
    if (result.error) result.error = located(definition.name, result.error);
    await send({ type: 'result', result });
    await send({ type: 'done', name: definition.name });
  }
}

/** A problem of the requested file as resolveScalar sees it. */
interface Candidate {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  /** Why an invalid problem is invalid. */
  error?: string;
  objective(): Objective;
}

/** The time limits of whatever runs user code: the watchdog for JavaScript, a timer per interpreter for Python. */
let limit: Pick<Watchdog, 'arm' | 'disarm'>;
/** The interpreter of a Python problem file, stopped before the worker reports 'finished'. */
let pythonSession: PythonSession | null = null;

/** Starts an interpreter and loads a Python problem file in it; reports 'loaded' or 'loadError' (then null). */
async function loadPythonFile(source: { file: string; python?: string }, timeoutMs: number, memoryMb: number): Promise<Candidate[] | null> {
  const file = path.resolve(source.file);
  const session = new PythonSession(resolveInterpreter(source.python), (text) => process.stderr.write(text));
  pythonSession = session;
  limit = new PythonTimeLimit(session, (activity, place) => {
    // The parent's own report channel (the watchdog's): the time limit is met with the place in user code.
    fs.writeSync(HANG_REPORT_FD, `${JSON.stringify({ reason: 'timeout', problem: activity, location: place?.location ?? null, functionName: place?.functionName ?? null } satisfies HangReport)}\n`);
  });
  limit.arm(LOADING, timeoutMs);
  let loaded: LoadReply;
  try {
    loaded = await session.request<LoadReply>('load', { file, memoryMb });
  } catch (error) {
    limit.disarm();
    await send({ type: 'loadError', file: source.file, message: loadErrorMessage(error, file) });
    return null;
  }
  limit.disarm();
  const problems = loaded.problems;
  await send({
    type: 'loaded',
    file: source.file,
    problems: problems.map((problem) => ({ name: problem.name, kind: problem.kind, line: problem.line, secondOrder: problem.secondOrder ?? false })),
  });
  return problems.map((problem) => ({ name: problem.name, kind: problem.kind, error: problem.error, objective: () => pythonObjective(session, problem) }));
}

/** The scalar problem an optimize or analyze request names: a built-in, or a problem of a file. */
async function resolveScalar(request: OptimizeRequest | AnalyzeRequest): Promise<Objective | null> {
  const refuse = async (message: string) => {
    await send({ type: 'refused', message });
    return null;
  };
  const source = request.source;
  if ('builtin' in source) {
    const builtin = findBuiltin(source.builtin);
    if (!builtin) return refuse(`no built-in problem '${source.builtin}' (one of ${BUILTIN_PROBLEMS.map((entry) => entry.name).join(', ')})`);
    return Objective.of(classifyExport(builtin.name, builtin.create(source.options)) as ScalarDefinition);
  }
  let candidates: Candidate[] | null;
  if (path.extname(source.file) === '.py') {
    candidates = await loadPythonFile(source, request.timeoutMs, request.memoryMb);
  } else {
    const loaded = await loadFile(source.file, request.timeoutMs);
    candidates = loaded?.definitions.map((definition) => ({
      name: definition.name,
      kind: definition.kind,
      error: definition.kind === 'invalid' ? definition.error : undefined,
      objective: () => Objective.of(definition as ScalarDefinition),
    })) ?? null;
  }
  if (!candidates) return null;
  const scalars = candidates.filter((candidate) => candidate.kind === 'scalar');
  if (request.problem !== null) {
    const named = candidates.find((candidate) => candidate.name === request.problem);
    if (!named) return refuse(`no problem named ${request.problem} in ${source.file} (it has ${candidates.map((entry) => entry.name).join(', ') || 'none'})`);
    if (named.kind === 'invalid') return refuse(named.error ?? `${named.name} is not a valid problem`);
    if (named.kind !== 'scalar') return refuse(`${named.name} is a layer: optimizers need a scalar problem (params, f, grad)`);
    return named.objective();
  }
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
async function runOptimizer(objective: Objective, run: OptimizerRun, train: OptimizeRequest['train'], timeoutMs: number, start: number[] | null = null, trajectoriesOnly = false): Promise<TrainResult> {
  const choice = findOptimizer(run.name);
  if (!choice) throw new RangeError(`unknown optimizer ${run.name}`);
  await send({ type: 'started', name: run.name, activity: `running ${run.name} on ${objective.name}` });
  limit.arm(run.name, timeoutMs);
  let pending: StepRecord[] = [];
  let lastFlush = Date.now();
  const flush = async () => {
    if (pending.length > 0) await send({ type: 'records', run: run.name, records: pending });
    pending = [];
    lastFlush = Date.now();
  };
  // No time limit while paused: the watchdog is disarmed, and the parent holds its own timer.
  const control = new RunControl({
    paused: (step) => {
      limit.disarm();
      void flush().then(() => send({ type: 'paused', run: run.name, step }));
    },
    resumed: () => {
      limit.arm(run.name, timeoutMs);
      void send({ type: 'resumed', run: run.name });
    },
  });
  liveRun = control;
  for (const message of earlyControls) control.handle(message);
  earlyControls = [];
  let lastYield = Date.now();
  const gate = {
    async beforeStep(step: number) {
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
  const problem = trainingProblem(objective, start ?? undefined);
  await send({ type: 'runStarted', run: run.name, tensors: problem.layout.tensors.map((spec) => ({ name: spec.name, shape: [...spec.shape] })), start: Array.from(problem.initial) });
  const result = await trainProblem(problem, run.name, choice.optimizer, run.hyperparameters, {
    ...train,
    recordParams: train.recordParams && (!trajectoriesOnly || problem.layout.size === 2),
    signal: control.stopper.signal,
    gate,
    onRecord: (record) => {
      pending.push(record);
      if (Date.now() - lastFlush >= PROGRESS_INTERVAL_MS) {
        void send({ type: 'records', run: run.name, records: pending });
        pending = [];
        lastFlush = Date.now();
      }
    },
  });
  liveRun = null;
  await flush();
  limit.disarm();
  await send({ type: 'done', name: run.name });
  return result;
}

/** The loss on a grid for the contour plot: a built-in's own window, else a box around the start. */
async function sendSurface(objective: Objective, request: OptimizeRequest, resolution: number, timeoutMs: number): Promise<void> {
  const builtin = 'builtin' in request.source ? findBuiltin(request.source.builtin) : undefined;
  const start = objective.point(request.start ?? undefined);
  const around = (center: number): [number, number] => {
    const half = 2 * Math.max(1, Math.abs(center));
    return [center - half, center + half];
  };
  const x = builtin?.bounds?.x ?? around(start[0]);
  const y = builtin?.bounds?.y ?? around(start[1]);
  await send({ type: 'started', name: 'surface', activity: `evaluating the loss surface of ${objective.name}` });
  limit.arm('surface', timeoutMs);
  const points: Float64Array[] = [];
  for (let j = 0; j < resolution; j++) {
    for (let i = 0; i < resolution; i++) {
      points.push(Float64Array.of(x[0] + ((x[1] - x[0]) * i) / (resolution - 1), y[0] + ((y[1] - y[0]) * j) / (resolution - 1)));
    }
  }
  // Where f is undefined (log of a negative, say) the plot has a hole: NaN travels as null.
  const values = await objective.lossesOrNaN(points);
  limit.disarm();
  await send({ type: 'done', name: 'surface' });
  const minima = (builtin?.minima ?? []).map((minimum): [number, number] => [minimum[0], minimum[1]]);
  await send({ type: 'surface', x, y, resolution, values, minima });
}

async function optimize(request: OptimizeRequest): Promise<void> {
  const objective = await resolveScalar(request);
  if (!objective) return;
  const resolution = request.surface?.resolution;
  if (resolution && resolution >= 2 && objective.size === 2) await sendSurface(objective, request, resolution, request.timeoutMs);
  for (const run of request.runs) {
    const result = await runOptimizer(objective, run, request.train, request.timeoutMs, request.start ?? null, Boolean(request.surface));
    await send({ type: 'trained', result });
  }
}

async function analyze(request: AnalyzeRequest): Promise<void> {
  const objective = await resolveScalar(request);
  if (!objective) return;
  const trained = request.run ? await runOptimizer(objective, request.run, request.train, request.timeoutMs) : null;
  if (trained) await send({ type: 'trained', result: trained });
  const at = trained?.final.params;
  await send({ type: 'started', name: 'analysis', activity: 'analyzing the critical point' });
  limit.arm('analysis', request.timeoutMs);
  const report = await analyzeCriticalPoint(objective, at);
  limit.disarm();
  await send({ type: 'analysis', report });
  await send({ type: 'done', name: 'analysis' });
}

/** Errors of an optimize or analyze request (user code, divergence set-up, analysis) end it with a message. */
async function serve(request: Exclude<ParentToWorker, RunControlMessage>): Promise<void> {
  try {
    if (request.type === 'check') await check(request);
    else if (request.type === 'optimize') await optimize(request);
    else await analyze(request);
  } catch (error) {
    await send({ type: 'refused', message: describeFailure(error, locate) });
  }
}

const watchdog = new Watchdog(path.join(__dirname, 'watchdog.js'));
limit = watchdog;

process.on('uncaughtException', (error) => {
  void send({ type: 'fatal', message: `uncaught ${error.name}: ${error.message}${locate(error)}` }).then(() => process.kill(process.pid, 'SIGKILL'));
});
process.on('unhandledRejection', (error) => {
  void send({ type: 'fatal', message: `unhandled rejection: ${describeFailure(error)}${locate(error)}` }).then(() => process.kill(process.pid, 'SIGKILL'));
});

// A listener stays attached so the IPC channel keeps this process alive while user promises are pending:
// a promise that never settles then meets the time limit instead of ending the process quietly.
let started = false;
process.on('message', (request: ParentToWorker) => {
  if (request.type === 'control' || request.type === 'setHyperparameters' || request.type === 'detail') {
    if (liveRun) liveRun.handle(request);
    else earlyControls.push(request);
    return;
  }
  if (started) return;
  started = true;
  process.setSourceMapsEnabled(true);
  // User output must never reach the caller's stdout (it may be --json); the parent forwards it.
  guardExit();
  void serve(request)
    .then(() => pythonSession?.stop('finished'))
    .then(() => send({ type: 'finished' }));
});
