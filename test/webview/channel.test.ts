/**
 * The host's end of the dashboard protocol (no VS Code needed): nothing
 * before ready, replay after every ready, coalesced posts, validated and
 * answered requests, bounded retention.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLUSH_INTERVAL_MS, Outbox, type WebviewPort, WebviewChannel } from '../../src/extension/dashboard/channel';
import { COMPACT_RETENTION, PANEL_RETENTION, RetainedState } from '../../src/extension/dashboard/retained';
import type { HostBatch, HostToWebview, RecordsBatch, RunStarted, StepRecord } from '../../src/webview-protocol';
import { recordRun } from './fixtures';

/** A webview that records posts; `send` plays a message from the page. */
class FakeWebview implements WebviewPort {
  readonly posts: HostBatch[] = [];
  delivered = true;
  private listener: ((message: unknown) => void) | null = null;

  postMessage(message: HostBatch): PromiseLike<boolean> {
    this.posts.push(structuredClone(message));
    return Promise.resolve(this.delivered);
  }

  onDidReceiveMessage(listener: (message: unknown) => void) {
    this.listener = listener;
    return { dispose: () => (this.listener = null) };
  }

  send(message: unknown): void {
    this.listener?.(message);
  }

  get messages(): HostToWebview[] {
    return this.posts.flatMap((post) => post.messages);
  }
}

/** Timers under the test's control. */
class Clock {
  now = 0;
  private timers: { at: number; callback: () => void }[] = [];

  setTimer = (callback: () => void, ms: number) => {
    this.timers.push({ at: this.now + ms, callback });
  };

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.callback();
    }
    this.now = end;
  }
}

function channel(clock = new Clock(), saved: string[] = []) {
  const logs: string[] = [];
  const webview = new FakeWebview();
  const instance = new WebviewChannel({
    mode: 'panel',
    limits: PANEL_RETENTION,
    saveExport: async (request) => {
      saved.push(request.fileName);
      return `exports/${request.fileName}`;
    },
    log: (message) => logs.push(message),
    setTimer: clock.setTimer,
    now: () => clock.now,
  });
  instance.attach(webview);
  return { instance, webview, clock, logs };
}

const flushPromises = () => new Promise((resolve) => setImmediate(resolve));

let recorded: Promise<Awaited<ReturnType<typeof recordRun>>> | null = null;
/** A real run: Adam on rosenbrock, 300 steps. */
function rosenbrockRun() {
  recorded ??= recordRun({ runId: 'run-1', problem: 'rosenbrock', optimizer: 'adam', hyperparameters: { lr: 0.05 }, steps: 300 });
  return recorded;
}

describe('Outbox', () => {
  it('merges the records of a run into one batch, in order, without touching the caller’s arrays', async () => {
    const { messages } = await rosenbrockRun();
    const batches = messages.filter((message): message is RecordsBatch => message.type === 'records');
    const outbox = new Outbox();
    outbox.add(messages[0]);
    for (const batch of batches) outbox.add(batch);
    const taken = outbox.take();
    assert.equal(taken.length, 2);
    const merged = taken[1] as RecordsBatch;
    assert.deepEqual(merged.records.map((record) => record.step), batches.flatMap((batch) => batch.records.map((record) => record.step)));
    assert.equal(merged.seconds.length, merged.records.length);
    assert.equal(batches[0].records.length, 50, 'the first batch as recorded');
    assert.equal(outbox.size, 0);
  });

  it('starts a new batch after a run ends, so records never move before an end', () => {
    const outbox = new Outbox();
    const records = (step: number): RecordsBatch => ({ type: 'records', runId: 'a', records: [{ step } as StepRecord], seconds: [step] });
    outbox.add(records(1));
    outbox.add({ type: 'runEnded', runId: 'a', stopped: 'steps', diverged: null, failure: null, finalParams: {}, finalLoss: 0, finalStep: 1, seconds: 1 });
    outbox.add(records(2));
    assert.deepEqual(outbox.take().map((message) => message.type), ['records', 'runEnded', 'records']);
  });
});

