/**
 * Python problem files: the interpreter process (python/gradlens_runner.py)
 * evaluates, the TypeScript engine checks. JSON-RPC 2.0 over stdio
 * (vscode-jsonrpc, Content-Length framing); float64 arrays as base64 of
 * little-endian bytes. Evaluations go in bulk plans, so a full check is a
 * handful of exchanges, not 2n+1. The interpreter is the sandbox: a time
 * limit per problem, cancellation and a crash or hang all end in killing it,
 * never in waiting on it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Message, type MessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { type CheckOptions, type CheckResult, type CheckSubject, type Evaluations, checkSubject, errorResult } from '../core/gradcheck';
import { type CheckTarget, PerturbedFailure, UserCodeError, type UserFunctionName, finiteNumber, noEvaluations, probeVector } from '../core/targets';
import { Objective } from '../core/analysis/objective';
import { type Layout, type TensorSpec, TensorError, TensorPoint } from '../core/tensor';
import type { Random } from '../core/random';
import { dot } from '../core/vector';
import type { DiscoveredProblem } from '../protocol';
import type { FileReport, ProblemReport, RunnerEvents, RunnerLimits } from './runner';
import { displayPath } from './stack';

/** Exit code of the runner when `import numpy` fails. */
const NUMPY_MISSING_EXIT = 3;
const USER_ERROR = -32001;
const TENSOR_ERROR = -32002;
const LOAD_ERROR = -32003;
const OUT_OF_MEMORY = -32004;
/** How long a hung interpreter gets to print its stack (SIGUSR1, faulthandler) before it is killed. */
const STACK_GRACE_MS = 500;

export function runnerScript(): string {
  // dist/cli.js and dist/extension.js, or out/src/runner/python.js in tests.
  const fromDist = path.resolve(__dirname, '..', 'python', 'gradlens_runner.py');
  return fs.existsSync(fromDist) ? fromDist : path.resolve(__dirname, '..', '..', '..', 'python', 'gradlens_runner.py');
}

/** `--python PATH`, else $GRADLENS_PYTHON, else python3 on the PATH. */
export function resolveInterpreter(option: string | null | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.GRADLENS_PYTHON || 'python3';
}

const HOW_TO_CHOOSE = 'choose another interpreter (in VS Code: the Python extension\'s interpreter or the gradlens.pythonPath setting; gradlens CLI: --python PATH or the environment variable GRADLENS_PYTHON)';

/** The interpreter could not run the runner at all (missing, no NumPy, died): nothing in the file was checked. */
export class PythonUnavailable extends Error {
  override name = 'PythonUnavailable';
}

/** Python raised in user code; `location` is file:line in the user's files. */
export class PythonException extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly file: string | null,
    readonly line: number | null,
    readonly traceback: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** Where a Python exception happened, as the engine's locateError hook wants it: " (at file.py:12)". */
export function locatePython(error: unknown): string {
  return error instanceof PythonException && error.file ? ` (at ${displayPath(error.file)}:${error.line ?? 1})` : '';
}

interface LayoutEntry {
  name: string;
  shape: number[];
  scalar: boolean;
}

export interface PythonProblem {
  name: string;
  kind: 'scalar' | 'layer' | 'invalid';
  line: number | null;
  secondOrder?: boolean;
  dataSize?: number | null;
  description?: string | null;
  layout?: LayoutEntry[];
  values?: string;
  looksLike?: 'scalar' | 'layer';
  error?: string;
}

interface ErrorData {
  function?: UserFunctionName;
  type?: string;
  message?: string;
  file?: string | null;
  line?: number | null;
  traceback?: string;
  missing?: string;
  element?: { index: number; delta: number };
}

