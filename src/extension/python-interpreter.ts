/**
 * The interpreter for Python problem files: the one selected in the Python
 * extension when it is installed, else the gradlens.pythonPath setting, else
 * python3 on the PATH (as the issue and the CLI's --python order it).
 */
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';

const PYTHON_EXTENSION_ID = 'ms-python.python';

export interface Interpreter {
  path: string;
  /** Where the choice came from, for the log. */
  from: 'the Python extension' | 'gradlens.pythonPath' | 'the default (python3 on the PATH)';
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
  return { path: 'python3', from: 'the default (python3 on the PATH)' };
}
