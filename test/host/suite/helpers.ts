// Shared by the host tests: the workspace fixture, the extension's API, settings that are put back.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GradLensApi } from '../../../src/extension/extension';

export const EXTENSION_ID = 'gradlens.gradlens';

export async function gradlens(): Promise<GradLensApi> {
  const extension = vscode.extensions.getExtension<GradLensApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in the host`);
  return extension.activate();
}

export function fixture(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the host was opened without the fixture workspace');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Sets gradlens.<key> in the workspace for the duration of `body`. */
export async function withSetting<T>(key: string, value: unknown, body: () => Thenable<T>): Promise<T> {
  const configuration = vscode.workspace.getConfiguration('gradlens');
  await configuration.update(key, value, vscode.ConfigurationTarget.Workspace);
  try {
    return await body();
  } finally {
    await vscode.workspace.getConfiguration('gradlens').update(key, undefined, vscode.ConfigurationTarget.Workspace);
  }
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
