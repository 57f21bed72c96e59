// The extension loads and activates in a real VS Code 1.100 extension host.
import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';

const EXTENSION_ID = 'gradlens.gradlens';

describe('activation', () => {
  it('runs in VS Code 1.100', () => {
    assert.match(vscode.version, /^1\.100\./);
  });

  it('activates the extension', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in the host`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers gradlens.checkGradients', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('gradlens.checkGradients'), 'gradlens.checkGradients is not registered');
  });
});
