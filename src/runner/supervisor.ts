/**
 * One sandboxed runner process (dist/worker.js) and its limits: the time
 * limit per activity (and for loading), the heap limit, cancellation, and
 * every way the process can end early, turned into a reason that names what
 * was running and, when the watchdog could tell, where in user code.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { type ErrorPhase, type ErrorReport, errorReport, limitError } from '../core/errors';
import type { LiveMessage, ParentToWorker, WorkerToParent } from '../protocol';
import { killTree } from './platform';
import { DEFAULT_PYTHON, chosenInterpreter, defaultInterpreter, prestartArguments } from './python/prestart';
import { LOCAL_GRACE_MS } from './shared-check';
import type { HangReport } from './watchdog';

export interface RunnerLimits {
  /** Per problem or optimizer run (and for loading the file), in seconds. */
  timeoutSeconds: number;
  /** V8 heap limit of the runner process, in MB. */
  memoryMb: number;
  /** Runner processes a costly full or sparse check may use in all, each with these limits (1 when absent). */
  jobs?: number;
  /**
   * Under a debugger: the runner process starts paused for one to attach
   * (`--inspect-brk`, its address told by `onDebuggerListening`), and no time
   * limit applies, since a process paused at a breakpoint is not hung. One
   * process: helpers are never started. The heap limit stays.
   */
  debug?: boolean;
}

/** The most runner processes one check may use, whatever is asked. */
export const MAX_JOBS = 32;

/** Helper processes are capped here by default: beyond it, start-up and memory outweigh what more cores give. */
const DEFAULT_JOBS_CAP = 4;

/** The number of available cores, at most DEFAULT_JOBS_CAP. */
export function defaultJobs(): number {
  return Math.max(1, Math.min(DEFAULT_JOBS_CAP, os.availableParallelism()));
}

export const DEFAULT_LIMITS: Readonly<RunnerLimits> = Object.freeze({ timeoutSeconds: 60, memoryMb: 4096, jobs: defaultJobs() });

export interface SupervisionEvents {
  /** What user code printed (console.log goes to 'stdout'). Never mixed into the caller's own output. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
  /** Called once the runner process exists, with a way to send it live-run controls and helper messages. */
  onControlChannel?: (post: (message: LiveMessage) => void) => void;
  /** With `limits.debug`: where the paused runner process waits for a debugger. */
  onDebuggerListening?: (address: DebuggerAddress) => void;
}

export interface DebuggerAddress {
  /** Node's inspector (TypeScript/JavaScript user code) or debugpy (a Python file's interpreter). */
  kind: 'node' | 'python';
  host: string;
  port: number;
}

/**
 * Where a debugger can attach, from what the runner process prints on stderr:
 * node started with `--inspect-brk` on port 0 says
 * `Debugger listening on ws://127.0.0.1:41999/4c0b…`; the Python runner under
 * the debugger says `GradLens: debugpy listening on 127.0.0.1:5678`.
 */
export function debuggerAddress(stderr: string): DebuggerAddress | null {
  const node = /Debugger listening on ws:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)\//.exec(stderr);
  if (node) return { kind: 'node', host: node[1].replace(/^\[|\]$/g, ''), port: Number(node[2]) };
  const python = /^GradLens: debugpy listening on ([^\s:]+):(\d+)$/m.exec(stderr);
  return python ? { kind: 'python', host: python[1], port: Number(python[2]) } : null;
}

/** What node prints about the inspector (start, attach, detach): not the user's output. */
const INSPECTOR_NOISE = /^(GradLens: debugpy listening on |Debugger listening on ws:|For help, see: https:\/\/nodejs\.org\/|Debugger attached\.|Waiting for the debugger to disconnect\.\.\.|Debugger ending on ws:)/;

export interface Interruption {
  /** The activity's name (a problem, an optimizer run) when one was running. */
  name: string | null;
  reason: ErrorReport;
}

