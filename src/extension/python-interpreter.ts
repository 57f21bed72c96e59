/**
 * The interpreter for Python problem files: the one selected in the Python
 * extension when it is installed, else the gradlens.pythonPath setting, else
 * the runner's default: python3 on the PATH, or another python3 where that one lacks
 * NumPy, or PyTorch for a file that imports torch (runner/python/prestart.ts), as the CLI does.
 */
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';

const PYTHON_EXTENSION_ID = 'ms-python.python';

export interface Interpreter {
  /** null: the runner's default. */
  path: string | null;
  /** Where the choice came from, for the log. */
  from: 'the Python extension' | 'gradlens.pythonPath' | 'the default';
}

async function selectedInPythonExtension(scope: vscode.Uri): Promise<string | null> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) return null;
  try {
    const environments = (await PythonExtension.api()).environments;
    const environment = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(scope));
    return environment?.executable.uri?.fsPath ?? null;
  } catch {
    // An extension that fails to start or resolve: the setting and the default still apply.
    return null;
  }
}

export async function pythonInterpreter(scope: vscode.Uri, configured: string | null): Promise<Interpreter> {
  const selected = await selectedInPythonExtension(scope);
  if (selected) return { path: selected, from: 'the Python extension' };
  if (configured) return { path: configured, from: 'gradlens.pythonPath' };
  return { path: null, from: 'the default' };
}
