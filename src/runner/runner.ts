/**
 * Gradient checks of a problem file, in any language, in the sandbox: each
 * file runs in a supervised runner process (supervisor.ts); when user code
 * hangs, runs out of memory or takes the process down, that problem gets an
 * error result and a fresh process carries on with the rest.
 */
import * as path from 'node:path';
import { type ErrorReport, extendMessage } from '../core/errors';
import { type CheckOptions, errorResult } from '../core/gradcheck';
import type { DiscoveredProblem, LiveMessage } from '../protocol';
import { PROBLEM_FILE_EXTENSIONS } from './bundle';
import { CheckHelperProcesses } from './helpers';
import { type FileReport, type ProblemReport, type RunnerEvents, atExport } from './reports';
import { DEFAULT_LIMITS, type RunnerLimits, supervise } from './supervisor';

export { DEFAULT_LIMITS, type DebuggerAddress, MAX_JOBS, type RunnerLimits, defaultJobs, workerPath } from './supervisor';

/** The time "limit" of a check under a debugger: the largest delay a timer takes (about 24.8 days). */
const NO_TIME_LIMIT_MS = 2 ** 31 - 1;
export type { FileReport, ProblemReport, RunnerEvents } from './reports';

/** Python problem files; everything else is TypeScript or JavaScript. */
export function isPythonFile(file: string): boolean {
  return path.extname(file) === '.py';
}

/** What `checkFile` and the optimizers accept, by extension. */
export const PROBLEM_EXTENSIONS: readonly string[] = [...PROBLEM_FILE_EXTENSIONS, '.py'];

export function isProblemFile(file: string): boolean {
  return PROBLEM_EXTENSIONS.includes(path.extname(file));
}

/**
 * Checks the problems of one problem file (all, or `only` those). `python`
 * is the interpreter of a .py file (else $GRADLENS_PYTHON, else python3).
 */
export async function checkFile(
  requested: string,
  options: Partial<CheckOptions> = {},
  limits: RunnerLimits = DEFAULT_LIMITS,
  events: RunnerEvents = {},
  only: string[] | null = null,
  python: string | null = null,
): Promise<FileReport> {
  const file = path.resolve(requested);
  const report: FileReport = { file, loadError: null, discovered: null, problems: [], cancelled: false, exchanges: 0 };
  const lines = new Map<string, number | null>();
  const done: string[] = [];
  for (;;) {
    const results: ProblemReport[] = [];
    // Filled by the message handler (an object, so the assignments are visible after the await).
    const seen: { discovered: DiscoveredProblem[] | null; loadError: ErrorReport | null } = { discovered: null, loadError: null };
    let toCheck: ((message: LiveMessage) => void) | null = null;
    const helpers = new CheckHelperProcesses(file, options, python, limits, events.signal, (message) => toCheck?.(message));
    let problemStarted = Date.now();
    const outcome = await supervise(
      { type: 'check', file, options, only, skip: [...done], timeoutMs: limits.debug ? NO_TIME_LIMIT_MS : limits.timeoutSeconds * 1000, memoryMb: limits.memoryMb, python, jobs: limits.debug ? 1 : (limits.jobs ?? 1), debug: limits.debug === true },
      file,
      limits,
      {
        ...events,
        onControlChannel: (post) => {
          toCheck = post;
          events.onControlChannel?.(post);
        },
      },
      (message) => {
        switch (message.type) {
          case 'helpersWanted':
            helpers.start(message.name, message.count, problemStarted + limits.timeoutSeconds * 1000);
            break;
          case 'helperEvaluate':
            helpers.evaluate(message.helper, message.id, message.indices);
            break;
          case 'helpersDone':
            helpers.end();
            break;
          case 'loaded':
            seen.discovered = message.problems;
            if (report.discovered === null) events.onLoaded?.(file, message.problems);
            report.discovered = message.problems;
            for (const problem of message.problems) lines.set(problem.name, problem.line);
            break;
          case 'loadError':
            seen.loadError = message.error;
            break;
          case 'started':
            problemStarted = Date.now();
            events.onProblemStarted?.(file, message.name);
            break;
          case 'progress':
            events.onProgress?.(file, message.name, message.done, message.total);
            break;
          case 'result': {
            const problem: ProblemReport = { ...message.result, file, line: lines.get(message.result.name) ?? null };
            results.push(problem);
            events.onResult?.(problem);
            break;
          }
        }
      },
    );
    helpers.end();
    report.exchanges += outcome.exchanges;
    report.problems.push(...results);
    done.push(...results.map((result) => result.name));
    if (seen.loadError) {
      report.loadError = seen.loadError;
      return report;
    }
    if (!outcome.interrupted) return report;
    const { name: problem, reason } = outcome.interrupted;
    if (seen.discovered === null || (problem === null && (results.length === 0 || outcome.cancelled))) {
      // Stopped while loading, or failing before any problem started: the file itself is at fault.
      report.loadError = { ...reason, phase: 'load' };
      report.cancelled = outcome.cancelled;
      return report;
    }
    if (problem === null) {
      // Between two problems: most likely a timer or callback left behind by the one that just finished.
      const previous = results[results.length - 1];
      const error = atExport(extendMessage(reason, ` (after the check of ${previous.name} had finished: a timer or callback in its code?)`), file, previous.line);
      Object.assign(previous, { verdict: 'error', passed: false, error });
      events.onResult?.(previous);
      continue;
    }
    const entry = seen.discovered.find((candidate) => candidate.name === problem);
    const described = reason.message.includes(problem) ? reason : extendMessage(reason, ` while checking ${problem}`);
    const line = lines.get(problem) ?? null;
    const kind = entry?.kind === 'layer' ? 'layer' : 'scalar';
    const failed: ProblemReport = { ...errorResult(problem, kind, options, atExport(described, file, line)), file, line };
    report.problems.push(failed);
    events.onResult?.(failed);
    done.push(problem);
    if (outcome.cancelled) {
      report.cancelled = true;
      return report;
    }
  }
}
