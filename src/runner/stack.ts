/**
 * Maps an error from user code to the place in the user's files where it
 * happened, using the source-mapped stack (the worker runs with source maps).
 */
import type { SourceLocation } from '../core/errors';
import { type Platform, framePath, samePath } from './platform';

/** `at f (/a/b.ts:1:2)`, `C:\a\b.ts:1:2`, `file:///a/b.ts:1:2`, `file:///C:/a/b.ts:1:2`: an absolute path, then line and column. */
const FRAME = /\(?((?:file:\/\/)?(?:\/(?:[A-Za-z]:\/)?|[A-Za-z]:[\\/])[^():]*?):(\d+):(\d+)\)?\s*$/;

/** The innermost stack frame in one of the user's own files (`sources`, absolute paths). */
export function userFrame(error: unknown, sources: readonly string[], platform: Platform = process.platform): SourceLocation | null {
  const stack = error instanceof Error ? error.stack : undefined;
  if (!stack) return null;
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    const frame = framePath(match[1], platform);
    const file = sources.find((source) => samePath(source, frame, platform));
    if (file === undefined) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return null;
}