export function encodeFloats(values: ArrayLike<number>): string {
  const array = values instanceof Float64Array ? values : Float64Array.from(values);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

export function decodeFloats(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function encodeIndices(indices: Int32Array): string {
  return Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength).toString('base64');
}

/** Where a hung interpreter was, in the user's files. */
export interface HangPlace {
  functionName: string;
  /** file:line */
  location: string;
}

export function describePlace(place: HangPlace | null): string {
  return place ? `, in ${place.functionName} (at ${place.location})` : '';
}

/**
 * A writer whose writes never reject. vscode-jsonrpc 8.2.1's sendRequest rethrows a failed write from
 * an async Promise executor, an unhandled rejection that ends the process; a write fails only when the
 * interpreter is gone, and its exit rejects every request anyway (PythonSession.ended).
 */
class TolerantWriter extends StreamMessageWriter {
  override write(message: Message): Promise<void> {
    return super.write(message).catch(() => undefined);
  }
}

/** One interpreter running the runner, with the file loaded into it. */
export class PythonSession {
  /** JSON-RPC requests sent (round trips), for tests and benchmarks. */
  requests = 0;
  private readonly child: ChildProcess;
  private readonly connection: MessageConnection;
  private readonly ended: Promise<never>;
  /** Resolves once the process exists: nothing is written to a process that failed to start. */
  private readonly spawned: Promise<void>;
  private stderrTail = '';
  private exited = false;
  /** The runner has answered a request: it runs, whatever happens later. */
  private answered = false;
  private stopReason: string | null = null;
  /** Output after a time limit is the faulthandler's stack dump: kept, not forwarded. */
  private capturing = false;
  private captured = '';

  constructor(
    readonly python: string,
    private readonly onOutput?: (text: string, stream: 'stdout' | 'stderr') => void,
  ) {
    this.child = spawn(python, ['-u', runnerScript()], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      if (this.capturing) this.captured += text;
      else this.onOutput?.(text, 'stderr');
    });
    this.ended = new Promise<never>((_resolve, reject) => {
      this.child.on('error', (error: NodeJS.ErrnoException) => {
        this.exited = true;
        reject(new PythonUnavailable(error.code === 'ENOENT'
          ? `Python interpreter '${python}' not found: install Python 3 with NumPy (Debian/Ubuntu: apt install python3-numpy), or ${HOW_TO_CHOOSE}`
          : `could not start the Python interpreter '${python}': ${error.message}`));
      });
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        if (this.stopReason) return reject(new PythonUnavailable(this.stopReason));
        if (code === NUMPY_MISSING_EXIT && /gradlens-runner: numpy missing/.test(this.stderrTail)) {
          return reject(new PythonUnavailable(`NumPy is not installed for the Python interpreter '${python}': install it (${python} -m pip install numpy, or apt install python3-numpy for Debian's python3), or ${HOW_TO_CHOOSE}`));
        }
        const detail = this.stderrTail.trim().split('\n').slice(-3).join('\n');
        // Ended before it ever answered: most likely not a Python 3 interpreter at all.
        const advice = this.answered ? '' : `; is '${python}' a Python 3 interpreter? Otherwise ${HOW_TO_CHOOSE}`;
        reject(new PythonUnavailable(`the Python runner (${python}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${detail ? `: ${detail}` : ''}${advice}`));
      });
    });
    this.ended.catch(() => undefined);
    this.spawned = new Promise<void>((resolve) => this.child.once('spawn', () => resolve()));
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new TolerantWriter(this.child.stdin!));
    this.connection.onError(() => undefined);
    this.child.stdin!.on('error', () => undefined);
    this.connection.listen();
  }

  /** One request; rejects (never hangs) when the interpreter exits or is stopped. */
  async request<T>(method: string, params: unknown): Promise<T> {
    this.requests++;
    await Promise.race([this.spawned, this.ended]);
    if (this.exited) return this.ended;
    const reply = await Promise.race([this.connection.sendRequest<T>(method, params), this.ended]).catch((error: unknown) => {
      if (error instanceof ResponseError) this.answered = true;
      throw error;
    });
    this.answered = true;
    return reply;
  }

  /** Stops the interpreter; pending and later requests reject with `reason`. With `stack`, asks it first where it is (faulthandler). */
  async stop(reason: string, stack = false): Promise<HangPlace | null> {
    if (this.exited) return null;
    this.stopReason ??= reason;
    const place = stack ? await this.where() : null;
    this.child.kill('SIGKILL');
    this.connection.dispose();
    return place;
  }

  /** Where the interpreter is now in user code (faulthandler's dump on SIGUSR1), null when it cannot tell. */
  async where(): Promise<HangPlace | null> {
    if (this.exited || process.platform === 'win32') return null;
    this.capturing = true;
    this.child.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, STACK_GRACE_MS));
    return this.hangPlace(this.captured);
  }

  /** The innermost frame in a user file of faulthandler's dump ("File "x.py", line 5 in f", most recent first). */
  private hangPlace(dump: string): HangPlace | null {
    const runner = runnerScript();
    for (const match of dump.matchAll(/File "([^"]+)", line (\d+) in (\S+)/g)) {
      if (path.resolve(match[1]) === runner || /[/\\](site|dist)-packages[/\\]/.test(match[1])) continue;
      return { functionName: match[3], location: `${displayPath(match[1])}:${match[2]}` };
    }
    return null;
  }

  dispose(): void {
    void this.stop('stopped');
  }
}

