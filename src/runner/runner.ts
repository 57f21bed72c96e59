/**
 * The parent side of the sandbox: forks dist/worker.js for a problem file,
 * enforces the per-problem time limit and the memory limit, and turns
 * every way user code can fail (throw, hang, exit, crash, out of memory)
 * into an error result for that problem while the others still get checked.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { type CheckOptions, type CheckResult, errorResult } from '../core/gradcheck';
import type { CheckRequest, DiscoveredProblem, WorkerToParent } from '../protocol';
import type { HangReport } from './watchdog';

/** How long past the limit the parent waits for the watchdog's report before killing anyway. */
const WATCHDOG_GRACE_MS = 2000;

export interface RunnerLimits {
  /** Per problem (and for loading the file), in seconds. */
  timeoutSeconds: number;
  /** V8 heap limit of the runner process, in MB. */
  memoryMb: number;
}

export const DEFAULT_LIMITS: Readonly<RunnerLimits> = Object.freeze({ timeoutSeconds: 60, memoryMb: 4096 });

export interface ProblemReport extends CheckResult {
  file: string;
  /** 1-based line of the export in `file`, when it could be told. */
  line: number | null;
}

export interface FileReport {
  file: string;
  /** The file could not be compiled or loaded: nothing in it was checked. */
  loadError: string | null;
  problems: ProblemReport[];
  cancelled: boolean;
}

