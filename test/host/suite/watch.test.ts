// A training script run in the integrated terminal of the real host streams its gradlens.watch run into the dashboard.
import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
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

  it('GradLens: Open Run Log… replays a log (a killed job\'s, cut mid-line) into the dashboard', async () => {
    const api = await gradlens();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-host-logs-'));
    try {
      // Not spawnSync: the extension host would stall while the script trains.
      await promisify(execFile)(PYTHON, [fixture('watched_training.py').fsPath], {
        env: { ...process.env, GRADLENS_WATCH_SOCKET: '', GRADLENS_LOG_DIR: directory, PYTHONPATH: path.resolve(__dirname, '../../../../python') },
      });
      const file = path.join(directory, fs.readdirSync(directory)[0]);
      // What a job killed mid-write leaves: no end line, half a record.
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      fs.writeFileSync(file, `${lines.slice(0, 51).join('\n')}\n${lines[51].slice(0, 40)}`);
      const runId = await vscode.commands.executeCommand<string>('gradlens.openRunLog', file);
      const messages = api.testing!.watch.runs.retainedMessages();
      const started = messages.find((message): message is RunStarted => message.type === 'runStarted' && message.runId === runId);
      assert.deepEqual(started?.external, { script: 'watched_training.py', live: false, log: file });
      const records = messages.flatMap((message) => (message.type === 'records' && message.runId === runId ? message.records : []));
      assert.deepEqual(records.map((record) => record.step), Array.from({ length: 50 }, (_, index) => index + 1));
      const ended = messages.find((message): message is RunEnded => message.type === 'runEnded' && message.runId === runId);
      assert.match(ended?.failure ?? '', /the log ends without the watch's end .*; its cut-off last line is left out/);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
