/** Report text as VS Code shows it: settings in VS Code's words, paths relative to the workspace. */
import * as vscode from 'vscode';
import type { ErrorReport } from '../core/errors';
import { errorText } from '../report/errors';
import { VSCODE_SETTINGS } from './describe';

export function workspacePath(file: string): string {
  return vscode.workspace.asRelativePath(file);
}

/** An error with its place, for notifications, the log and the dashboard. */
export function errorLine(error: ErrorReport): string {
  return errorText(error, VSCODE_SETTINGS, workspacePath);
}
