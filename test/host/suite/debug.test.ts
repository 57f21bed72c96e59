// Debugging a backward pass in the real host: the Debug CodeLens command runs the check with the runner under
// VS Code's built-in JavaScript debugger; a breakpoint in the problem file's grad (TypeScript, compiled in memory)
// is hit there, with the point it is called at visible, and the check still finishes (no time limit while paused).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { FileReport } from '../../../src/runner/runner';
import { fixture, gradlens, withSetting } from './helpers';

const SOURCE = [
  '// Host-test file: a breakpoint goes on the return of grad.',
  'type P = { w: number[] };',
  '',
  'export const debugged = {',
  '  params: { w: [1, -3, 0.5] },',
  '  f: (p: P) => p.w.reduce((sum, v) => sum + v * v, 0),',
  '  grad: (p: P) => {',
  '    const doubled = p.w.map((v) => 2 * v);',
  '    return { w: doubled };',
  '  },',
  '};',
  '',
].join('\n');
/** 0-based line of `return { w: doubled };`. */
const BREAK_LINE = 8;

interface Stop {
  path: string | undefined;
  line: number;
  functionName: string;
  point: string;
}

describe('debugging a backward pass', function () {
  this.timeout(180_000);

  it('stops at a breakpoint in grad of a TypeScript problem file, with p visible, and the check still passes', async () => {
    const api = await gradlens();
    const uri = fixture('debugged.grad.ts');
    fs.writeFileSync(uri.fsPath, SOURCE);
    assert.ok(vscode.extensions.getExtension('ms-vscode.js-debug'), "VS Code's JavaScript debugger is not in this host");
    const breakpoint = new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(BREAK_LINE, 4)));
    vscode.debug.addBreakpoints([breakpoint]);
    const stops: Stop[] = [];
    const sessions: string[] = [];
    // Watches js-debug's messages: at each stop, reads the top frame and p, then continues.
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
      createDebugAdapterTracker: (session) => ({
        onDidSendMessage: (message: { type: string; event?: string; body?: { threadId: number } }) => {
          if (message.type !== 'event' || message.event !== 'stopped' || !message.body) return;
          const threadId = message.body.threadId;
          void (async () => {
            try {
              const trace = await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 }) as { stackFrames: { id: number; name: string; line: number; source?: { path?: string } }[] };
              const [frame] = trace.stackFrames;
              const evaluated = await session.customRequest('evaluate', { expression: 'p.w.join(" ")', frameId: frame.id, context: 'watch' }) as { result: string };
              stops.push({ path: frame.source?.path, line: frame.line, functionName: frame.name, point: evaluated.result });
            } finally {
              await session.customRequest('continue', { threadId });
            }
          })();
        },
      }),
    });
    const started = vscode.debug.onDidStartDebugSession((session) => sessions.push(session.configuration.type));
    try {
      // A 1 s limit: the pause at the breakpoint and the debugger's start take longer, and must not count.
      const reports = await withSetting('timeoutSeconds', 1, () => Promise.resolve(vscode.commands.executeCommand<FileReport[] | null>('gradlens.debugProblem', uri, 'debugged')));
      assert.ok(reports && reports.length === 1, 'the debug command returned no report');
      const [report] = reports;
      assert.equal(report.loadError, null, report.loadError?.message);
      assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['debugged', 'pass']]);
      assert.ok(sessions.includes('pwa-node'), `no JavaScript debug session started (${sessions.join(', ')})`);
      // DAP lines are 1-based; the stop is in the user's .ts file, not in the in-memory bundle (in a remote host the path is a URI).
      const pathOf = (reported: string) => (/^[a-z][\w+.-]*:\/\//i.test(reported) ? vscode.Uri.parse(reported).path : reported);
      const stop = stops.find((candidate) => candidate.path !== undefined && pathOf(candidate.path) === uri.path);
      assert.ok(stop, `the breakpoint in grad was not hit (stops: ${JSON.stringify(stops)})`);
      assert.equal(stop.line, BREAK_LINE + 1);
      assert.match(stop.functionName, /grad/);
      // grad is called at the problem's point: p.w as in params (the debugger shows the string quoted).
      assert.match(stop.point, /^['"]?1 -3 0\.5['"]?$/);
      assert.equal(api.testing!.outcomes.get(`${uri.toString()}#debugged`), 'passed');
    } finally {
      tracker.dispose();
      started.dispose();
      vscode.debug.removeBreakpoints([breakpoint]);
    }
  });

  it('says what a Python file needs to be debugged when no Python debugger is installed, and runs nothing', async () => {
    const api = await gradlens();
    const uri = fixture('buggy_grad.py');
    assert.equal(vscode.extensions.all.some((extension) => (extension.packageJSON as { contributes?: { debuggers?: { type: string }[] } }).contributes?.debuggers?.some((entry) => entry.type === 'debugpy')), false, 'this host has a Python debugger after all');
    const before = api.testing!.services.store.result(uri, 'least_squares', 1);
    const reports = await vscode.commands.executeCommand<FileReport[] | null>('gradlens.debugProblem', uri, 'least_squares');
    assert.deepEqual(reports, []);
    assert.equal(api.testing!.outcomes.get(`${uri.toString()}#least_squares`), 'skipped');
    assert.equal(api.testing!.services.store.result(uri, 'least_squares', 1), before, 'the file was run');
    // No Debug lens where debugging cannot work.
    await vscode.window.showTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    assert.ok(lenses.some((lens) => lens.command?.title === '$(beaker) Check gradient'));
    assert.ok(!lenses.some((lens) => lens.command?.title === '$(debug-alt) Debug'));
  });
});
