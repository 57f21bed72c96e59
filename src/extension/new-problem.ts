/**
 * New Problem File…: a typed *.grad.ts (or *_grad.py) from a template, and
 * the `gradlens` types where the editor can find them, so `import {
 * defineProblem } from 'gradlens'` (or `from gradlens import problem`)
 * completes and type-checks while the user writes.
 */
import * as vscode from 'vscode';
import { PROBLEM_TEMPLATES, type ProblemTemplate } from './templates';

/** The declarations problem files import (emitted by tsconfig.api.json into dist/). */
const TYPE_FILES = ['api.d.ts', 'core/problem.d.ts', 'core/tensor.d.ts'];

export interface NewProblemArguments {
  template?: ProblemTemplate['id'];
  /** Where to write it (absolute); asked for when missing. */
  path?: string;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `import ... from 'gradlens'` resolve in the editor: when the folder
 * has no gradlens package, writes a types-only one into its node_modules
 * (the runner maps the import to GradLens itself, whatever is installed).
 */
export async function provideTypes(extensionUri: vscode.Uri, folder: vscode.Uri): Promise<vscode.Uri | null> {
  const target = vscode.Uri.joinPath(folder, 'node_modules', 'gradlens');
  if (await exists(vscode.Uri.joinPath(target, 'package.json'))) return null;
  for (const file of TYPE_FILES) {
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(extensionUri, 'dist', file), vscode.Uri.joinPath(target, file), { overwrite: true });
  }
  const manifest = { name: 'gradlens', version: '0.0.0-types', description: 'Types of GradLens problem files, written by the GradLens extension for editor help', types: 'api.d.ts' };
  await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(target, 'package.json'), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return target;
}

/**
 * Makes `from gradlens import ...` resolve in the editor: writes the type
 * hints module beside the file unless one is there (when GradLens runs the
 * file, its own copy is importable anyway).
 */
async function providePythonHints(extensionUri: vscode.Uri, file: vscode.Uri): Promise<vscode.Uri | null> {
  const target = vscode.Uri.joinPath(file, '..', 'gradlens.py');
  if (await exists(target)) return null;
  await vscode.workspace.fs.copy(vscode.Uri.joinPath(extensionUri, 'python', 'gradlens.py'), target);
  return target;
}

export async function newProblemFile(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, given: NewProblemArguments = {}): Promise<vscode.Uri | undefined> {
  const template = given.template
    ? PROBLEM_TEMPLATES.find((candidate) => candidate.id === given.template)
    : (await vscode.window.showQuickPick(PROBLEM_TEMPLATES.map((entry) => ({ label: entry.label, detail: entry.detail, template: entry })), { title: vscode.l10n.t('GradLens: New Problem File'), placeHolder: vscode.l10n.t('What to start from') }))?.template;
  if (!template) {
    if (given.template) throw new Error(vscode.l10n.t('GradLens: no template {0} (one of {1})', given.template, PROBLEM_TEMPLATES.map((entry) => entry.id).join(', ')));
    return undefined;
  }
  const python = template.language === 'python';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = given.path
    ? vscode.Uri.file(given.path)
    : await vscode.window.showSaveDialog({
      title: vscode.l10n.t('GradLens: New Problem File'),
      defaultUri: folder ? vscode.Uri.joinPath(folder, template.fileName) : undefined,
      filters: python ? { [vscode.l10n.t('Python problem files')]: ['py'] } : { [vscode.l10n.t('Problem files')]: ['ts'] },
    });
  if (!target) return undefined;
  if (!(python ? /[._]grad\.py$/ : /\.grad\.[cm]?[jt]s$/).test(target.path)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('GradLens: {0} does not match {1}, so the Test Explorer will not list it (the gradlens.problemFiles setting); commands still check it.', vscode.workspace.asRelativePath(target), python ? '*_grad.py' : '*.grad.ts'));
  }
  await vscode.workspace.fs.writeFile(target, Buffer.from(template.source));
  const owner = vscode.workspace.getWorkspaceFolder(target)?.uri;
  const hints = python ? await providePythonHints(context.extensionUri, target) : owner ? await provideTypes(context.extensionUri, owner) : null;
  if (hints) log.info(`Wrote the gradlens ${python ? 'type hints' : 'types'} to ${vscode.workspace.asRelativePath(hints)} for editor completion.`);
  await vscode.window.showTextDocument(target);
  return target;
}
