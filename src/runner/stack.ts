/**
 * Maps an error from user code to the place in the user's files where it
 * happened, using the source-mapped stack (the worker runs with source maps).
 */
import * as path from 'node:path';

const FRAME = /\(?((?:file:\/\/)?(?:\/|[A-Za-z]:[\\/])[^():]*?):(\d+):(\d+)\)?\s*$/;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** The innermost stack frame in one of the user's own files (`sources`). */
export function userFrame(error: unknown, sources: readonly string[]): SourceLocation | null {
  const stack = error instanceof Error ? error.stack : undefined;
  if (!stack) return null;
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    const file = match[1].startsWith('file://') ? new URL(match[1]).pathname : match[1];
    if (!sources.includes(file)) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return null;
}

/** A path as messages show it: relative to `cwd` when inside it, else absolute. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

export function formatLocation(location: SourceLocation, cwd = process.cwd()): string {
  return `${displayPath(location.file, cwd)}:${location.line}:${location.column}`;
}

const AT_LOCATION = /\(at (.+?):(\d+)(?::(\d+))?\)/;
const LEADING_LOCATION = /^(.+?):(\d+)(?::(\d+))?: /;

/**
 * The location a runner message names: `(at file:line[:col])`, or a leading
 * `file:line[:col]: ` (compile and load errors; Python's have no column). Relative paths are resolved
 * against `cwd`, as displayPath made them.
 */
export function messageLocation(message: string, cwd = process.cwd()): SourceLocation | null {
  const match = AT_LOCATION.exec(message) ?? LEADING_LOCATION.exec(message);
  if (!match) return null;
  return { file: path.resolve(cwd, match[1]), line: Number(match[2]), column: match[3] === undefined ? 1 : Number(match[3]) };
}
