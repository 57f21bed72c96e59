// New Problem File…: a template that passes its check, and gradlens types the editor resolves.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { FileReport } from '../../../src/runner/runner';
import { fixture, until, withSetting } from './helpers';

describe('New Problem File', function () {
  this.timeout(120_000);

  it('writes a scalar template that passes first- and second-order checks', async () => {
    const target = fixture('scaffolded.grad.ts');
    const written = await vscode.commands.executeCommand<vscode.Uri>('gradlens.newProblemFile', { template: 'scalar', path: target.fsPath });
    assert.equal(written.fsPath, target.fsPath);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, target.fsPath);
    const [first] = await vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', target);
    assert.deepEqual(first.problems.map((problem) => [problem.name, problem.verdict]), [['leastSquares', 'pass']]);
    const [second] = await vscode.commands.executeCommand<FileReport[]>('gradlens.checkSecondOrder', target);
    assert.equal(second.problems[0].verdict, 'pass');
  });

  it('writes a Python template that passes its check, with the gradlens type hints beside it', async () => {
    const target = fixture('scaffolded_grad.py');
    await vscode.commands.executeCommand<vscode.Uri>('gradlens.newProblemFile', { template: 'python', path: target.fsPath });
    const hints = new TextDecoder().decode(await vscode.workspace.fs.readFile(fixture('gradlens.py')));
    assert.match(hints, /^def problem\(/m);
    const [report] = await withSetting('pythonPath', '/usr/bin/python3', () => vscode.commands.executeCommand<FileReport[]>('gradlens.checkGradients', target));
    assert.equal(report.loadError, null);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['two_layer_net', 'pass']]);
  });

  it("makes 'gradlens' resolve in the editor: a wrong field type is a TypeScript error, not a missing module", async () => {
    await vscode.workspace.fs.stat(fixture('node_modules/gradlens/api.d.ts'));
    const wrong = fixture('typed.grad.ts');
    await vscode.workspace.fs.writeFile(wrong, Buffer.from("import { defineProblem } from 'gradlens';\nexport const p = defineProblem({ params: { w: [1] }, f: 'not a function', grad: (p) => ({ w: p.w }) });\n"));
    await vscode.window.showTextDocument(wrong);
    const messages = await until('TypeScript diagnostics', () => {
      const found = vscode.languages.getDiagnostics(wrong).filter((diagnostic) => diagnostic.source === 'ts');
      return found.length > 0 ? found.map((diagnostic) => diagnostic.message) : undefined;
    }, 60_000);
    assert.ok(!messages.some((message) => /Cannot find module 'gradlens'/.test(message)), messages.join('\n'));
    assert.ok(messages.some((message) => /not assignable to type/.test(message)), messages.join('\n'));
  });
});