function layoutOf(entries: LayoutEntry[]): Layout {
  let offset = 0;
  const tensors: TensorSpec[] = entries.map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const spec: TensorSpec = { name: entry.name, shape: entry.shape, size, offset, form: entry.shape.length === 0 ? 'number' : entry.shape.length === 1 ? 'typed' : 'nested' };
    offset += size;
    return spec;
  });
  return { tensors, size: offset };
}

/** Turns the runner's error replies into the engine's errors (UserCodeError, TensorError, PerturbedFailure). */
function translate(error: unknown): unknown {
  if (!(error instanceof ResponseError)) return error;
  const data = (error.data ?? {}) as ErrorData;
  let translated: Error;
  if (error.code === USER_ERROR) {
    translated = new UserCodeError(data.function ?? 'f', new PythonException(data.type ?? 'Exception', data.message ?? '', data.file ?? null, data.line ?? null, data.traceback ?? ''));
  } else if (error.code === TENSOR_ERROR) {
    translated = new TensorError(data.message ?? error.message);
  } else if (error.code === OUT_OF_MEMORY) {
    translated = new Error('ran out of memory (--memory)');
  } else {
    translated = new Error(error.message);
  }
  return data.element ? new PerturbedFailure(translated, data.element.index, data.element.delta) : translated;
}

/** One evaluation plan of one problem, with the runner's error replies turned into the engine's errors. */
async function evaluatePlan<T>(session: PythonSession, problem: string, plan: Record<string, unknown>): Promise<T> {
  try {
    return await session.request<T>('evaluate', { problem, plan });
  } catch (error) {
    throw translate(error);
  }
}

/**
 * A Python scalar problem as optimizers and the Hessian analysis see it: one
 * request per evaluation, and one per optimizer step (f and grad together).
 */
export function pythonObjective(session: PythonSession, problem: PythonProblem): Objective {
  const layout = layoutOf(problem.layout ?? []);
  const evaluations = noEvaluations();
  const run = <T>(plan: Record<string, unknown>) => evaluatePlan<T>(session, problem.name, plan);
  const batchPlan = (batch: number[] | null) => (batch ? { batch } : {});
  const lossLabel = (batch: number[] | null) => (batch ? 'f(p, batch)' : 'f(p)');
  return Objective.flat({
    name: problem.name,
    layout,
    params: decodeFloats(problem.values ?? ''),
    dataSize: problem.dataSize ?? null,
    evaluations,
    functions: {
      loss: async (x, batch) => {
        evaluations.f++;
        const reply = await run<{ values: string }>({ kind: 'f', x: encodeFloats(x), ...batchPlan(batch) });
        return finiteNumber(lossLabel(batch))(decodeFloats(reply.values)[0]);
      },
      gradient: async (x, batch) => {
        evaluations.grad++;
        return decodeFloats((await run<{ grad: string }>({ kind: 'grad', x: encodeFloats(x), ...batchPlan(batch) })).grad);
      },
      hvp: problem.secondOrder
        ? async (x, v) => {
          evaluations.hvp++;
          return decodeFloats((await run<{ hvp: string }>({ kind: 'hvp', x: encodeFloats(x), v: encodeFloats(v) })).hvp);
        }
        : null,
      lossesOrNaN: async (points) => {
        evaluations.f += points.length;
        const flat = new Float64Array(points.length * layout.size);
        points.forEach((point, k) => flat.set(point, k * layout.size));
        return Array.from(decodeFloats((await run<{ values: string }>({ kind: 'losses_or_nan', points: encodeFloats(flat) })).values));
      },
      lossAndGradient: async (x, batch) => {
        evaluations.f++;
        evaluations.grad++;
        const reply = await run<{ values: string; grad: string }>({ kind: 'value_and_grad', x: encodeFloats(x), ...batchPlan(batch) });
        return { loss: finiteNumber(lossLabel(batch))(decodeFloats(reply.values)[0]), grad: decodeFloats(reply.grad) };
      },
    },
  });
}

