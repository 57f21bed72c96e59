/**
 * Quick picks of the optimizer commands: a problem (the active file's
 * exports, then the built-ins), an optimizer, its hyper-parameters
 * (pre-filled with the torch defaults and the user's settings).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type OptimizerChoice, findOptimizer, optimizerNames, resolveHyperparameters } from '../core/optim';
import { formatHyperparameterText, parseHyperparameterText } from '../core/optim/hyper-text';
import type { Hyperparameters } from '../core/optim/optimizer';
import { BUILTIN_PROBLEMS, type BuiltinProblem } from '../core/problems';
import type { ProblemSource } from '../protocol';
import { isProblemFile } from '../runner/runner';
import type { Services } from './services';
import type { Settings } from './settings';

export interface PickedProblem {
  source: ProblemSource;
  /** Export name; null for a built-in. */
  problem: string | null;
  /** How messages name it: `rosenbrock`, `model.grad.ts: quadratic`. */
  label: string;
  builtin: BuiltinProblem | null;
}

export function builtinChoice(builtin: BuiltinProblem): PickedProblem {
  return { source: { builtin: builtin.name, options: {} }, problem: null, label: builtin.name, builtin };
}

/** `problem` null: the file's only scalar problem. */
export function fileChoice(uri: vscode.Uri, problem: string | null): PickedProblem {
  return { source: { file: uri.fsPath }, problem, label: problem ? `${path.basename(uri.fsPath)}: ${problem}` : path.basename(uri.fsPath), builtin: null };
}

/** The problems of the active editor's file (as far as they are known), then every built-in. */
export async function pickProblem(services: Services, title: string): Promise<PickedProblem | undefined> {
  type Item = vscode.QuickPickItem & { choice?: PickedProblem };
  const items: Item[] = [];
  const document = vscode.window.activeTextEditor?.document;
  if (document && document.uri.scheme === 'file' && isProblemFile(document.fileName)) {
    const known = services.store.problems(document.uri, document.getText());
    const scalars = known.filter((problem) => problem.kind === 'scalar');
    if (scalars.length > 0) {
      items.push({ label: path.basename(document.fileName), kind: vscode.QuickPickItemKind.Separator });
      const trusted = vscode.workspace.isTrusted;
      for (const problem of scalars) {
        items.push({
          label: `$(symbol-variable) ${problem.name}`,
          description: problem.line ? `line ${problem.line}` : undefined,
          detail: trusted ? undefined : 'not run: this workspace is not trusted',
          choice: fileChoice(document.uri, problem.name),
        });
      }
    }
  }
  items.push({ label: 'Built-in problems', kind: vscode.QuickPickItemKind.Separator });
  for (const builtin of BUILTIN_PROBLEMS) {
    items.push({ label: `$(library) ${builtin.name}`, description: `${builtin.dimension} parameters`, detail: builtin.description, choice: builtinChoice(builtin) });
  }
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Problem to optimize', matchOnDescription: true, matchOnDetail: true });
  return picked?.choice;
}

function describeOptimizer(name: string): string {
  return findOptimizer(name)!.optimizer.summary;
}

export async function pickOptimizer(settings: Settings, title: string): Promise<OptimizerChoice | undefined> {
  const names = optimizerNames();
  const ordered = [settings.optimizer, ...names.filter((name) => name !== settings.optimizer)];
  const picked = await vscode.window.showQuickPick(
    ordered.map((name) => ({ label: name, description: name === settings.optimizer ? 'default' : undefined, detail: describeOptimizer(name) })),
    { title, placeHolder: 'Optimizer (torch.optim names)', matchOnDetail: true },
  );
  return picked ? findOptimizer(picked.label) : undefined;
}

export const DEFAULT_COMPARISON = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'];

export async function pickOptimizers(title: string): Promise<OptimizerChoice[] | undefined> {
  const picked = await vscode.window.showQuickPick(
    optimizerNames().map((name) => ({ label: name, detail: describeOptimizer(name), picked: DEFAULT_COMPARISON.includes(name) })),
    { title, placeHolder: 'Optimizers to compare from the same start', canPickMany: true, matchOnDetail: true },
  );
  if (!picked || picked.length === 0) return undefined;
  return picked.map((item) => findOptimizer(item.label)!);
}

/** The optimizer's defaults with the user's settings applied (checked). */
export function configuredHyperparameters(choice: OptimizerChoice, settings: Settings): Hyperparameters {
  return resolveHyperparameters(choice, settings.hyperparameters[choice.name] ?? {});
}

/** An input box pre-filled with every hyper-parameter; validated as the user types. */
export async function editHyperparameters(choice: OptimizerChoice, settings: Settings, title: string): Promise<Hyperparameters | undefined> {
  const specs = choice.optimizer.hyperparameters;
  const resolve = (text: string) => resolveHyperparameters(choice, parseHyperparameterText(specs, text));
  const text = await vscode.window.showInputBox({
    title,
    prompt: `${choice.name} hyper-parameters (torch names): ${specs.map((spec) => `${spec.name}: ${spec.description}`).join('; ')}`,
    value: formatHyperparameterText(configuredHyperparameters(choice, settings)),
    validateInput: (value) => {
      try {
        resolve(value);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
  });
  return text === undefined ? undefined : resolve(text);
}
