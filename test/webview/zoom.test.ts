/**
 * Zoom and pan of the dashboard's line charts (chartjs-plugin-zoom) in
 * headless Chromium: gestures, reset, the re-decimation for the range shown,
 * and full resolution from the host's record log (the real RecordLogs, fed
 * the same messages as the page) for a zoom the page's table merges.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { RecordLogs } from '../../src/extension/record-log';
import type { HostToWebview, RecordsBatch, RunStarted, StepRecord, WebviewToHost } from '../../src/webview-protocol';
import { CHROMIUM, DashboardPage, DashboardServer, chromiumAvailable, launchChromium } from './harness';

const STEPS = 520_000;
const RUN = 'long-sgd';
const LOSS = 'optimizer/Loss';
const SPIKE = 500_050;

/** The loss at a step: a slow wave with one spike, so every record in a range can be checked without the page. */
const lossAt = (step: number) => Math.sin(step / 10) + (step === SPIKE ? 5 : 0);

const started: RunStarted = {
  type: 'runStarted', runId: RUN, problem: 'quadratic', optimizer: 'sgd', hyperparameters: { lr: 0.1 }, tensors: [{ name: 'w', shape: [3] }],
  twoDimensional: false, start: null, adaptive: false, detailTensor: null, steps: STEPS, compareGroup: null,
};

function record(step: number): StepRecord {
  return {
    step, epoch: 0, lr: 0.1, loss: lossAt(step), fullLoss: null, gradNorm: 1 + step / STEPS, updateNorm: 0.1, updateRatio: 0.01, updateRatioByTensor: { w: 0.01 },
    velocityNorm: null, effectiveLr: null, effectiveLrByTensor: null, effectiveLrDetail: null, gradDetail: null, accumulatorDetail: null,
    evaluations: 0, stepSize: null, warning: null, params: null,
  };
}

function batches(size: number): RecordsBatch[] {
  const out: RecordsBatch[] = [];
  for (let from = 1; from <= STEPS; from += size) {
    const records = Array.from({ length: Math.min(size, STEPS - from + 1) }, (_, k) => record(from + k));
    out.push({ type: 'records', runId: RUN, records, seconds: records.map((entry) => entry.step / 1e4) });
  }
  return out;
}

function recordRequests(posted: WebviewToHost[]) {
  return posted.filter((message): message is Extract<WebviewToHost, { type: 'requestRecords' }> => message.type === 'requestRecords');
}