/** The engine's view of a Python problem: every evaluation is a request; full and sparse mode go in bulk. */
class PythonSubject implements CheckSubject {
  readonly kind: 'scalar' | 'layer';
  readonly hasHvp: boolean;
  readonly dataSize: number | null;
  readonly name: string;

  constructor(
    private readonly session: PythonSession,
    private readonly problem: PythonProblem,
  ) {
    this.name = problem.name;
    this.kind = problem.kind === 'layer' ? 'layer' : 'scalar';
    this.hasHvp = problem.secondOrder ?? false;
    this.dataSize = problem.dataSize ?? null;
  }

  private evaluate<T>(plan: Record<string, unknown>): Promise<T> {
    return evaluatePlan<T>(this.session, this.name, plan);
  }

  target(options: CheckOptions, evaluations: Evaluations, random: Random, batch: number[] | null): CheckTarget {
    const layout = layoutOf(this.problem.layout ?? []);
    const point = new TensorPoint(layout, decodeFloats(this.problem.values ?? ''));
    // The point and the probe go to the interpreter once: later plans say they are the same (plan_array in the runner).
    const sent = new Map<string, string>();
    const arrays = (fields: Record<string, Float64Array>): Record<string, unknown> => {
      const plan: Record<string, unknown> = {};
      const same: string[] = [];
      for (const [key, values] of Object.entries(fields)) {
        const text = encodeFloats(values);
        if (sent.get(key) === text) same.push(key);
        else {
          plan[key] = text;
          sent.set(key, text);
        }
      }
      return same.length > 0 ? { ...plan, same } : plan;
    };
    /** The current point, with the probe v where there is one. */
    const at = (probe: Float64Array | null = null) => arrays(probe ? { x: point.values, v: probe } : { x: point.values });
    const batchPlan = batch ? { batch } : {};
    const bulk = (fn: string, extra: Record<string, unknown>, count: keyof Evaluations, label: string, probe: Float64Array | null = null) =>
      async (indices: Int32Array, eps: number) => {
        evaluations[count] += 2 * indices.length;
        const reply = await this.evaluate<{ plus: string; minus: string }>({ kind: 'perturbed', fn, ...at(probe), eps, indices: encodeIndices(indices), ...extra });
        const plus = decodeFloats(reply.plus);
        const minus = decodeFloats(reply.minus);
        for (let k = 0; k < indices.length; k++) {
          if (!Number.isFinite(plus[k])) throw new PerturbedFailure(new TensorError(`${label} returned ${plus[k]}, expected a finite number`), indices[k], eps);
          if (!Number.isFinite(minus[k])) throw new PerturbedFailure(new TensorError(`${label} returned ${minus[k]}, expected a finite number`), indices[k], -eps);
        }
        return { plus, minus };
      };
    if (this.kind === 'layer') {
      let shape: number[] | null = null;
      let probe: Float64Array = new Float64Array(0);
      const label = 'v·forward(inputs)';
      return {
        layout,
        point,
        valueLabel: label,
        gradientLabel: 'backward(inputs, v)',
        value: async () => {
          evaluations.forward++;
          const reply = await this.evaluate<{ shape: number[]; out: string }>({ kind: 'forward', ...at() });
          if (shape === null) {
            shape = reply.shape;
            probe = probeVector(shape.reduce((a, b) => a * b, 1), random);
          } else if (reply.shape.join(',') !== shape.join(',')) {
            throw new TensorError(`forward(inputs) returned shape [${reply.shape.join(',')}], but [${shape.join(',')}] at the unperturbed inputs`);
          }
          return dot(probe, decodeFloats(reply.out));
        },
        gradient: async () => {
          evaluations.backward++;
          return decodeFloats((await this.evaluate<{ grad: string }>({ kind: 'backward', ...at(probe), shape })).grad);
        },
        perturbedValues: (indices, eps) => bulk('forward_dot', { shape }, 'forward', label, probe)(indices, eps),
      };
    }
    if (options.order === 2) {
      const probe = probeVector(layout.size, random);
      const check = finiteNumber('u·grad(p)');
      return {
        layout,
        point,
        valueLabel: 'u·grad(p)',
        gradientLabel: 'hvp(p, u)',
        value: async () => {
          evaluations.grad++;
          return check(decodeFloats((await this.evaluate<{ value: string }>({ kind: 'grad_dot', ...at(probe) })).value)[0]);
        },
        gradient: async () => {
          evaluations.hvp++;
          return decodeFloats((await this.evaluate<{ hvp: string }>({ kind: 'hvp', ...at(probe) })).hvp);
        },
        perturbedValues: bulk('grad_dot', {}, 'grad', 'u·grad(p)', probe),
      };
    }
    const valueLabel = batch ? 'f(p, batch)' : 'f(p)';
    const check = finiteNumber(valueLabel);
    return {
      layout,
      point,
      valueLabel,
      gradientLabel: batch ? 'grad(p, batch)' : 'grad(p)',
      value: async () => {
        evaluations.f++;
        return check(decodeFloats((await this.evaluate<{ values: string }>({ kind: 'f', ...at(), ...batchPlan })).values)[0]);
      },
      gradient: async () => {
        evaluations.grad++;
        return decodeFloats((await this.evaluate<{ grad: string }>({ kind: 'grad', ...at(), ...batchPlan })).grad);
      },
      perturbedValues: bulk('f', batchPlan, 'f', valueLabel),
    };
  }
}