export interface RunnerEvents {
  /** What user code printed (console.log goes to 'stdout'). Never mixed into the caller's own output. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  onProgress?: (file: string, problem: string, done: number, total: number) => void;
  onProblemStarted?: (file: string, problem: string) => void;
  onResult?: (report: ProblemReport) => void;
  signal?: AbortSignal;
}

export function workerPath(): string {
  // dist/cli.js, dist/extension.js and dist/worker.js sit side by side; tests load from out/.
  const beside = path.join(__dirname, 'worker.js');
  return path.basename(__dirname) === 'dist' ? beside : path.resolve(__dirname, '../../../dist/worker.js');
}

interface Attempt {
  /** Problems reported by this attempt, in order. */
  results: ProblemReport[];
  discovered: DiscoveredProblem[] | null;
  loadError: string | null;
  /** The problem that was running when the worker was stopped, and why. */
  interrupted: { problem: string | null; reason: string } | null;
  cancelled: boolean;
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

function runAttempt(
  file: string,
  options: Partial<CheckOptions>,
  only: string[] | null,
  skip: string[],
  limits: RunnerLimits,
  events: RunnerEvents,
  lines: Map<string, number | null>,
): Promise<Attempt> {
  return new Promise((resolve) => {
    const attempt: Attempt = { results: [], discovered: null, loadError: null, interrupted: null, cancelled: false };
    const child: ChildProcess = fork(workerPath(), [], {
      execArgv: ['--enable-source-maps', `--max-old-space-size=${limits.memoryMb}`],
      // fd 4 carries the watchdog's report of where user code hangs.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
    });
    let current: string | null = null;
    let stderrTail = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = limits.timeoutSeconds * 1000;

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      events.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(attempt);
    };
    const interrupt = (reason: string): void => {
      if (!attempt.interrupted) attempt.interrupted = { problem: current, reason };
      finish();
    };
    const outOfMemory = `ran out of memory (limit ${limits.memoryMb} MB, --memory)`;
    const timedOut = (what: string) => `timed out after ${limits.timeoutSeconds} s (--timeout) ${what}`;
    // The runner's watchdog reports a hang with its place in user code at the limit; this
    // timer is the backstop for when it cannot (stuck outside JavaScript, or while loading).
    const armTimer = (what: string, grace: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => interrupt(timedOut(what)), timeoutMs + grace);
    };
    readline.createInterface({ input: child.stdio[4] as Readable }).on('line', (line) => {
      const hang = JSON.parse(line) as HangReport;
      const place = hang.location ? `, in ${hang.functionName ?? 'user code'} (at ${hang.location})` : '';
      if (hang.reason === 'memory') interrupt(`${outOfMemory}${current ? ` while checking ${current}` : ''}${place}`);
      else if (hang.problem === (current ?? '')) interrupt(`${timedOut(current ? `while checking ${current}` : `while loading ${path.basename(file)}`)}${place}`);
    });
    const onAbort = (): void => {
      attempt.cancelled = true;
      interrupt('cancelled');
    };
    if (events.signal?.aborted) return onAbort();
    events.signal?.addEventListener('abort', onAbort);

    child.stdout?.on('data', (chunk: Buffer) => events.onOutput?.(chunk.toString(), 'stdout'));
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderrTail = (stderrTail + text).slice(-4000);
      events.onOutput?.(text, 'stderr');
    });
    child.on('message', (message: WorkerToParent) => {
      switch (message.type) {
        case 'loaded':
          attempt.discovered = message.problems;
          for (const problem of message.problems) lines.set(problem.name, problem.line);
          break;
        case 'loadError':
          attempt.loadError = message.message;
          break;
        case 'started':
          current = message.name;
          events.onProblemStarted?.(file, message.name);
          armTimer(`while checking ${message.name}`, WATCHDOG_GRACE_MS);
          break;
        case 'progress':
          events.onProgress?.(file, message.name, message.done, message.total);
          break;
        case 'result': {
          const report: ProblemReport = { ...message.result, file, line: lines.get(message.result.name) ?? null };
          attempt.results.push(report);
          events.onResult?.(report);
          current = null;
          clearTimeout(timer);
          break;
        }
        case 'fatal':
          interrupt(message.message);
          break;
        case 'finished':
          finish();
          break;
      }
    });
    child.on('error', (error) => interrupt(`the runner process failed: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (settled) return;
      if (/heap out of memory|Allocation failed|Reached heap limit/i.test(stderrTail)) {
        interrupt(outOfMemory);
      } else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const detail = lastLines(stderrTail, 3);
        interrupt(`the runner process ${how}${detail ? `: ${detail}` : ''}`);
      }
    });
    armTimer(`while loading ${path.basename(file)}`, WATCHDOG_GRACE_MS);
    const request: CheckRequest = { type: 'check', file, options, only, skip, timeoutMs };
    child.send(request);
  });
}

/**
 * Checks the problems of one file in a sandboxed process. When user code
 * hangs or takes the process down, that problem gets an error result and a
 * fresh process carries on with the rest.
 */
export async function checkFile(
  file: string,
  options: Partial<CheckOptions> = {},
  limits: RunnerLimits = DEFAULT_LIMITS,
  events: RunnerEvents = {},
  only: string[] | null = null,
): Promise<FileReport> {
  const report: FileReport = { file, loadError: null, problems: [], cancelled: false };
  const lines = new Map<string, number | null>();
  const done: string[] = [];
  for (;;) {
    const attempt = await runAttempt(file, options, only, done, limits, events, lines);
    report.problems.push(...attempt.results);
    done.push(...attempt.results.map((result) => result.name));
    if (attempt.loadError) {
      report.loadError = attempt.loadError;
      return report;
    }
    if (!attempt.interrupted) return report;
    const { problem, reason } = attempt.interrupted;
    if (attempt.discovered === null || (problem === null && (attempt.results.length === 0 || attempt.cancelled))) {
      // Stopped while loading, or failing before any problem started: the file itself is at fault.
      report.loadError = `${path.relative(process.cwd(), file) || file}: ${reason}`;
      report.cancelled = attempt.cancelled;
      return report;
    }
    if (problem === null) {
      // Between two problems: most likely a timer or callback left behind by the one that just finished.
      const previous = attempt.results[attempt.results.length - 1];
      Object.assign(previous, { verdict: 'error', passed: false, error: `${reason} (after the check of ${previous.name} had finished: a timer or callback in its code?)` });
      events.onResult?.(previous);
      continue;
    }
    const kind = attempt.discovered.find((entry) => entry.name === problem)?.kind;
    const where = `${path.relative(process.cwd(), file) || file}:${lines.get(problem) ?? 1}`;
    const described = reason.includes(problem) ? reason : `${reason} while checking ${problem}`;
    const message = reason.includes('(at ') ? described : `${described} (at ${where})`;
    const failed: ProblemReport = {
      ...errorResult(problem, kind === 'layer' ? 'layer' : 'scalar', options, message),
      file,
      line: lines.get(problem) ?? null,
    };
    report.problems.push(failed);
    events.onResult?.(failed);
    done.push(problem);
    if (attempt.cancelled) {
      report.cancelled = true;
      return report;
    }
  }
}
