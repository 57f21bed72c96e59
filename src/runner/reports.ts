/** What checking a problem file reports, shared by the runner, the CLI, the extension and the dashboard. */
import type { ErrorReport } from '../core/errors';
import type { CheckResult } from '../core/gradcheck';
import type { DiscoveredProblem } from '../protocol';
import type { SupervisionEvents } from './supervisor';

export interface ProblemReport extends CheckResult {
  /** Absolute path. */
  file: string;
  /** 1-based line of the export in `file`, when it could be told. */
  line: number | null;
}

export interface FileReport {
  /** Absolute path. */
  file: string;
  /** The file could not be compiled or loaded: nothing in it was checked. */
  loadError: ErrorReport | null;
  /** What the file exports as problems, once it has loaded (null if it never did). */
  discovered: DiscoveredProblem[] | null;
  problems: ProblemReport[];
  cancelled: boolean;
  /** Round trips with an interpreter (Python problem files), loads included; 0 for TypeScript. */
  exchanges: number;
}

export interface RunnerEvents extends SupervisionEvents {
  onProgress?: (file: string, problem: string, done: number, total: number) => void;
  onProblemStarted?: (file: string, problem: string) => void;
  onResult?: (report: ProblemReport) => void;
  onLoaded?: (file: string, problems: DiscoveredProblem[]) => void;
}

/** The error at the export's line when it came without a place of its own. */
export function atExport(error: ErrorReport, file: string, line: number | null): ErrorReport {
  return error.location ? error : { ...error, location: { file, line: line ?? 1, column: null } };
}