describe('zoomable dashboard charts in Chromium', { skip: chromiumAvailable() ? false : `needs ${CHROMIUM} and a built dist/webview (npm run build)`, timeout: 300_000 }, () => {
  let browser: Browser;
  let server: DashboardServer;
  let dashboard: DashboardPage;
  const logs = new RecordLogs(4);

  before(async () => {
    [server, browser] = await Promise.all([new DashboardServer().start(), launchChromium()]);
  });

  after(async () => {
    logs.dispose();
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    await dashboard.close();
    assert.deepEqual(dashboard.problems, []);
  });

  /** A page with the whole long run, and the host's log of the same messages. */
  async function openWithLongRun(): Promise<DashboardPage> {
    dashboard = await DashboardPage.open(browser, server);
    const messages: HostToWebview[] = [started, ...batches(20_000)];
    for (const message of messages) {
      logs.observe(message);
      await dashboard.deliver([message]);
    }
    const [table] = await dashboard.tables();
    assert.equal(table.records, STEPS);
    assert.ok(table.span >= 64, `the page merges ${table.span} records per entry`);
    return dashboard;
  }

  it('zoomed into steps 500,000–500,100 draws every record of them, from the host', async () => {
    const page = await openWithLongRun();
    const whole = (await page.lineCharts())[LOSS][0];
    await page.page.evaluate(([chart]) => (globalThis as unknown as { gradlensDashboard: { zoomTo(c: string, a: number, b: number): void } }).gradlensDashboard.zoomTo(chart, 500_000, 500_100), [LOSS]);
    await page.idle();
    assert.deepEqual(await page.page.evaluate((chart) => (globalThis as unknown as { gradlensDashboard: { zoomRange(c: string): unknown } }).gradlensDashboard.zoomRange(chart), LOSS), { min: 500_000, max: 500_100 });
    // Before the host answers: the page's own merged entries, a handful in the range.
    const coarse = await page.pointsIn(LOSS, 'sgd', 500_000, 500_100);
    assert.ok(coarse.length < 20, `${coarse.length} points from the merged table`);
    const [request] = recordRequests(await page.posted());
    assert.ok(request, 'the page asks the host for the records of the range');
    assert.equal(request.runId, RUN);
    assert.ok(request.fromStep <= 500_000 && request.toStep >= 500_100, `asked for ${request.fromStep}–${request.toStep}`);
    await page.deliver([{ type: 'response', requestId: request.requestId, error: null, body: logs.range(request.runId, request.fromStep, request.toStep) }]);
    const drawn = await page.pointsIn(LOSS, 'sgd', 500_000, 500_100);
    assert.deepEqual(drawn.map((point) => point.x), Array.from({ length: 101 }, (_, k) => 500_000 + k), 'a point per step');
    for (const point of drawn) assert.ok(Math.abs(point.y - lossAt(point.x)) <= 1e-12, `step ${point.x}: ${point.y} vs ${lossAt(point.x)}`);
    const loss = (await page.lineCharts())[LOSS][0];
    assert.equal(loss.max, lossAt(SPIKE), 'the spike is drawn at its value');
    await page.screenshot('zoom-full-resolution');
    // Reset: the whole run again, as before the zoom.
    const reset = page.page.getByRole('button', { name: /Reset the zoom of the Loss chart/ });
    assert.ok(await reset.isVisible());
    await reset.click();
    await page.idle();
    assert.equal(await page.page.evaluate((chart) => (globalThis as unknown as { gradlensDashboard: { zoomRange(c: string): unknown } }).gradlensDashboard.zoomRange(chart), LOSS), null);
    assert.equal(await reset.isVisible(), false);
    const after = (await page.lineCharts())[LOSS][0];
    assert.deepEqual([after.min, after.max], [whole.min, whole.max], 'the extremes of the whole run');
    // The y labels of the zoom changed the plot's width a little: about as many points as before.
    assert.ok(Math.abs(after.points - whole.points) <= whole.points * 0.1, `${after.points} points, ${whole.points} before`);
  });

  it('re-decimates a wide zoom for its range, and zooms and pans with the mouse', async () => {
    const page = await openWithLongRun();
    const zoomRange = () => page.page.evaluate((chart) => (globalThis as unknown as { gradlensDashboard: { zoomRange(c: string): { min: number; max: number } | null } }).gradlensDashboard.zoomRange(chart), LOSS);
    const canvas = page.page.locator('.optimizer-view section[aria-label="Loss"] canvas');
    const box = (await canvas.boundingBox())!;
    const y = box.y + box.height / 2;
    // Drag across the middle third: a box zoom.
    await page.page.mouse.move(box.x + box.width * 0.4, y);
    await page.page.mouse.down();
    await page.page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
    await page.page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
    await page.page.mouse.up();
    await page.idle();
    const dragged = await zoomRange();
    assert.ok(dragged && dragged.min > 0 && dragged.max < STEPS && dragged.max - dragged.min < STEPS / 3, `dragged to ${JSON.stringify(dragged)}`);
    // More records than one request carries: the page's table, decimated for the range alone.
    const drawn = (await page.lineCharts())[LOSS][0];
    const inView = await page.pointsIn(LOSS, 'sgd', dragged.min, dragged.max);
    assert.ok(inView.length >= drawn.points - 4 && inView.length > 200, `${inView.length} of ${drawn.points} points in view`);
    assert.deepEqual(recordRequests(await page.posted()), [], `${Math.round(dragged.max - dragged.min)} steps: too many records to ask for`);
    // Shift+drag pans: the same width, moved.
    await page.page.keyboard.down('Shift');
    await page.page.mouse.move(box.x + box.width * 0.5, y);
    await page.page.mouse.down();
    await page.page.mouse.move(box.x + box.width * 0.4, y, { steps: 10 });
    await page.page.mouse.up();
    await page.page.keyboard.up('Shift');
    await page.idle();
    const panned = (await zoomRange())!;
    assert.ok(panned.min > dragged.min, `panned from ${dragged.min} to ${panned.min}`);
    assert.ok(Math.abs(panned.max - panned.min - (dragged.max - dragged.min)) < 1e-6 * STEPS, 'panning keeps the width');
    // Ctrl+wheel zooms in further (the plugin reports it after 250 ms); a plain wheel scrolls the page and leaves the zoom.
    await page.page.mouse.move(box.x + box.width / 2, y);
    await page.page.mouse.wheel(0, 200);
    await page.page.waitForTimeout(400);
    assert.deepEqual(await zoomRange(), panned);
    await page.page.keyboard.down('Control');
    await page.page.mouse.wheel(0, -200);
    await page.page.keyboard.up('Control');
    await page.page.waitForTimeout(400);
    await page.idle();
    const wheeled = (await zoomRange())!;
    assert.ok(wheeled.max - wheeled.min < panned.max - panned.min, `ctrl+wheel: ${JSON.stringify(wheeled)}`);
    // Double-click resets.
    await canvas.dblclick();
    await page.idle();
    assert.equal(await zoomRange(), null);
  });
});