export interface LoadReply {
  problems: PythonProblem[];
  python: string;
  numpy: string;
}

export function loadErrorMessage(error: unknown, file: string): string {
  if (error instanceof ResponseError && error.code === LOAD_ERROR) {
    const data = (error.data ?? {}) as ErrorData;
    const where = `${displayPath(data.file ?? file)}${data.line ? `:${data.line}` : ''}`;
    if (data.missing) return `${where}: cannot import module '${data.missing}' (imported by ${displayPath(file)}; is it installed for this interpreter, or beside the file?)`;
    return `${where}: ${data.message ?? error.message}${data.message?.startsWith('SyntaxError') ? '' : ` (loading ${displayPath(file)})`}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The time limit of a Python session run from the runner process (optimizer
 * runs, analysis): the same arm/disarm as the JavaScript watchdog; at the
 * limit the interpreter is asked where it is, then stopped, and `onHang`
 * gets the place in user code.
 */
export class PythonTimeLimit {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: PythonSession,
    private readonly onHang: (activity: string, place: HangPlace | null) => void,
  ) {}

  arm(activity: string, milliseconds: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // Report first, then stop: the parent ends the request on the report, before a failed evaluation could end it otherwise.
      void this.session.where().then((place) => {
        this.onHang(activity, place);
        return this.session.stop('timed out');
      });
    }, milliseconds);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }
}

export interface PythonFileReport extends FileReport {
  /** JSON-RPC round trips over all sessions, loads included. */
  requests: number;
}

/**
 * Checks the problems of one Python file (all, or `only` those), like
 * checkFile for TS files: a problem that times out or crashes the
 * interpreter gets an error result and a fresh interpreter carries on.
 */
export async function checkPythonFile(
  file: string,
  options: Partial<CheckOptions>,
  limits: RunnerLimits,
  events: RunnerEvents = {},
  only: string[] | null = null,
  python: string | null = null,
): Promise<PythonFileReport> {
  const interpreter = resolveInterpreter(python);
  const report: PythonFileReport = { file, loadError: null, discovered: null, problems: [], cancelled: false, requests: 0 };
  const done = new Set<string>();
  for (;;) {
    const session = new PythonSession(interpreter, events.onOutput);
    let current: string | null = null;
    let timedOut: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = (activity: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const reason = `timed out after ${limits.timeoutSeconds} s (--timeout) while ${activity}`;
        timedOut = reason;
        void session.stop(reason, true).then((place) => {
          timedOut = `${reason}${describePlace(place)}`;
        });
      }, limits.timeoutSeconds * 1000);
    };
    const onAbort = () => void session.stop('cancelled');
    events.signal?.addEventListener('abort', onAbort);
    try {
      if (events.signal?.aborted) {
        report.cancelled = true;
        return report;
      }
      arm(`loading ${path.basename(file)}`);
      let loaded: LoadReply;
      try {
        loaded = await session.request<LoadReply>('load', { file, memoryMb: limits.memoryMb });
      } catch (error) {
        clearTimeout(timer);
        if (events.signal?.aborted) report.cancelled = true;
        // Wait for the stack of a hang, if one is being taken.
        if (timedOut) await new Promise((resolve) => setTimeout(resolve, STACK_GRACE_MS + 100));
        report.loadError = timedOut ? `${displayPath(file)}: ${timedOut}` : loadErrorMessage(error, file);
        return report;
      }
      clearTimeout(timer);
      const problems = loaded.problems;
      const discovered: DiscoveredProblem[] = problems.map((problem) => ({
        name: problem.name,
        kind: problem.kind === 'invalid' ? problem.looksLike ?? 'scalar' : problem.kind,
        line: problem.line,
        secondOrder: problem.secondOrder ?? false,
      }));
      if (report.discovered === null) {
        report.discovered = discovered;
        events.onLoaded?.(file, discovered);
      }
      const located = (problem: PythonProblem, message: string) => (message.includes('(at ') ? message : `${message} (at ${displayPath(file)}:${problem.line ?? 1})`);
      let restart = false;
      for (const problem of problems) {
        if (only && !only.includes(problem.name)) continue;
        if (done.has(problem.name)) continue;
        current = problem.name;
        events.onProblemStarted?.(file, problem.name);
        const kind = problem.kind === 'invalid' ? problem.looksLike ?? 'scalar' : problem.kind;
        let result: CheckResult;
        if (problem.kind === 'invalid') {
          result = errorResult(problem.name, kind, options, located(problem, problem.error ?? 'invalid problem'));
        } else {
          arm(`checking ${problem.name}`);
          let lastProgress = 0;
          const checked = await checkSubject(new PythonSubject(session, problem), options, {
            locateError: locatePython,
            signal: events.signal,
            onProgress: (doneCount, total) => {
              const now = Date.now();
              if (now - lastProgress < 100) return;
              lastProgress = now;
              events.onProgress?.(file, problem.name, doneCount, total);
            },
          }).catch((error: unknown) => error);
          clearTimeout(timer);
          if (events.signal?.aborted) {
            report.cancelled = true;
            const cancelled: ProblemReport = { ...errorResult(problem.name, kind, options, 'cancelled'), file, line: problem.line };
            report.problems.push(cancelled);
            events.onResult?.(cancelled);
            return report;
          }
          if (checked instanceof Error || !('verdict' in (checked as object))) {
            result = errorResult(problem.name, kind, options, located(problem, checked instanceof Error ? checked.message : String(checked)));
          } else {
            result = checked as CheckResult;
            if (timedOut || (result.error && result.error.includes('the Python runner'))) {
              if (timedOut) await new Promise((resolve) => setTimeout(resolve, STACK_GRACE_MS + 100));
              result = { ...result, verdict: 'error' as const, passed: false, error: timedOut ?? result.error };
              restart = true;
            }
            if (result.error) result.error = located(problem, result.error);
          }
        }
        const finished: ProblemReport = { ...result, file, line: problem.line };
        report.problems.push(finished);
        events.onResult?.(finished);
        done.add(problem.name);
        if (restart) break;
      }
      current = null;
      if (!restart) return report;
    } finally {
      clearTimeout(timer);
      events.signal?.removeEventListener('abort', onAbort);
      report.requests += session.requests;
      void session.stop(current ? 'stopped' : 'finished');
    }
  }
}
