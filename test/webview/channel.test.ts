/**
 * The host's end of the dashboard protocol (no VS Code needed): nothing
 * before ready, replay after every ready, coalesced posts, validated and
 * answered requests, bounded retention.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TABLE_CAPACITY } from '../../src/dashboard-table';
import { FLUSH_INTERVAL_MS, MAX_IN_FLIGHT, Outbox, WebviewChannel } from '../../src/extension/dashboard/channel';
import { COMPACT_RETENTION, PANEL_RETENTION, RetainedState } from '../../src/extension/dashboard/retained';
import type { HostToWebview, RecordSpans, RecordsBatch, RunStarted } from '../../src/webview-protocol';
import { RunModel } from '../../webview/model/run';
import { Clock, FakeWebview } from './fake-host';
import { type RecordedRun, recordRun } from './fixtures';

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
    assert.equal(outbox.isEmpty, true);
  });

  it('starts a new batch after a run ends, so records never move before an end', async () => {
    const { messages, records } = await rosenbrockRun();
    const outbox = new Outbox();
    const batch = (step: number): RecordsBatch => ({ type: 'records', runId: 'run-1', records: [records[step - 1]], seconds: [step] });
    outbox.add(messages[0]);
    outbox.add(batch(1));
    outbox.add({ type: 'runEnded', runId: 'run-1', stopped: 'steps', diverged: null, failure: null, finalParams: {}, finalLoss: 0, finalStep: 1, seconds: 1 });
    outbox.add(batch(2));
    // A run the page was not told about: nothing to show its records with.
    outbox.add({ ...batch(3), runId: 'never-started' });
    assert.deepEqual(outbox.take().map((message) => message.type), ['runStarted', 'records', 'runEnded', 'records']);
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

let longRuns: Promise<RecordedRun[]> | null = null;
/**
 * Runs long enough for the page's table to fold them (span 8 and 4): Adam on rosenbrock (2-D: a
 * path; adaptive: rate quantiles) and a mini-batch MLP whose full loss comes every 7th step (gaps,
 * its own line) with W2's full rates on every record.
 */
function longRecordedRuns() {
  longRuns ??= Promise.all([
    recordRun({ runId: 'long-adam', problem: 'rosenbrock', optimizer: 'adam', hyperparameters: { lr: 0.01 }, steps: 30_000 }),
    recordRun({
      runId: 'long-mlp', problem: 'mlp', problemOptions: { pointsPerClass: 10 }, optimizer: 'rmsprop', hyperparameters: { lr: 0.003 }, steps: 9000,
      train: { batchSize: 8, fullLossEvery: 7, detailTensor: 'W2' }, change: { afterStep: 5000, values: { lr: 0.001 } },
    }),
  ]);
  return longRuns;
}

/** A run as the page's model keeps it (webview/model/dashboard-model.ts routes these messages to it). */
class PageRun {
  run: RunModel | null = null;

  apply(message: HostToWebview): void {
    if (message.type === 'runStarted') this.run ??= new RunModel(message);
    else if (message.type === 'records') this.run?.ingest(message);
    else if (message.type === 'recordSpans') this.run?.ingestSpans(message);
    else if (message.type === 'hyperparametersChanged') this.run?.addMarker(message);
  }
}

/** How many records the messages carry (one by one or in spans). */
function recordsOf(messages: HostToWebview[]): number {
  let count = 0;
  for (const message of messages) {
    if (message.type === 'records') count += message.records.length;
    if (message.type === 'recordSpans') count += message.spans.reduce((sum, span) => sum + span.records, 0);
  }
  return count;
}

/** Every entry of two runs' tables, the path and the newest summaries: equal (sums, taken in another order, to rounding). */
function assertSameRun(actual: RunModel, expected: RunModel, label: string): void {
  const a = actual.table;
  const e = expected.table;
  assert.deepEqual([a.length, a.span, a.lastCount, a.recordCount], [e.length, e.span, e.lastCount, e.recordCount], `${label}: entries, span, last entry, records`);
  for (const field of ['stepStart', 'stepEnd', 'timeStart', 'timeEnd'] as const) assert.deepEqual(a[field].subarray(0, a.length), e[field].subarray(0, e.length), `${label}: ${field}`);
  for (const name of e.names) {
    const got = a.column(name);
    const want = e.column(name);
    for (const field of ['min', 'max', 'valid', 'lowFirst'] as const) assert.deepEqual(got[field].subarray(0, a.length), want[field].subarray(0, e.length), `${label}: ${name}.${field}`);
    for (let i = 0; i < e.length; i++) {
      const tolerance = 1e-12 * Math.max(1, Math.abs(want.sum[i]));
      assert.ok(Math.abs(got.sum[i] - want.sum[i]) <= tolerance, `${label}: ${name} sum of entry ${i}: ${got.sum[i]} vs ${want.sum[i]}`);
    }
  }
  assert.equal(actual.lastStep, expected.lastStep, `${label}: last step`);
  assert.equal(actual.separateFullLoss, expected.separateFullLoss, `${label}: its own full-loss line`);
  assert.deepEqual(actual.latest, expected.latest, `${label}: the newest effective-rate summaries`);
  assert.deepEqual(actual.elementRates, expected.elementRates, `${label}: the detail tensor's rates`);
  assert.deepEqual(actual.markers, expected.markers, `${label}: markers`);
  const path = (run: RunModel) => run.trajectory && { length: run.trajectory.length, head: run.trajectory.head, points: Array.from({ length: run.trajectory.length }, (_, i) => [run.trajectory!.x(i), run.trajectory!.y(i)]) };
  assert.deepEqual(path(actual), path(expected), `${label}: the 2-D path`);
}

