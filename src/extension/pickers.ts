/**
 * The steps of the optimizer commands' multi-step quick input: a problem
 * (the active file's exports, then the built-ins), an optimizer, its
 * hyper-parameters (pre-filled with the torch defaults and the user's
 * settings). Each step opens with what was chosen before, after Back.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type OptimizerChoice, findOptimizer, optimizerNames, resolveHyperparameters } from '../core/optim';
import { formatHyperparameterText, parseHyperparameterText } from '../core/optim/hyper-text';
import type { Hyperparameters } from '../core/optim/optimizer';
import { BUILTIN_PROBLEMS, type BuiltinProblem } from '../core/problems';
import type { ProblemSource } from '../protocol';
import { isProblemFile } from '../runner/runner';
import type { MultiStepInput } from './multi-step';
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
export async function pickProblem(input: MultiStepInput, services: Services, previous: PickedProblem | undefined): Promise<PickedProblem> {
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
          description: problem.line ? vscode.l10n.t('line {0}', problem.line) : undefined,
          detail: trusted ? undefined : vscode.l10n.t('not run: this workspace is not trusted'),
          choice: fileChoice(document.uri, problem.name),
        });
      }
    }
  }
  items.push({ label: vscode.l10n.t('Built-in problems'), kind: vscode.QuickPickItemKind.Separator });
  for (const builtin of BUILTIN_PROBLEMS) {
    items.push({ label: `$(library) ${builtin.name}`, description: vscode.l10n.t('{0} parameters', builtin.dimension), detail: builtin.description, choice: builtinChoice(builtin) });
  }
  const active = items.filter((item) => item.choice && item.choice.label === previous?.label);
  const picked = await input.pick({ items, active, placeholder: vscode.l10n.t('Problem to optimize'), matchOnDescription: true, matchOnDetail: true });
  return picked.choice!;
}

function describeOptimizer(name: string): string {
  return findOptimizer(name)!.optimizer.summary;
}

export async function pickOptimizer(input: MultiStepInput, settings: Settings, previous: OptimizerChoice | undefined): Promise<OptimizerChoice> {
  const names = optimizerNames();
  const ordered = [settings.optimizer, ...names.filter((name) => name !== settings.optimizer)];
  const items = ordered.map((name) => ({ label: name, description: name === settings.optimizer ? vscode.l10n.t('default') : undefined, detail: describeOptimizer(name) }));
  const picked = await input.pick({ items, active: items.filter((item) => item.label === previous?.name), placeholder: vscode.l10n.t('Optimizer (torch.optim names)'), matchOnDetail: true });
  return findOptimizer(picked.label)!;
}

export const DEFAULT_COMPARISON = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'];

export async function pickOptimizers(input: MultiStepInput, previous: OptimizerChoice[] | undefined): Promise<OptimizerChoice[]> {
  const chosen = previous?.map((choice) => choice.name) ?? DEFAULT_COMPARISON;
  const items = optimizerNames().map((name) => ({ label: name, detail: describeOptimizer(name) }));
  const picked = await input.pick({ items, active: items.filter((item) => chosen.includes(item.label)), placeholder: vscode.l10n.t('Optimizers to compare from the same start'), canPickMany: true, matchOnDetail: true });
  return picked.map((item) => findOptimizer(item.label)!);
}

/** The optimizer's defaults with the user's settings applied (checked). */
export function configuredHyperparameters(choice: OptimizerChoice, settings: Settings): Hyperparameters {
  return resolveHyperparameters(choice, settings.hyperparameters[choice.name] ?? {});
}

/** An input box pre-filled with every hyper-parameter; validated as the user types. */
export async function editHyperparameters(input: MultiStepInput, choice: OptimizerChoice, settings: Settings, problem: string): Promise<Hyperparameters> {
  const specs = choice.optimizer.hyperparameters;
  const resolve = (text: string) => resolveHyperparameters(choice, parseHyperparameterText(specs, text));
  const text = await input.inputBox({
    prompt: vscode.l10n.t('{0} on {1}: hyper-parameters (torch names): {2}', choice.name, problem, specs.map((spec) => `${spec.name}: ${spec.description}`).join('; ')),
    value: formatHyperparameterText(configuredHyperparameters(choice, settings)),
    validate: (value) => {
      try {
        resolve(value);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
  });
  return resolve(text);
}
