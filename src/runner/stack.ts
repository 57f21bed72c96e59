/**
 * Maps an error from user code to the place in the user's files where it
 * happened, using the source-mapped stack (the worker runs with source maps).
 */
import type { SourceLocation } from '../core/errors';

const FRAME = /\(?((?:file:\/\/)?(?:\/|[A-Za-z]:[\\/])[^():]*?):(\d+):(\d+)\)?\s*$/;

/** The innermost stack frame in one of the user's own files (`sources`, absolute paths). */
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