describe('WebviewChannel and a page that falls behind', () => {
  it(`keeps at most ${MAX_IN_FLIGHT} posts unacknowledged, folds what comes meanwhile, and sends it on the next acknowledgement`, async () => {
    const { instance, webview, clock } = channel();
    const [run] = await longRecordedRuns();
    webview.keepingUp = false;
    webview.send({ type: 'ready' });
    const [started, ...rest] = run.messages.filter((message) => message.type === 'runStarted' || message.type === 'records');
    instance.post(started);
    for (const message of rest) {
      instance.post(message);
      clock.advance(1);
    }
    clock.advance(1000);
    assert.equal(webview.posts.length, MAX_IN_FLIGHT, 'the replay and one post, then nothing until the page answers');
    assert.equal(instance.inFlight, MAX_IN_FLIGHT);
    webview.acknowledge();
    clock.advance(FLUSH_INTERVAL_MS);
    assert.equal(webview.posts.length, MAX_IN_FLIGHT + 1);
    const caughtUp = webview.posts.at(-1)!.messages;
    assert.deepEqual(caughtUp.map((message) => message.type), ['recordSpans'], 'the records that came meanwhile, folded into one message');
    const spans = (caughtUp[0] as RecordSpans).spans;
    assert.ok(spans.length <= TABLE_CAPACITY + 1, `${spans.length} spans`);
    assert.ok(spans.length >= TABLE_CAPACITY / 2, `as fine as the page's table: ${spans.length} spans`);
    assert.equal(recordsOf(webview.messages), run.records.length, 'every record is in a post, once');
    assert.equal(spans.at(-1)!.lastStep, run.records.at(-1)!.step);
    assert.deepEqual((caughtUp[0] as RecordSpans).newest, run.records.at(-1), 'the newest record whole');
  });

  it('posts what confirms a user’s action at once, past the limit and the interval, after the records before it', async () => {
    const { instance, webview, clock } = channel();
    const [run] = await longRecordedRuns();
    webview.keepingUp = false;
    webview.send({ type: 'ready' });
    const batches = run.messages.filter((message) => message.type === 'records');
    instance.post(run.started);
    clock.advance(FLUSH_INTERVAL_MS);
    assert.equal(instance.inFlight, MAX_IN_FLIGHT);
    for (const message of batches.slice(0, 10)) instance.post(message);
    const confirmations: HostToWebview[] = [
      { type: 'runStatus', runId: run.started.runId, paused: true, step: 500 },
      { type: 'hyperparametersChanged', runId: run.started.runId, step: 501, values: { lr: 0.001 } },
      { type: 'response', requestId: 3, error: null, body: null },
    ];
    for (const confirmation of confirmations) {
      const before = webview.posts.length;
      instance.post(confirmation);
      clock.advance(0);
      assert.equal(webview.posts.length, before + 1, `${confirmation.type} posted at once`);
      assert.deepEqual(webview.posts.at(-1)!.messages.at(-1), confirmation);
    }
    assert.deepEqual(webview.posts[MAX_IN_FLIGHT].messages.map((message) => message.type), ['records', 'runStatus'], 'the records before it go with it, in order');
    assert.equal((webview.posts[MAX_IN_FLIGHT].messages[0] as RecordsBatch).records.length, 500);
    // Records alone still wait for the page.
    const before = webview.posts.length;
    instance.post(batches[10]);
    clock.advance(1000);
    assert.equal(webview.posts.length, before);
  });

  it('leaves the page with what every record one by one gives it, however irregularly it answers', async () => {
    for (const run of await longRecordedRuns()) {
      const expected = new PageRun();
      for (const message of run.messages) expected.apply(message);
      for (const answerEvery of [1, 7, 50, 400]) {
        const { instance, webview, clock } = channel();
        const actual = new PageRun();
        let handled = 0;
        const handle = () => {
          for (const post of webview.posts.slice(handled)) for (const message of post.messages) actual.apply(message);
          handled = webview.posts.length;
          webview.acknowledge();
        };
        webview.send({ type: 'ready' });
        webview.keepingUp = false;
        run.messages.forEach((message, k) => {
          instance.post(message);
          clock.advance(1);
          if (k % answerEvery === 0) handle();
        });
        for (let k = 0; k < 5; k++) {
          clock.advance(FLUSH_INTERVAL_MS);
          handle();
        }
        const posts = webview.posts.slice(1);
        assert.ok(posts.some((post) => post.messages.some((message) => message.type === 'recordSpans')), 'spans once the table folds');
        assertSameRun(actual.run!, expected.run!, `${run.started.runId}, the page answering every ${answerEvery} ms`);
      }
    }
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