describe('WebviewChannel', () => {
  it('posts nothing before ready, then replays everything in one batch', async () => {
    const { instance, webview, clock } = channel();
    const { messages } = await rosenbrockRun();
    for (const message of messages) instance.post(message);
    clock.advance(1000);
    assert.equal(webview.posts.length, 0);
    webview.send({ type: 'ready' });
    assert.equal(webview.posts.length, 1);
    const replay = webview.messages;
    assert.deepEqual(replay.map((message) => message.type), ['config', 'runStarted', 'records', 'runEnded']);
    assert.deepEqual(replay[0], { type: 'config', mode: 'panel' });
    assert.equal((replay[2] as RecordsBatch).records.length, 300);
  });

  it('coalesces posts to one per interval (at most ~30 a second), records merged per run', async () => {
    const { instance, webview, clock } = channel();
    webview.send({ type: 'ready' });
    const { messages } = await rosenbrockRun();
    const batches = messages.filter((message) => message.type === 'records');
    const before = webview.posts.length;
    instance.post(messages[0]);
    // A batch of records every millisecond for a second.
    for (let k = 0; k < 1000; k++) {
      instance.post(batches[k % batches.length]);
      clock.advance(1);
    }
    clock.advance(FLUSH_INTERVAL_MS);
    const posts = webview.posts.slice(before);
    assert.ok(posts.length <= Math.ceil(1000 / FLUSH_INTERVAL_MS) + 2, `${posts.length} posts in a second`);
    assert.ok(posts.length >= 25, `still streaming: ${posts.length} posts`);
    for (const post of posts) assert.ok(post.messages.filter((message) => message.type === 'records').length <= 1, 'one records batch per run per post');
  });

  it('replays again after the page reloads, and stops posting while it is gone', async () => {
    const { instance, webview, clock } = channel();
    const { messages } = await rosenbrockRun();
    webview.send({ type: 'ready' });
    instance.post(messages[0]);
    clock.advance(100);
    instance.pageGone();
    const posted = webview.posts.length;
    instance.post(messages[1]);
    clock.advance(100);
    assert.equal(webview.posts.length, posted, 'nothing posted to a page that is gone');
    webview.send({ type: 'ready' });
    assert.deepEqual(webview.posts.at(-1)!.messages.map((message) => message.type), ['config', 'runStarted', 'records']);
  });

  it('treats an undelivered post as a page that went away', async () => {
    const { instance, webview, clock } = channel();
    const { messages } = await rosenbrockRun();
    webview.send({ type: 'ready' });
    webview.delivered = false;
    instance.post(messages[0]);
    clock.advance(100);
    await flushPromises();
    const posted = webview.posts.length;
    instance.post(messages[1]);
    clock.advance(100);
    assert.equal(webview.posts.length, posted);
  });

  it('drops invalid messages, and answers each request once: handled, failed, or naming an unknown run', async () => {
    const { instance, webview, clock, logs } = channel();
    const { messages } = await rosenbrockRun();
    webview.send({ type: 'ready' });
    instance.post(messages[0]);
    const handled: string[] = [];
    instance.onRequest(async (request) => {
      handled.push(request.type);
      if (request.type === 'setHyperparameters') throw new RangeError('lr must be >= 0, got -1');
      return null;
    });
    webview.send({ type: 'control', requestId: 1, runId: 'run-1', action: 'explode' });
    webview.send({ type: 'control', requestId: 2, runId: 'run-1', action: 'pause' });
    webview.send({ type: 'setHyperparameters', requestId: 3, runId: 'run-1', values: { lr: -1 } });
    webview.send({ type: 'control', requestId: 4, runId: 'someone-else', action: 'stop' });
    webview.send({ type: 'reveal', requestId: 5, file: '/etc/passwd', line: 1 });
    await flushPromises();
    clock.advance(100);
    assert.equal(logs.length, 1);
    assert.match(logs[0], /dropped an invalid message.*control/);
    assert.deepEqual(handled, ['control', 'setHyperparameters']);
    const responses = webview.messages.filter((message) => message.type === 'response').sort((a, b) => a.requestId - b.requestId);
    assert.deepEqual(responses.map((response) => [response.requestId, response.error === null]), [[2, true], [3, false], [4, false], [5, false]]);
    assert.match(responses[1].error!, /lr must be >= 0/);
    assert.match(responses[2].error!, /no run someone-else/);
    assert.match(responses[3].error!, /not among the checked files/);
  });

  it('saves exports itself and says where', async () => {
    const saved: string[] = [];
    const { webview, clock } = channel(new Clock(), saved);
    webview.send({ type: 'ready' });
    webview.send({ type: 'saveExport', requestId: 7, fileName: 'loss.png', content: { kind: 'png', base64: 'iVBORw0KGgo=' } });
    await flushPromises();
    clock.advance(100);
    assert.deepEqual(saved, ['loss.png']);
    assert.deepEqual(webview.messages.at(-1), { type: 'response', requestId: 7, error: null, body: { kind: 'saved', path: 'exports/loss.png' } });
  });
});

describe('RetainedState', () => {
  const started = (runId: string): RunStarted => ({
    type: 'runStarted', runId, problem: 'p', optimizer: 'sgd', hyperparameters: {}, tensors: [], twoDimensional: false, start: null, adaptive: false, detailTensor: null, steps: 1, compareGroup: null,
  });

  it('keeps a bounded, evenly thinned history plus the recent records of a long run', async () => {
    const { messages, records } = await rosenbrockRun();
    const retained = new RetainedState({ ...PANEL_RETENTION, historyRecords: 40, recentRecords: 25 });
    retained.remember(messages[0]);
    for (const message of messages.slice(1)) retained.remember(message);
    const replay = retained.replay();
    const replayed = (replay.find((message) => message.type === 'records') as RecordsBatch).records;
    assert.ok(replayed.length <= 40 + 25, `${replayed.length} records kept`);
    const steps = replayed.map((record) => record.step);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
    assert.equal(steps[0], 1, 'the history starts at the first step');
    assert.deepEqual(steps.slice(-25), records.slice(-25).map((record) => record.step), 'the recent records in full');
    assert.ok(replayed.slice(0, -1).every((record) => record.effectiveLr === null || record.effectiveLr.histogram.counts.length === 0), 'older records without histograms');
    assert.deepEqual(replayed.at(-1), records.at(-1), 'the newest record whole');
  });

  it('replays in the order things last changed, so the last result stays last', () => {
    const retained = new RetainedState(COMPACT_RETENTION);
    retained.remember(started('a'));
    retained.remember({ type: 'checkReport', file: 'f.ts', loadError: null, problems: [] });
    assert.deepEqual(retained.replay().map((message) => message.type), ['runStarted', 'checkReport']);
    retained.remember({ type: 'runEnded', runId: 'a', stopped: 'steps', diverged: null, failure: null, finalParams: {}, finalLoss: 1, finalStep: 1, seconds: 0 });
    assert.deepEqual(retained.replay().map((message) => message.type), ['checkReport', 'runStarted', 'runEnded']);
    retained.remember(started('b'));
    assert.equal(retained.hasRun('a'), false, 'the compact view keeps one run');
    assert.equal(retained.hasRun('b'), true);
  });
});
