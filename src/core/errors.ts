/**
 * Errors as data. Whatever stops a check, a run or an analysis travels as an
 * ErrorReport from the process that saw it to the edge that shows it (the
 * terminal, the Problems panel, a test message), which alone turns it into
 * text in its own vocabulary: a time limit is `--timeout` in the CLI and the
 * `gradlens.timeoutSeconds` setting in VS Code. Paths are absolute here;
 * edges show them relative.
 */

export interface SourceLocation {
  /** Absolute path. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based; null when only the line is known (Python, an export's line). */
  column: number | null;
}

/** What GradLens was doing. */
export type ErrorPhase = 'load' | 'check' | 'optimize' | 'analyze';

/**
 * Who can fix it: `user` the problem file (a throw, a bad return value, a
 * malformed export, bad input), `limit` a time or memory limit, `runner` the
 * machine (an interpreter missing or dying), `internal` GradLens itself (a bug:
 * the report keeps the stack), `cancelled` nobody.
 */
export type ErrorKind = 'user' | 'limit' | 'runner' | 'internal' | 'cancelled';

/** A setting each edge names in its own words (CLI flag, VS Code setting). */
export type SettingName = 'timeout' | 'memory' | 'python' | 'mode';

export interface ErrorReport {
  /** One sentence without a location: `f threw RangeError: bad x with x[1] + 0.000001`. */
  message: string;
  kind: ErrorKind;
  phase: ErrorPhase;
  /** Where in the user's files, when known. */
  location: SourceLocation | null;
  /** The element moved by ±eps when it happened (`x[1]`), else null. */
  element: string | null;
  /** The setting that governs it, and the position in `message` after which an edge names it. */
  setting: { name: SettingName; at: number } | null;
  /** Internal errors: the stack, for a bug report. */
  stack: string | null;
}

/** An error the user fixes in their problem file or input; its message is for them as it reads (kind `user`). */
export class UserFault extends Error {}

/** Bad input that GradLens refuses: an unknown name, an option out of range, a checkpoint that does not fit. */
export class InputError extends UserFault {
  override name = 'InputError';
}

/** An error whose kind is known where it is thrown: a limit that was hit, an interpreter that died. */
export class KnownFailure extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly setting: ErrorReport['setting'] = null,
  ) {
    super(message);
  }
}

export function errorReport(message: string, kind: ErrorKind, phase: ErrorPhase, extra: Partial<Omit<ErrorReport, 'message' | 'kind' | 'phase'>> = {}): ErrorReport {
  return { message, kind, phase, location: null, element: null, setting: null, stack: null, ...extra };
}

/** `timed out after 3 s`, `ran out of memory at 96 MB`: the clause an edge follows with its name of the limit. */
export function limitClause(name: 'timeout' | 'memory', amount: number | null): string {
  if (name === 'timeout') return `timed out after ${amount} s`;
  return amount === null ? 'ran out of memory' : `ran out of memory at ${amount} MB`;
}

/** A limit error: the clause, then `rest` (" while checking f, in f"). */
export function limitError(name: 'timeout' | 'memory', amount: number | null, rest: string, phase: ErrorPhase, location: SourceLocation | null = null): ErrorReport {
  const clause = limitClause(name, amount);
  return errorReport(`${clause}${rest}`, 'limit', phase, { location, setting: { name, at: clause.length } });
}

/** The same report with `more` after its message (before any location an edge adds). */
export function extendMessage(report: ErrorReport, more: string): ErrorReport {
  return { ...report, message: `${report.message}${more}` };
}

/** A named setting at the end of a sentence: "…, or choose another interpreter" followed by the edge's words for it. */
export function withSetting(report: ErrorReport, name: SettingName): ErrorReport {
  return { ...report, setting: { name, at: report.message.length } };
}

/**
 * What a check, run or analysis threw, as a report: user faults and known
 * failures as they read (located by `locate`, where it can tell), anything
 * else as a GradLens bug with its stack.
 */
export function reportFailure(error: unknown, phase: ErrorPhase, locate?: (error: unknown) => SourceLocation | null): ErrorReport {
  const location = locate?.(error) ?? null;
  if (error instanceof KnownFailure) return errorReport(error.message, error.kind, phase, { location, setting: error.setting });
  if (error instanceof UserFault) return errorReport(error.message, 'user', phase, { location });
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return errorReport(`internal error: ${described}`, 'internal', phase, { stack: error instanceof Error ? error.stack ?? null : null });
}