export interface SupervisionResult {
  interrupted: Interruption | null;
  cancelled: boolean;
  /** Round trips with an interpreter the runner reported when it finished (0 if it did not). */
  exchanges: number;
}

/** How long past the limit the parent waits for the watchdog's report before killing anyway. */
const WATCHDOG_GRACE_MS = 2000;

export function workerPath(): string {
  // dist/cli.js, dist/extension.js and dist/worker.js (with worker-main.js) sit side by side; tests load from out/.
  const beside = path.join(__dirname, 'worker.js');
  return path.basename(__dirname) === 'dist' ? beside : path.resolve(__dirname, '../../../dist/worker.js');
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/**
 * A request for a Python file names the interpreter the user chose, or the one chosen here for a torch
 * file (python/prestart.ts); null leaves the default (python3; python on Windows) to the runner, which may replace one without NumPy.
 */
function withInterpreter(request: ParentToWorker): ParentToWorker {
  const choose = (python: string | null, file: string) => {
    const chosen = chosenInterpreter(python);
    if (chosen) return chosen;
    const fallback = defaultInterpreter(file);
    return fallback === DEFAULT_PYTHON ? null : fallback;
  };
  if (request.type === 'check' || request.type === 'help') return request.file.endsWith('.py') ? { ...request, python: choose(request.python, request.file) } : request;
  if (request.type !== 'optimize' && request.type !== 'analyze') return request;
  const source = request.source;
  if (!('file' in source) || !source.file.endsWith('.py')) return request;
  const python = choose(source.python ?? null, source.file);
  return { ...request, source: python ? { ...source, python } : { file: source.file } };
}

/** A request for a Python file starts its interpreter with the runner process (python/prestart.ts). */
function interpreterArguments(request: ParentToWorker): string[] {
  if (request.type === 'check' || request.type === 'help') return request.file.endsWith('.py') ? prestartArguments(request.python ?? DEFAULT_PYTHON) : [];
  if (request.type !== 'optimize' && request.type !== 'analyze') return [];
  const source = request.source;
  return 'file' in source && source.file.endsWith('.py') ? prestartArguments(source.python ?? DEFAULT_PYTHON) : [];
}

/**
 * Runs `request` in a fresh runner process until it says 'finished' or is
 * stopped. Messages other than started/fatal/finished go to `onMessage`.
 * `source` names the file (or built-in) for messages about loading.
 */
export function supervise(
  asked: ParentToWorker,
  source: string,
  limits: RunnerLimits,
  events: SupervisionEvents,
  onMessage: (message: WorkerToParent) => void,
): Promise<SupervisionResult> {
  const request = withInterpreter(asked);
  const phase: ErrorPhase = request.type === 'check' || request.type === 'help' ? 'check' : request.type === 'optimize' ? 'optimize' : 'analyze';
  return new Promise((resolve) => {
    const result: SupervisionResult = { interrupted: null, cancelled: false, exchanges: 0 };
    const debugging = limits.debug === true;
    // A Python file's interpreter waits for debugpy itself (CheckRequest.debug); node's inspector serves JavaScript.
    const inspect = debugging && interpreterArguments(request).length === 0;
    const child: ChildProcess = fork(workerPath(), interpreterArguments(request), {
      execArgv: ['--enable-source-maps', `--max-old-space-size=${limits.memoryMb}`, ...(inspect ? ['--inspect-brk=127.0.0.1:0'] : [])],
      // fd 4 carries the watchdog's report of where user code hangs.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
    });
    let current: { name: string; activity: string } | null = null;
    let stderrTail = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      events.signal?.removeEventListener('abort', onAbort);
      // With what it started: a Python file's interpreter (Windows never tells a child its parent ended).
      killTree(child);
      resolve(result);
    };
    const interrupt = (reason: ErrorReport): void => {
      if (!result.interrupted) result.interrupted = { name: current?.name ?? null, reason };
      finish();
    };
    const doing = () => (current ? ` while ${current.activity}` : ` while loading ${path.basename(source)}`);
    const at = () => (current ? phase : 'load');
    const limitHit = (name: 'timeout' | 'memory', hang: HangReport | null): ErrorReport => {
      const place = hang?.location ? `, in ${hang.functionName ?? 'user code'}` : '';
      const amount = name === 'timeout' ? limits.timeoutSeconds : limits.memoryMb;
      return limitError(name, amount, `${doing()}${place}`, at(), hang?.location ?? null);
    };
    // The watchdog reports a hang with its place in user code at the limit; this
    // timer is the backstop for when it cannot (stuck outside JavaScript, say).
    let armedAt = Date.now();
    const armTimer = (extraMs = 0): void => {
      clearTimeout(timer);
      armedAt = Date.now();
      if (debugging) return;
      timer = setTimeout(() => interrupt(limitHit('timeout', null)), limits.timeoutSeconds * 1000 + WATCHDOG_GRACE_MS + extraMs);
    };
    readline.createInterface({ input: child.stdio[4] as Readable }).on('line', (line) => {
      const hang = JSON.parse(line) as HangReport;
      if (hang.reason === 'memory') interrupt(limitHit('memory', hang));
      else if (hang.problem === (current?.name ?? '')) interrupt(limitHit('timeout', hang));
    });
    const onAbort = (): void => {
      result.cancelled = true;
      interrupt(errorReport('cancelled', 'cancelled', at()));
    };
    if (events.signal?.aborted) return onAbort();
    events.signal?.addEventListener('abort', onAbort);

    child.stdout?.on('data', (chunk: Buffer) => events.onOutput?.(chunk.toString(), 'stdout'));
    // Until the inspector's address is found: what the process printed so far (null once found).
    let beforeInspector: string | null = debugging ? '' : null;
    child.stderr?.on('data', (chunk: Buffer) => {
      let text = chunk.toString();
      if (debugging) {
        if (beforeInspector !== null) {
          beforeInspector += text;
          const address = debuggerAddress(beforeInspector);
          if (address) {
            beforeInspector = null;
            events.onDebuggerListening?.(address);
          }
        }
        text = text.split(/(?<=\n)/).filter((line) => !INSPECTOR_NOISE.test(line)).join('');
      }
      stderrTail = (stderrTail + text).slice(-4000);
      if (text) events.onOutput?.(text, 'stderr');
    });
    child.on('message', (message: WorkerToParent) => {
      switch (message.type) {
        case 'started':
          current = { name: message.name, activity: message.activity };
          armTimer();
          break;
        case 'done':
          current = null;
          clearTimeout(timer);
          break;
        case 'paused':
          clearTimeout(timer);
          break;
        case 'resumed':
          armTimer();
          break;
        case 'helpersWanted': {
          // A shared check keeps its own time limit a little longer than its helpers' (shared-check.ts).
          const started = armedAt;
          armTimer(LOCAL_GRACE_MS - (Date.now() - started));
          armedAt = started;
          break;
        }
        case 'fatal':
          interrupt(message.error);
          return;
        case 'finished':
          result.exchanges = message.exchanges;
          finish();
          return;
      }
      onMessage(message);
    });
    child.on('error', (error) => interrupt(errorReport(`the runner process failed: ${error.message}`, 'runner', at())));
    child.on('exit', (code, signal) => {
      if (settled) return;
      if (/heap out of memory|Allocation failed|Reached heap limit/i.test(stderrTail)) {
        interrupt(limitHit('memory', null));
      } else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const detail = lastLines(stderrTail, 3);
        interrupt(errorReport(`the runner process ${how}${detail ? `: ${detail}` : ''}`, 'runner', at()));
      }
    });
    armTimer();
    child.send(request);
    events.onControlChannel?.((message) => {
      if (!settled && child.connected) child.send(message);
    });
  });
}
