// A check under a debugger: the runner waits for one on an inspector port, and no time limit kills it while paused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type DebuggerAddress, checkFile } from '../../src/runner/runner';
import { debuggerAddress } from '../../src/runner/supervisor';

/**
 * A minimal debugger (Chrome DevTools Protocol over the inspector's WebSocket, in a node with
 * --experimental-websocket since Node 20 has no WebSocket by default): it lets the paused process
 * run, and at each pause (a `debugger` statement) prints the paused function and resumes after `holdMs`.
 */
const CLIENT = `
const [url, holdMs] = process.argv.slice(1);
const socket = new WebSocket(url);
let id = 0;
const send = (method, params = {}) => socket.send(JSON.stringify({ id: ++id, method, params }));
socket.onopen = () => { send('Debugger.enable'); send('Runtime.runIfWaitingForDebugger'); };
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.method !== 'Debugger.paused') return;
  const frame = message.params.callFrames[0];
  console.log(JSON.stringify({ functionName: frame.functionName, reason: message.params.reason }));
  setTimeout(() => send('Debugger.resume'), Number(holdMs));
};
socket.onclose = () => process.exit(0);
`;

function attach(address: DebuggerAddress, holdMs: number): { pauses: Promise<{ functionName: string; reason: string }[]> } {
  const list = `http://${address.host}:${address.port}/json/list`;
  const pauses = (async () => {
    const [target] = (await (await fetch(list)).json()) as { webSocketDebuggerUrl: string }[];
    const client = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', CLIENT, target.webSocketDebuggerUrl, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => client.on('close', resolve));
    return output.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { functionName: string; reason: string });
  })();
  return { pauses };
}

describe('checks under a debugger', () => {
  it('reads the inspector address node prints', () => {
    assert.deepEqual(debuggerAddress('Debugger listening on ws://127.0.0.1:40321/0f6c2a4e-1b5d-4f0a-9d4e-0c1b2a3d4e5f\nFor help, see: https://nodejs.org/en/docs/inspector\n'), { host: '127.0.0.1', port: 40321 });
    assert.deepEqual(debuggerAddress('Debugger listening on ws://[::1]:9229/abc\n'), { host: '::1', port: 9229 });
    assert.equal(debuggerAddress('Debugger listening on'), null);
  });

  it('stops at a breakpoint in grad for longer than the time limit, and the check still passes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-debug-'));
    const file = path.join(dir, 'paused.grad.ts');
    // f = Σ x², grad 2x: correct, so the verdict is 'pass' once the pause ends.
    fs.writeFileSync(file, [
      'export const squares = {',
      '  params: { x: [1, 2] },',
      '  f: (p: { x: number[] }) => p.x[0] ** 2 + p.x[1] ** 2,',
      '  grad: (p: { x: number[] }) => {',
      '    debugger;',
      '    return { x: p.x.map((v) => 2 * v) };',
      '  },',
      '};',
      '',
    ].join('\n'));
    let client: ReturnType<typeof attach> | null = null;
    let output = '';
    const started = Date.now();
    // A 0.5 s limit, a 1.5 s pause: without the limits lifted the check would time out.
    const report = await checkFile(file, {}, { timeoutSeconds: 0.5, memoryMb: 256, debug: true }, {
      onDebuggerListening: (address) => (client = attach(address, 1500)),
      onOutput: (text) => (output += text),
    });
    const seconds = (Date.now() - started) / 1000;
    assert.ok(client, 'no inspector address was reported');
    const pauses = await (client as ReturnType<typeof attach>).pauses;
    assert.ok(pauses.some((pause) => pause.functionName === 'grad' && pause.reason === 'other'), `no pause in grad: ${JSON.stringify(pauses)}`);
    assert.equal(report.loadError, null);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['squares', 'pass']]);
    assert.ok(seconds >= 1.5, `the check ended after ${seconds} s, before the pause did`);
    // Node's own inspector messages are not the user's output.
    assert.doesNotMatch(output, /Debugger (listening|attached)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
