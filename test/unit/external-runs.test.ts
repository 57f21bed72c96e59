/**
 * Training scripts' runs in the dashboard (src/extension/external-runs.ts) with real scripts under
 * gradlens.watch (python3-torch): the owner-only socket, a run streamed live as the dashboard's own messages,
 * batched writes, a killed script, a dashboard that reads nothing (the script goes on, drops counted), a
 * tensor's rates asked of a running script, and a log replayed and overlaid.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRunLog } from '../../src/core/run-log';
import { ExternalRuns, SOCKET_VARIABLE } from '../../src/extension/external-runs';
import type { HostToWebview, RunEnded, RunStarted } from '../../src/webview-protocol';
import { PYTHON, WITHOUT_TORCH } from './python-env';

const PYTHON_DIR = path.resolve(__dirname, '../../../python');

/** A training loop under gradlens.watch: `steps` steps (0: until killed), `pause` seconds between them. */
function trainingScript(steps: number, pause = 0, extra = ''): string {
  return `
import time, torch, gradlens
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
watch = gradlens.watch(optimizer, model=model, name="streamed")
x, y = torch.randn(32, 8), torch.randn(32, 1)
step = 0
while ${steps} == 0 or step < ${steps}:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    watch.log(loss=loss.item())
    step += 1
    if ${pause}:
        time.sleep(${pause})
${extra}
`;
}

