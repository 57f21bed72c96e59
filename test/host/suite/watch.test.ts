// A training script run in the integrated terminal of the real host streams its gradlens.watch run into the dashboard.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { HostToWebview, RunEnded, RunStarted } from '../../../src/webview-protocol';
import { fixture, gradlens, until } from './helpers';

/** Debian's python3 with python3-torch (scripts/install-system-deps.sh). */
const PYTHON = '/usr/bin/python3';

describe('watched training scripts', function () {
  this.timeout(240_000);

  before(function () {
    if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0 || process.platform === 'win32') this.skip();
  });

  it('a script run in the integrated terminal streams into the dashboard: listed as external and live, records, its end', async () => {
    const api = await gradlens();
    const watch = api.testing!.watch;
    // Terminals created from here on get GRADLENS_WATCH_SOCKET and PYTHONPATH.
    await watch.start();
    assert.ok(watch.runs.socketPath, 'the extension listens for watched scripts');
    const messages = () => watch.runs.retainedMessages();
    const script = fixture('watched_training.py');
    const terminal = vscode.window.createTerminal({ name: 'GradLens watch test', cwd: vscode.workspace.workspaceFolders![0].uri });
    try {
      terminal.show();
      terminal.sendText(`${PYTHON} ${script.fsPath}`);
      const started = await until('the run in the dashboard', () => messages().find((message): message is RunStarted => message.type === 'runStarted' && message.external?.live === true), 120_000);
      assert.equal(started.problem, 'host-watch');
      assert.equal(started.optimizer, 'Adam');
      assert.equal(started.external?.script, 'watched_training.py');
      assert.equal(started.detailTensor, '0.weight');
      // The dashboard opened with the run.
      const tabs = () => vscode.window.tabGroups.all.flatMap((group) => group.tabs.map((tab) => tab.label));
      await until(`the dashboard's tab (tabs: ${tabs().join(', ')})`, () => tabs().includes('GradLens Dashboard') || undefined, 30_000);
      const ended = await until('its end', () => messages().find((message): message is RunEnded => message.type === 'runEnded' && message.runId === started.runId), 120_000);
      assert.equal(ended.stopped, 'steps');
      assert.equal(ended.finalStep, 120);
      const records = messages().flatMap((message: HostToWebview) => (message.type === 'records' && message.runId === started.runId ? message.records : []));
      assert.ok(records.length >= 100, `${records.length} records retained`);
      const last = records.at(-1)!;
      assert.equal(last.step, 120);
      assert.equal(last.effectiveLrDetail?.length, 16 * 12, 'the detail tensor\'s every rate (the heatmap\'s values)');
      await assert.rejects(watch.runs.handle({ type: 'control', requestId: 1, runId: started.runId, action: 'stop' }), /not controlled from the dashboard/);
    } finally {
      terminal.dispose();
    }
  });
});
