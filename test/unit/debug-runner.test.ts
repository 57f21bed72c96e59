// A check under a debugger: the runner waits for one on an inspector port, and no time limit kills it while paused.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type DebuggerAddress, checkFile } from '../../src/runner/runner';
import { debuggerAddress } from '../../src/runner/supervisor';
import { PYTHON, WITHOUT_NUMPY } from './python-env';

const WITHOUT_DEBUGPY: string | false = WITHOUT_NUMPY || (spawnSync(PYTHON, ['-c', 'import debugpy'], { encoding: 'utf8' }).status === 0
  ? false
  : `${PYTHON} cannot import debugpy (scripts/install-system-deps.sh installs python3-debugpy)`);

/**
 * A minimal Debug Adapter Protocol client for debugpy, as the Python Debugger extension attaches:
 * initialize, attach, a breakpoint at `line` of `file`, configurationDone; at each stop it records the top
 * frame and `expression` there, and continues after `holdMs`.
 */
function attachDebugpy(address: DebuggerAddress, file: string, line: number, expression: string, holdMs: number): Promise<{ name: string; line: number; value: string }[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address.port, address.host);
    const stops: { name: string; line: number; value: string }[] = [];
    const waiting = new Map<number, (body: Record<string, unknown>) => void>();
    let seq = 0;
    const request = (command: string, args: object = {}): Promise<Record<string, unknown>> => new Promise((answer) => {
      const message = JSON.stringify({ seq: ++seq, type: 'request', command, arguments: args });
      waiting.set(seq, answer);
      socket.write(`Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
    });
    const onStopped = async (threadId: number) => {
      const trace = await request('stackTrace', { threadId, startFrame: 0, levels: 1 }) as { stackFrames: { id: number; name: string; line: number }[] };
      const [frame] = trace.stackFrames;
      const evaluated = await request('evaluate', { expression, frameId: frame.id, context: 'watch' }) as { result: string };
      stops.push({ name: frame.name, line: frame.line, value: evaluated.result });
      setTimeout(() => void request('continue', { threadId }), holdMs);
    };
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const header = buffer.indexOf('\r\n\r\n');
        if (header < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, header).toString())?.[1]);
        if (buffer.length < header + 4 + length) return;
        const message = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString()) as { type: string; request_seq?: number; body?: Record<string, unknown>; event?: string };
        buffer = buffer.subarray(header + 4 + length);
        if (message.type === 'response') waiting.get(message.request_seq!)?.(message.body ?? {});
        else if (message.type === 'event' && message.event === 'stopped') void onStopped((message.body as { threadId: number }).threadId);
        // The debuggee is gone (the check ended): leave, as an editor would, so debugpy's adapter exits too.
        else if (message.type === 'event' && message.event === 'terminated') void request('disconnect').finally(() => socket.end());
        else if (message.type === 'event' && message.event === 'initialized') {
          void request('setBreakpoints', { source: { path: file }, breakpoints: [{ line }] }).then(() => request('configurationDone'));
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(stops));
    void request('initialize', { clientID: 'gradlens-test', adapterID: 'debugpy', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' })
      .then(() => request('attach', { justMyCode: true }));
  });
}

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
    assert.deepEqual(debuggerAddress('Debugger listening on ws://127.0.0.1:40321/0f6c2a4e-1b5d-4f0a-9d4e-0c1b2a3d4e5f\nFor help, see: https://nodejs.org/en/docs/inspector\n'), { kind: 'node', host: '127.0.0.1', port: 40321 });
    assert.deepEqual(debuggerAddress('Debugger listening on ws://[::1]:9229/abc\n'), { kind: 'node', host: '::1', port: 9229 });
    assert.deepEqual(debuggerAddress('user output\nGradLens: debugpy listening on 127.0.0.1:5678\n'), { kind: 'python', host: '127.0.0.1', port: 5678 });
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

  it('stops at a breakpoint in grad of a Python problem file through debugpy, past the time limit, and the check still passes', { skip: WITHOUT_DEBUGPY }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-debugpy-'));
    const file = path.join(dir, 'paused_grad.py');
    // f = Σ x², grad 2x: correct, so the verdict is 'pass' once the pauses end.
    fs.writeFileSync(file, [
      'import numpy as np',
      '',
      'def f(p):',
      '    return float(np.sum(p["x"] ** 2))',
      '',
      'def grad(p):',
      '    doubled = 2 * p["x"]',
      '    return {"x": doubled}',
      '',
      'squares = {"params": {"x": np.array([1.0, 2.0])}, "f": f, "grad": grad}',
      '',
    ].join('\n'));
    let stops: Promise<{ name: string; line: number; value: string }[]> | null = null;
    let output = '';
    const started = Date.now();
    const report = await checkFile(file, {}, { timeoutSeconds: 0.5, memoryMb: 1024, debug: true }, {
      onDebuggerListening: (address) => {
        assert.equal(address.kind, 'python');
        stops = attachDebugpy(address, file, 8, 'p["x"].tolist()', 1000);
      },
      onOutput: (text) => (output += text),
    }, null, PYTHON);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(report.loadError, null, report.loadError?.message);
    assert.deepEqual(report.problems.map((problem) => [problem.name, problem.verdict]), [['squares', 'pass']]);
    assert.ok(stops, 'debugpy\'s address was not reported');
    const seen = await (stops as Promise<{ name: string; line: number; value: string }[]>);
    assert.ok(seen.length > 0, 'the breakpoint in grad was not hit');
    // Stopped on line 8 of grad, called at the problem's point.
    assert.deepEqual([seen[0].name, seen[0].line, seen[0].value], ['grad', 8, '[1.0, 2.0]']);
    assert.ok(seconds >= 1, `the check ended after ${seconds} s, before the pause did`);
    assert.doesNotMatch(output, /debugpy listening/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says how to install debugpy when the interpreter lacks it', { skip: WITHOUT_NUMPY }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-nodebugpy-'));
    // A debugpy that cannot be imported shadows any installed one.
    fs.mkdirSync(path.join(dir, 'shadow', 'debugpy'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shadow', 'debugpy', '__init__.py'), 'raise ImportError("no debugpy here", name="debugpy")\n');
    const file = path.join(dir, 'plain_grad.py');
    fs.writeFileSync(file, 'import numpy as np\nsquares = {"params": {"x": np.array([1.0])}, "f": lambda p: float(np.sum(p["x"] ** 2)), "grad": lambda p: {"x": 2 * p["x"]}}\n');
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = path.join(dir, 'shadow');
    try {
      const report = await checkFile(file, {}, { timeoutSeconds: 30, memoryMb: 1024, debug: true }, {}, null, PYTHON);
      assert.match(report.loadError?.message ?? '', /^debugpy is not installed for the Python interpreter '\/usr\/bin\/python3', so plain_grad\.py cannot run under the debugger: install it/);
      assert.equal(report.problems.length, 0);
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