function run(script: string, socket: string, logDir: string): { child: ChildProcess; exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(PYTHON, ['-c', script], { env: { ...process.env, PYTHONPATH: PYTHON_DIR, [SOCKET_VARIABLE]: socket, GRADLENS_LOG_DIR: logDir } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, exited };
}

class Collector {
  readonly messages: HostToWebview[] = [];
  private waiters: (() => void)[] = [];
  readonly output = {
    publish: (message: HostToWebview) => {
      this.messages.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    },
    log: (text: string) => this.logged.push(text),
  };
  readonly logged: string[] = [];

  async until<T extends HostToWebview>(test: (message: HostToWebview) => message is T, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(test);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`not received; got ${this.messages.map((message) => message.type).join(', ')}; log: ${this.logged.join('\n')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  steps(runId: string): number[] {
    return this.messages.flatMap((message) => (message.type === 'records' && message.runId === runId ? message.records.map((record) => record.step) : []));
  }
}

const isStarted = (message: HostToWebview): message is RunStarted => message.type === 'runStarted';
const isEnded = (message: HostToWebview): message is RunEnded => message.type === 'runEnded';

describe('external runs: training scripts streamed to the dashboard', { skip: WITHOUT_TORCH || (process.platform === 'win32' ? 'Unix domain sockets' : false) }, () => {
  let logDir = '';
  before(() => (logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-external-'))));
  after(() => fs.rmSync(logDir, { recursive: true, force: true }));

  it('listens on a socket only its owner can reach', async () => {
    const runs = new ExternalRuns(new Collector().output);
    const socket = await runs.listen();
    try {
      assert.equal(fs.statSync(socket).mode & 0o777, 0o600);
      assert.ok(fs.statSync(socket).isSocket());
      assert.equal(fs.statSync(path.dirname(socket)).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.dirname(socket)).uid, os.userInfo().uid);
    } finally {
      runs.dispose();
    }
    assert.equal(fs.existsSync(path.dirname(socket)), false, 'the directory goes with the extension');
  });

  it('a script streams its run live: the same records, in order, then its end; nothing is logged to a file', async () => {
    const collector = new Collector();
    const runs = new ExternalRuns(collector.output);
    const socket = await runs.listen();
    try {
      const { exited } = run(trainingScript(300, 0, 'watch.close()\nprint(watch.live, watch.log_path, watch.dropped)'), socket, logDir);
      const started = await collector.until(isStarted);
      assert.equal(started.problem, 'streamed');
      assert.equal(started.optimizer, 'Adam');
      assert.deepEqual(started.external, { script: null, live: true, log: null });
      assert.deepEqual(started.tensors, [{ name: '0.weight', shape: [16, 8] }, { name: '0.bias', shape: [16] }, { name: '2.weight', shape: [1, 16] }, { name: '2.bias', shape: [1] }]);
      assert.equal(started.adaptive, true);
      const ended = await collector.until(isEnded);
      const result = await exited;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'True None 0');
      assert.equal(ended.stopped, 'steps');
      assert.equal(ended.failure, null);
      assert.equal(ended.finalStep, 300);
      assert.deepEqual(collector.steps(started.runId), Array.from({ length: 300 }, (_, index) => index + 1));
      const last = collector.messages.filter((message) => message.type === 'records').at(-1)!;
      assert.ok(last.type === 'records' && last.records[0].effectiveLrByTensor?.['0.weight']?.median, 'records carry the effective rates per tensor');
      assert.ok(runs.owns(started.runId));
      await assert.rejects(runs.handle({ type: 'control', requestId: 1, runId: started.runId, action: 'stop' }), /a training script's run: it is not controlled from the dashboard/);
    } finally {
      runs.dispose();
    }
  });

  it('writes in batches, at most about 30 a second', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-batches-'));
    const socket = path.join(directory, 'watch.sock');
    const writes: number[] = [];
    let content = '';
    const server = net.createServer((connection) => connection.on('data', (chunk) => {
      writes.push(performance.now());
      content += chunk.toString();
    }));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const { exited } = run(trainingScript(1500), socket, logDir);
      const result = await exited;
      assert.equal(result.code, 0, result.stderr);
      const seconds = (writes.at(-1)! - writes[0]) / 1000;
      const lines = content.split('\n').filter(Boolean);
      assert.equal(lines.length, 1 + 1500 + 1, 'run, steps, end');
      // One write per flush; a large batch may arrive in a few chunks, back to back: chunks less than 10 ms
      // apart (a third of the ~33 ms between flushes) are one write. Far fewer than the 1,502 lines.
      const flushes = writes.filter((at, k) => k === 0 || at - writes[k - 1] >= 10).length;
      assert.ok(flushes <= 30 * seconds * 1.5 + 5, `${flushes} writes (${writes.length} chunks) in ${seconds.toFixed(2)} s`);
      assert.ok(flushes < lines.length / 5, `${flushes} writes for ${lines.length} lines`);
    } finally {
      server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a killed script ends its run as failed, with what it sent', async () => {
    const collector = new Collector();
    const runs = new ExternalRuns(collector.output);
    const socket = await runs.listen();
    try {
      const { child, exited } = run(trainingScript(0, 0.005), socket, logDir);
      const started = await collector.until(isStarted);
      while (collector.steps(started.runId).length < 10) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGKILL');
      await exited;
      const ended = await collector.until(isEnded);
      assert.equal(ended.stopped, 'failed');
      assert.equal(ended.failure, 'the script ended without closing the watch (killed, or it crashed)');
      assert.equal(ended.finalStep, collector.steps(started.runId).at(-1));
    } finally {
      runs.dispose();
    }
  });

  it('a dashboard that reads nothing neither blocks nor breaks the script: every step is taken, the drops are counted', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-stalled-'));
    const socket = path.join(directory, 'watch.sock');
    const connections: net.Socket[] = [];
    // Accepts, then never reads: the script's sends fill the socket buffer and stall.
    const server = net.createServer((connection) => {
      connection.pause();
      connections.push(connection);
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const { exited } = run(trainingScript(2600, 0, 'watch.close()\nprint(watch.step, watch.dropped)'), socket, logDir);
      const result = await exited;
      assert.equal(result.code, 0, result.stderr);
      const [steps, dropped] = result.stdout.trim().split(' ').map(Number);
      assert.equal(steps, 2600);
      assert.ok(dropped > 0 && dropped < 2600, `${dropped} dropped`);
    } finally {
      for (const connection of connections) connection.destroy();
      server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('when the dashboard goes away (VS Code closed), the run goes on in a log that says so', async () => {
    const collector = new Collector();
    const runs = new ExternalRuns(collector.output);
    const socket = await runs.listen();
    const gone = path.join(logDir, 'gone');
    const { exited } = run(trainingScript(400, 0.002, 'watch.close()\nprint(watch.log_path)'), socket, gone);
    const started = await collector.until(isStarted);
    while (collector.steps(started.runId).length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    runs.dispose();
    const result = await exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /gradlens\.watch: the dashboard went away at step \d+ \(.+\); the run goes on in .+\.jsonl/);
    const file = result.stdout.trim();
    assert.equal(path.dirname(file), gone);
    const log = readRunLog(fs.readFileSync(file, 'utf8'), file);
    assert.match(log.header.note ?? '', /^streamed live until step \d+, then the dashboard went away/);
    assert.equal(log.steps.at(-1)?.record.step, 400);
    assert.ok(log.end);
  });

  it('a tensor\'s every rate is asked of the running script and comes with its next recorded step', async () => {
    const collector = new Collector();
    const runs = new ExternalRuns(collector.output);
    const socket = await runs.listen();
    try {
      const { child, exited } = run(trainingScript(0, 0.01), socket, logDir);
      const started = await collector.until(isStarted);
      const body = await runs.handle({ type: 'requestEffectiveLr', requestId: 1, runId: started.runId, tensor: '0.weight' });
      assert.ok(body && body.kind === 'effectiveLr');
      assert.equal(body.tensor, '0.weight');
      assert.equal(body.values.length, 128);
      assert.equal(body.grad?.length, 128);
      assert.equal(body.accumulator?.length, 128);
      assert.ok(body.values.every((rate) => rate > 0));
      // The answer is that step's: its extremes are the record's.
      const record = collector.messages.flatMap((message) => (message.type === 'records' ? message.records : [])).find((entry) => entry.step === body.step)!;
      assert.equal(Math.min(...body.values), record.effectiveLrByTensor!['0.weight']!.min);
      assert.equal(Math.max(...body.values), record.effectiveLrByTensor!['0.weight']!.max);
      await assert.rejects(runs.handle({ type: 'requestEffectiveLr', requestId: 2, runId: started.runId, tensor: 'fc9.weight' }), /no tensor fc9\.weight in streamed \(it has 0\.weight, 0\.bias, 2\.weight, 2\.bias\)/);
      child.kill('SIGKILL');
      await exited;
    } finally {
      runs.dispose();
    }
  });

  it('replays a log, and overlays it on another run (one compare group)', async () => {
    const collector = new Collector();
    const runs = new ExternalRuns(collector.output);
    const { exited } = run(trainingScript(40), '', logDir);
    assert.equal((await exited).code, 0);
    const file = path.join(logDir, fs.readdirSync(logDir).find((name) => name.startsWith('streamed-'))!);
    const log = readRunLog(fs.readFileSync(file, 'utf8'), file);
    const first = runs.replay(log, file);
    const second = runs.replay(log, file, first);
    const [a, b] = collector.messages.filter(isStarted);
    assert.equal(a.runId, first);
    assert.deepEqual(a.external, { script: null, live: false, log: file });
    assert.equal(b.compareGroup, a.compareGroup);
    assert.deepEqual(collector.steps(first), Array.from({ length: 40 }, (_, index) => index + 1));
    const ended = collector.messages.filter(isEnded);
    assert.equal(ended.length, 2);
    assert.equal(ended[0].stopped, 'steps');
    assert.equal(ended[0].finalStep, 40);
    assert.equal(ended[0].finalLoss, log.steps[39].record.loss);
    // What a dashboard opened later gets: the same runs.
    assert.deepEqual(runs.retainedMessages().filter(isStarted).map((message) => message.runId), [first, second]);
    runs.dispose();
  });
});
