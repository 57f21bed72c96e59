/**
 * Gradient checks of a problem file in the sandbox: when user code hangs or
 * takes the runner process down, that problem gets an error result and a
 * fresh process carries on with the rest.
 */
import { type CheckOptions, type CheckResult, errorResult } from '../core/gradcheck';
import type { DiscoveredProblem } from '../protocol';
import * as path from 'node:path';
import { PROBLEM_FILE_EXTENSIONS } from './bundle';
import { checkPythonFile } from './python';
import { displayPath } from './stack';
import { DEFAULT_LIMITS, type RunnerLimits, type SupervisionEvents, supervise } from './supervisor';

export { DEFAULT_LIMITS, type RunnerLimits, workerPath } from './supervisor';

export interface ProblemReport extends CheckResult {
  file: string;
  /** 1-based line of the export in `file`, when it could be told. */
  line: number | null;
}

export interface FileReport {
  file: string;
  /** The file could not be compiled or loaded: nothing in it was checked. */
  loadError: string | null;
  /** What the file exports as problems, once it has loaded (null if it never did). */
  discovered: DiscoveredProblem[] | null;
  problems: ProblemReport[];
  cancelled: boolean;
}

export interface RunnerEvents extends SupervisionEvents {
  onProgress?: (file: string, problem: string, done: number, total: number) => void;
  onProblemStarted?: (file: string, problem: string) => void;
  onResult?: (report: ProblemReport) => void;
  onLoaded?: (file: string, problems: DiscoveredProblem[]) => void;
}

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
 * Checks the problems of one problem file (all, or `only` those): a
 * TypeScript/JavaScript file in sandboxed runner processes, a Python file in
 * an interpreter (`python`, else $GRADLENS_PYTHON, else python3).
 */
export function checkFile(
  file: string,
  options: Partial<CheckOptions> = {},
  limits: RunnerLimits = DEFAULT_LIMITS,
  events: RunnerEvents = {},
  only: string[] | null = null,
  python: string | null = null,
): Promise<FileReport> {
  return isPythonFile(file) ? checkPythonFile(file, options, limits, events, only, python) : checkScriptFile(file, options, limits, events, only);
}

async function checkScriptFile(
  file: string,
  options: Partial<CheckOptions>,
  limits: RunnerLimits,
  events: RunnerEvents,
  only: string[] | null,
): Promise<FileReport> {
  const report: FileReport = { file, loadError: null, discovered: null, problems: [], cancelled: false };
  const lines = new Map<string, number | null>();
  const done: string[] = [];
  for (;;) {
    const results: ProblemReport[] = [];
    // Filled by the message handler (an object, so the assignments are visible after the await).
    const seen: { discovered: DiscoveredProblem[] | null; loadError: string | null } = { discovered: null, loadError: null };
    const outcome = await supervise(
      { type: 'check', file, options, only, skip: [...done], timeoutMs: limits.timeoutSeconds * 1000 },
      file,
      limits,
      events,
      (message) => {
        switch (message.type) {
          case 'loaded':
            seen.discovered = message.problems;
            report.discovered = message.problems;
            events.onLoaded?.(file, message.problems);
            for (const problem of message.problems) lines.set(problem.name, problem.line);
            break;
          case 'loadError':
            seen.loadError = message.message;
            break;
          case 'started':
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
      report.loadError = `${displayPath(file)}: ${reason}`;
      report.cancelled = outcome.cancelled;
      return report;
    }
    if (problem === null) {
      // Between two problems: most likely a timer or callback left behind by the one that just finished.
      const previous = results[results.length - 1];
      Object.assign(previous, { verdict: 'error', passed: false, error: `${reason} (after the check of ${previous.name} had finished: a timer or callback in its code?)` });
      events.onResult?.(previous);
      continue;
    }
    const kind = seen.discovered.find((entry) => entry.name === problem)?.kind;
    const described = reason.includes(problem) ? reason : `${reason} while checking ${problem}`;
    const message = reason.includes('(at ') ? described : `${described} (at ${displayPath(file)}:${lines.get(problem) ?? 1})`;
    const failed: ProblemReport = { ...errorResult(problem, kind === 'layer' ? 'layer' : 'scalar', options, message), file, line: lines.get(problem) ?? null };
    report.problems.push(failed);
    events.onResult?.(failed);
    done.push(problem);
    if (outcome.cancelled) {
      report.cancelled = true;
      return report;
    }
  }
}
