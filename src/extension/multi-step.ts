/**
 * One quick input that walks through several steps (`step/totalSteps` in its
 * title bar) with a Back button, as VS Code's multi-step input sample and the
 * built-in flows do: Back (or its keybinding) returns to the previous step
 * with what was chosen there still selected; Escape cancels the whole flow.
 */
import * as vscode from 'vscode';

/** What a step showed, for the extension tests (GradLensApi.testing). */
export interface ShownStep {
  title: string;
  step: number;
  totalSteps: number;
  kind: 'pick' | 'input';
  placeholder: string | undefined;
  /** Pick steps: the items' labels; input steps: the pre-filled value. */
  items: string[];
}

const shownSteps = new vscode.EventEmitter<ShownStep>();
export const onDidShowStep = shownSteps.event;

/** Thrown out of a step by Back and by cancelling. */
class FlowAction {
  static readonly back = new FlowAction();
  static readonly cancel = new FlowAction();
}

/** A step: asks one thing through `input`, returns the next step (undefined: done). */
export type InputStep = (input: MultiStepInput) => Promise<InputStep | undefined>;

export interface PickOptions<T extends vscode.QuickPickItem> {
  placeholder: string;
  items: readonly T[];
  /** Selected when the step opens (e.g. what was picked before going back). */
  active?: readonly T[];
  canPickMany?: boolean;
  matchOnDescription?: boolean;
  matchOnDetail?: boolean;
}

export interface InputBoxOptions {
  prompt: string;
  value: string;
  /** Why the text is not acceptable, or null. */
  validate(text: string): string | null;
}

export class MultiStepInput {
  private step = 0;
  private current: vscode.QuickInput | undefined;

  private constructor(
    private readonly title: string,
    private readonly totalSteps: number,
  ) {}

  /** Runs the steps from `first`; false when the user cancelled. */
  static async run(title: string, totalSteps: number, first: InputStep): Promise<boolean> {
    const input = new MultiStepInput(title, totalSteps);
    const done: InputStep[] = [];
    let step: InputStep | undefined = first;
    try {
      while (step) {
        input.step = done.length + 1;
        try {
          const next: InputStep | undefined = await step(input);
          done.push(step);
          step = next;
        } catch (error) {
          if (error !== FlowAction.back) throw error;
          step = done.pop();
        }
      }
      return true;
    } catch (error) {
      if (error === FlowAction.cancel) return false;
      throw error;
    } finally {
      input.current?.dispose();
    }
  }

  /** One item (or, with canPickMany, the items) picked; throws on Back and cancel. */
  pick<T extends vscode.QuickPickItem>(options: PickOptions<T> & { canPickMany: true }): Promise<readonly T[]>;
  pick<T extends vscode.QuickPickItem>(options: PickOptions<T>): Promise<T>;
  pick<T extends vscode.QuickPickItem>(options: PickOptions<T>): Promise<T | readonly T[]> {
    const picker = vscode.window.createQuickPick<T>();
    picker.placeholder = options.placeholder;
    picker.items = options.items;
    picker.canSelectMany = options.canPickMany ?? false;
    picker.matchOnDescription = options.matchOnDescription ?? false;
    picker.matchOnDetail = options.matchOnDetail ?? false;
    if (options.active?.length) {
      if (picker.canSelectMany) picker.selectedItems = options.active;
      else picker.activeItems = options.active;
    }
    const labels = options.items.filter((item) => item.kind !== vscode.QuickPickItemKind.Separator).map((item) => item.label);
    return this.show<T | readonly T[]>(picker, { kind: 'pick', placeholder: options.placeholder, items: labels }, (resolve) => [
      picker.onDidAccept(() => {
        if (picker.canSelectMany) {
          if (picker.selectedItems.length > 0) resolve([...picker.selectedItems]);
        } else if (picker.activeItems[0]) resolve(picker.activeItems[0]);
      }),
    ]);
  }

  /** The accepted text (valid by `validate`); throws on Back and cancel. */
  inputBox(options: InputBoxOptions): Promise<string> {
    const box = vscode.window.createInputBox();
    box.prompt = options.prompt;
    box.value = options.value;
    box.validationMessage = options.validate(options.value) ?? undefined;
    return this.show<string>(box, { kind: 'input', placeholder: options.prompt, items: [options.value] }, (resolve) => [
      box.onDidChangeValue((text) => (box.validationMessage = options.validate(text) ?? undefined)),
      box.onDidAccept(() => {
        const problem = options.validate(box.value);
        box.validationMessage = problem ?? undefined;
        if (!problem) resolve(box.value);
      }),
    ]);
  }

  /** Shows `input` in place of the previous step's, and settles on accept, Back or hide. */
  private show<T>(input: vscode.QuickInput & { buttons: readonly vscode.QuickInputButton[]; onDidTriggerButton: vscode.Event<vscode.QuickInputButton> }, shown: Pick<ShownStep, 'kind' | 'placeholder' | 'items'>, listen: (resolve: (value: T) => void) => vscode.Disposable[]): Promise<T> {
    input.title = this.title;
    input.step = this.step;
    input.totalSteps = this.totalSteps;
    input.buttons = this.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    input.ignoreFocusOut = true;
    return new Promise<T>((resolve, reject) => {
      const subscriptions: vscode.Disposable[] = [];
      // Listeners go once the step settles; the input stays shown until the next step replaces it.
      const settle = (outcome: () => void) => {
        for (const subscription of subscriptions) subscription.dispose();
        outcome();
      };
      subscriptions.push(
        ...listen((value) => settle(() => resolve(value))),
        input.onDidTriggerButton((button) => {
          if (button === vscode.QuickInputButtons.Back) settle(() => reject(FlowAction.back));
        }),
        // Escape or focus elsewhere; not the replacement by the next step (this step has settled by then).
        input.onDidHide(() => settle(() => reject(FlowAction.cancel))),
      );
      this.current?.dispose();
      this.current = input;
      input.show();
      shownSteps.fire({ title: this.title, step: this.step, totalSteps: this.totalSteps, ...shown });
    });
  }
}
