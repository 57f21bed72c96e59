// The multi-step quick input of Run Optimizer… and Compare Optimizers… in the real host, driven by the
// workbench's own quick-input commands (accept, next item, Back) as its keys would.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TrainResult } from '../../../src/core/optim/train';
import type { ShownStep } from '../../../src/extension/multi-step';
import { gradlens, until, withSetting } from './helpers';

describe('multi-step pickers', function () {
  this.timeout(120_000);
  const shown: ShownStep[] = [];
  let subscription: vscode.Disposable;

  before(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const api = await gradlens();
    subscription = api.testing!.onDidShowStep((step) => shown.push(step));
  });

  after(() => subscription.dispose());

  /** Waits for step `step` to show (the count-th step shown so far), then lets the workbench draw it. */
  async function stepShown(count: number): Promise<ShownStep> {
    const step = await until(`step ${count} of the flow`, () => shown[count - 1]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return step;
  }
  const accept = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  const back = () => vscode.commands.executeCommand('workbench.action.quickInputBack');

  it('Run Optimizer: problem, optimizer, hyper-parameters, with step numbers and Back', async () => {
    shown.length = 0;
    const run = withSetting('optimizer.steps', 20, async () => {
      const running = vscode.commands.executeCommand<TrainResult[] | undefined>('gradlens.runOptimizer');
      const problem = await stepShown(1);
      assert.deepEqual([problem.title, problem.step, problem.totalSteps, problem.kind], ['GradLens: Run Optimizer', 1, 3, 'pick']);
      assert.ok(problem.items.some((label) => label.includes('rosenbrock')), problem.items.join(', '));
      await accept();
      const optimizer = await stepShown(2);
      assert.deepEqual([optimizer.step, optimizer.totalSteps, optimizer.items[0]], [2, 3, 'adam'], 'the default optimizer first');
      await back();
      const again = await stepShown(3);
      assert.deepEqual([again.step, again.kind, again.items], [1, 'pick', problem.items], 'Back: the problem step again');
      await accept();
      assert.equal((await stepShown(4)).step, 2);
      await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await accept();
      const hyper = await stepShown(5);
      assert.deepEqual([hyper.step, hyper.totalSteps, hyper.kind], [3, 3, 'input']);
      // The second optimizer in the list (after the default): its torch defaults pre-filled.
      assert.match(hyper.placeholder ?? '', /^sgd on \S+: hyper-parameters/);
      assert.match(hyper.items[0], /^lr=0\.001 momentum=0 /);
      await back();
      assert.equal((await stepShown(6)).step, 2, 'Back from the input box');
      await accept();
      assert.equal((await stepShown(7)).kind, 'input');
      await accept();
      return running;
    });
    const results = await run;
    assert.ok(results, 'the flow ran to its end');
    assert.equal(results.length, 1);
    assert.equal(results[0].optimizer, 'sgd');
    assert.equal(results[0].final.step, 20);
  });

  it('asks only what the command was not given, and Escape cancels the whole flow', async () => {
    shown.length = 0;
    const running = vscode.commands.executeCommand<TrainResult[] | undefined>('gradlens.runOptimizer', { problem: 'builtin:rosenbrock' });
    const first = await stepShown(1);
    assert.deepEqual([first.step, first.totalSteps, first.items[0]], [1, 2, 'adam']);
    await accept();
    assert.deepEqual([(await stepShown(2)).step, shown[1].kind], [2, 'input']);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await running, undefined);
  });

  it('Compare Optimizers: the problem, then several optimizers', async () => {
    shown.length = 0;
    const running = withSetting('optimizer.steps', 5, async () => {
      const comparing = vscode.commands.executeCommand<TrainResult[] | undefined>('gradlens.compareOptimizers');
      const problem = await stepShown(1);
      assert.deepEqual([problem.title, problem.totalSteps], ['GradLens: Compare Optimizers', 2]);
      await accept();
      const optimizers = await stepShown(2);
      assert.equal(optimizers.step, 2);
      await accept(); // the preselected comparison
      return comparing;
    });
    const results = await running;
    assert.deepEqual(results?.map((result) => result.optimizer).sort(), ['adagrad', 'adam', 'momentum', 'nesterov', 'rmsprop', 'sgd']);
  });
});
