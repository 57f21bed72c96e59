// Localization in the real host: the manifest's %keys% resolve through package.nls.json, and the extension's
// own messages come through vscode.l10n (English: the message itself; another bundle would replace it).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { ShownStep } from '../../../src/extension/multi-step';
import { EXTENSION_ID, gradlens, until } from './helpers';

describe('localization', () => {
  it('shows the manifest\'s titles and descriptions from package.nls.json', async () => {
    await gradlens();
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const nls = JSON.parse(fs.readFileSync(path.join(extension.extensionPath, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const raw = JSON.parse(fs.readFileSync(path.join(extension.extensionPath, 'package.json'), 'utf8')) as { contributes: { commands: { command: string; title: string }[] } };
    const manifest = extension.packageJSON as { displayName: string; contributes: { commands: { command: string; title: string }[]; configuration: { properties: Record<string, { markdownDescription?: string }> } } };
    assert.equal(manifest.displayName, nls.displayName);
    for (const command of manifest.contributes.commands) {
      const key = raw.contributes.commands.find((entry) => entry.command === command.command)!.title.replace(/%/g, '');
      assert.equal(command.title, nls[key], command.command);
    }
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes('gradlens.runOptimizer'));
    assert.equal(manifest.contributes.configuration.properties['gradlens.check.samples'].markdownDescription, nls['config.check.samples.markdownDescription']);
    assert.doesNotMatch(JSON.stringify(manifest.contributes), /"%[\w.]+%"/, 'no %key% left unresolved');
  });

  it('words its pickers through vscode.l10n', async function () {
    this.timeout(30_000);
    const api = await gradlens();
    const shown: ShownStep[] = [];
    const subscription = api.testing!.onDidShowStep((step) => shown.push(step));
    try {
      const running = vscode.commands.executeCommand('gradlens.runOptimizer');
      const first = await until('the first step', () => shown[0]);
      assert.equal(first.title, vscode.l10n.t('GradLens: Run Optimizer'));
      assert.equal(first.placeholder, vscode.l10n.t('Problem to optimize'));
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.equal(await running, undefined);
    } finally {
      subscription.dispose();
    }
  });
});
