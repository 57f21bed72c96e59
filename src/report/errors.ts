/**
 * Error reports as text, at the edge that shows them: paths relative to the
 * working directory (or the workspace) where they are inside it, and the
 * settings a message names in the edge's own words (`--timeout` in a
 * terminal, the `gradlens.timeoutSeconds` setting in VS Code).
 */
import * as path from 'node:path';
import type { ErrorReport, SettingName, SourceLocation } from '../core/errors';

/** How an edge names each setting. */
export type SettingWords = Readonly<Record<SettingName, string>>;

export const CLI_SETTINGS: SettingWords = Object.freeze({
  timeout: '--timeout',
  memory: '--memory',
  python: '--python PATH or the environment variable GRADLENS_PYTHON',
  mode: '--mode fast or --mode sparse',
});

/** How an edge shows a path (relative to the working directory, to the workspace, ...). */
export type PathShown = (file: string) => string;

/** A path as messages show it: relative to `cwd` when inside it, else absolute. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}

/** `model.grad.ts:12:5`, or `model_grad.py:12` without a column. */
export function formatLocation(location: SourceLocation, show: PathShown = (file) => displayPath(file)): string {
  return `${show(location.file)}:${location.line}${location.column === null ? '' : `:${location.column}`}`;
}

/** The message with its setting named where it belongs: `timed out after 3 s (--timeout) while ...`. */
export function errorMessage(error: ErrorReport, settings: SettingWords): string {
  if (!error.setting) return error.message;
  const { name, at } = error.setting;
  return `${error.message.slice(0, at)} (${settings[name]})${error.message.slice(at)}`;
}

/**
 * The whole text: a load error as compilers print theirs (`file:line:col:
 * message`), any other with its place after it (`message (at file:line:col)`).
 */
export function errorText(error: ErrorReport, settings: SettingWords, show: PathShown = (file) => displayPath(file)): string {
  const message = errorMessage(error, settings);
  if (!error.location) return message;
  const where = formatLocation(error.location, show);
  return error.phase === 'load' ? `${where}: ${message}` : `${message} (at ${where})`;
}
