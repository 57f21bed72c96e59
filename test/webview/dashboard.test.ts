/**
 * The dashboard bundle in headless Chromium, fed with protocol messages
 * recorded from the real core (fixtures.ts): what it draws, what it posts,
 * what survives a reload. Screenshots go to test/artifacts/.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { formatNumber } from '../../src/core/format';
import type { EffectiveLrBody, HostToWebview, RecordsBatch, RunEnded, StepRecord, WebviewToHost } from '../../src/webview-protocol';
import { WebviewChannel } from '../../src/extension/dashboard/channel';
import { PANEL_RETENTION } from '../../src/extension/dashboard/retained';
import { Clock, FakeWebview } from './fake-host';
import { COMPARE_RUNS, WRONG_ELEMENT, checkReports, criticalPoint, lossSurface, recordRun, type RecordedRun } from './fixtures';
import { CHROMIUM, DashboardPage, DashboardServer, chromiumAvailable, launchChromium } from './harness';

/** The webview's cap on drawn points per series (webview/model/decimate.ts). */
const MAX_POINTS = 4000;
const TABLE_CAPACITY = 4096;
const LONG_RUN_STEPS = 100_000;

interface Fixtures {
  compare: RecordedRun[];
  mlp: RecordedRun;
  /** The same mlp run, recorded with W1 as its detail tensor: the true answer to a request for W1's rates. */
  mlpW1: RecordedRun;
  long: RecordedRun;
  surface: HostToWebview;
  checks: HostToWebview[];
  critical: HostToWebview[];
}

const MLP = { problem: 'mlp', problemOptions: { pointsPerClass: 40 }, optimizer: 'adam', hyperparameters: { lr: 0.01 }, steps: 120, change: { afterStep: 60, values: { lr: 0.003 } } };

async function makeFixtures(): Promise<Fixtures> {
  const compare = [];
  for (const spec of COMPARE_RUNS) compare.push(await recordRun(spec));
  const adamEnd = compare.at(-1)!.records.at(-1)!.params!;
  return {
    compare,
    mlp: await recordRun({ ...MLP, runId: 'mlp-adam', train: { detailTensor: 'W2' } }),
    mlpW1: await recordRun({ ...MLP, runId: 'mlp-adam-w1', train: { detailTensor: 'W1' } }),
    long: await recordRun({ runId: 'long-momentum', problem: 'rosenbrock', optimizer: 'momentum', hyperparameters: { lr: 1e-3 }, steps: LONG_RUN_STEPS }),
    surface: lossSurface('rosenbrock'),
    checks: await checkReports(),
    critical: [await criticalPoint('rosenbrock', 'cmp-adam', adamEnd), await criticalPoint('saddle', null, [0, 0])],
  };
}

/** A run's messages without its end: a run still going. */
function running(run: RecordedRun): HostToWebview[] {
  return run.messages.filter((message) => message.type !== 'runEnded' && message.type !== 'hyperparametersChanged');
}

function rawRange(records: StepRecord[], metric: (record: StepRecord) => number): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const record of records) {
    const value = metric(record);
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}

/**
 * Moves the mouse onto a heatmap cell until its tooltip shows: the cell is looked up again each
 * time, since a redraw (a scrollbar appearing, say) can move it between lookup and move.
 */
async function hoverCell(page: DashboardPage, heatmap: string, element: string): Promise<{ x: number; y: number }> {
  const tooltip = page.page.locator('#gradlens-tooltip');
  for (let attempt = 1; ; attempt++) {
    await page.idle();
    const cell = await page.heatmapCell(heatmap, element);
    assert.ok(cell, `${heatmap} has no cell ${element}`);
    await page.page.mouse.move(cell.x + 1, cell.y + 1);
    await page.page.mouse.move(cell.x, cell.y);
    try {
      await tooltip.waitFor({ state: 'visible', timeout: 3000 });
      return cell;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

function requestsOf<T extends WebviewToHost['type']>(posted: WebviewToHost[], type: T): Extract<WebviewToHost, { type: T }>[] {
  return posted.filter((message): message is Extract<WebviewToHost, { type: T }> => message.type === type);
}

describe('dashboard webview in Chromium', { skip: chromiumAvailable() ? false : `needs ${CHROMIUM} and a built dist/webview (npm run build)`, timeout: 300_000 }, () => {
  let browser: Browser;
  let server: DashboardServer;
  let fixtures: Fixtures;
  let dashboard: DashboardPage;

  before(async () => {
    [server, browser, fixtures] = await Promise.all([new DashboardServer().start(), launchChromium(), makeFixtures()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    await dashboard.close();
    // Every page stays free of errors and Content-Security-Policy violations.
    assert.deepEqual(dashboard.problems, []);
  });

  const open = async (viewport?: { width: number; height: number }) => {
    dashboard = await DashboardPage.open(browser, server, viewport);
    return dashboard;
  };

  it('says ready first, before any message arrives', async () => {
    const page = await open();
    assert.deepEqual(await page.posted(), [{ type: 'ready' }]);
    await page.screenshot('empty');
  });

  it('draws every record of a short run, and the runs compared', async () => {
    const page = await open();
    await page.deliver([fixtures.surface, ...fixtures.compare.flatMap((run) => run.messages)]);
    await page.deliver(fixtures.mlp.messages);
    const charts = await page.lineCharts();
    const records = fixtures.mlp.records.length;
    assert.deepEqual(charts['optimizer/Loss'].map((series) => [series.label, series.points]), [['adam', records]]);
    assert.deepEqual(charts['optimizer/Gradient norm'].map((series) => series.points), [records]);
    assert.deepEqual(charts['optimizer/Update / parameter ratio'].map((series) => series.label), ['all parameters', 'W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    const [low, high] = rawRange(fixtures.mlp.records, (record) => record.loss);
    assert.equal(charts['optimizer/Loss'][0].min, low);
    assert.equal(charts['optimizer/Loss'][0].max, high);
    await page.screenshot('optimizer-mlp');
    await page.page.getByRole('combobox', { name: 'Run' }).selectOption('cmp-adam');
    await page.idle();
    const compared = (await page.lineCharts())['optimizer/Loss'];
    assert.deepEqual(compared.map((series) => series.label), COMPARE_RUNS.map((spec) => spec.optimizer));
    assert.equal(new Set(compared.map((series) => series.color)).size, COMPARE_RUNS.length, 'a colour per optimizer');
    for (const series of compared) assert.ok(series.points <= 600 && series.points > 100, `${series.label}: ${series.points} points`);
    await page.screenshot('optimizer-compare');
  });

  it(`keeps at most ${MAX_POINTS} points per series and the extremes of a ${LONG_RUN_STEPS}-step run`, async () => {
    const page = await open();
    const { messages, records } = fixtures.long;
    const [started, ...rest] = messages;
    await page.deliver([started]);
    for (let k = 0; k < rest.length; k += 200) await page.deliver(rest.slice(k, k + 200));
    const [table] = await page.tables();
    assert.equal(table.records, LONG_RUN_STEPS);
    assert.ok(table.entries <= TABLE_CAPACITY && table.span > 1, `${table.entries} entries of ${table.span} records`);
    const checkBounds = async (smoothing: boolean) => {
      const charts = await page.lineCharts();
      for (const [chart, series] of Object.entries(charts).filter(([name]) => name.startsWith('optimizer/'))) {
        assert.equal(series.length, smoothing ? 2 : 1, chart);
        for (const line of series) assert.ok(line.points > 100 && line.points <= MAX_POINTS, `${chart} ${line.label}: ${line.points} points`);
      }
      for (const [chart, metric] of [
        ['optimizer/Loss', (record: StepRecord) => record.loss],
        ['optimizer/Gradient norm', (record: StepRecord) => record.gradNorm],
        ['optimizer/Update norm', (record: StepRecord) => record.updateNorm],
      ] as const) {
        const drawn = smoothing ? charts[chart].find((series) => series.label.endsWith('(raw)'))! : charts[chart][0];
        assert.deepEqual([drawn.min, drawn.max], rawRange(records, metric), `${chart}: min and max of the raw series are drawn`);
      }
    };
    await checkBounds(false);
    await page.screenshot('long-run');
    await page.page.locator('#smoothing').fill('0.9');
    await page.idle();
    await checkBounds(true);
    await page.screenshot('long-run-smoothed');
  });

  it(`draws the ${LONG_RUN_STEPS}-step run the same when the host's channel folds it for a page that is behind`, async () => {
    const { messages } = fixtures.long;
    const direct = await open();
    await direct.deliver([messages[0]]);
    for (let k = 1; k < messages.length; k += 200) await direct.deliver(messages.slice(k, k + 200));
    const exportCsv = async (from: DashboardPage) => {
      await from.page.getByRole('button', { name: 'Export the focused run’s telemetry as CSV' }).click();
      const [csv] = requestsOf(await from.posted(), 'saveExport');
      return (csv.content as { text: string }).text.trim().split('\n').map((line) => line.split(','));
    };
    const expected = { tables: await direct.tables(), charts: await direct.lineCharts(), paths: await direct.surfacePaths(), csv: await exportCsv(direct) };
    assert.deepEqual(direct.problems, []);
    await direct.close();

    // The product's channel, the page answering every 60 messages (at most two posts on their way).
    const page = await open();
    const clock = new Clock();
    const webview = new FakeWebview();
    const channel = new WebviewChannel({ mode: 'panel', limits: PANEL_RETENTION, saveExport: async () => null, log: () => undefined, setTimer: clock.setTimer, now: () => clock.now });
    channel.attach(webview);
    webview.keepingUp = false;
    webview.send({ type: 'ready' });
    let delivered = 0;
    const handle = async () => {
      for (const post of webview.posts.slice(delivered)) await page.deliver(post.messages);
      delivered = webview.posts.length;
      webview.acknowledge();
    };
    for (const [k, message] of messages.entries()) {
      channel.post(message);
      clock.advance(1);
      if (k % 60 === 0) await handle();
    }
    clock.advance(100);
    await handle();
    const spans = webview.posts.flatMap((post) => post.messages).filter((message) => message.type === 'recordSpans');
    assert.ok(spans.length > 0 && webview.posts.length < messages.length / 20, `${webview.posts.length} posts, ${spans.length} of spans`);
    assert.deepEqual(await page.tables(), expected.tables, 'the same table: records, entries, span, path');
    assert.deepEqual(await page.lineCharts(), expected.charts, 'every chart: the same points, minimum and maximum');
    assert.deepEqual(await page.surfacePaths(), expected.paths);
    // The export holds the same table: minima and maxima exact, means to rounding (sums taken in another order).
    const csv = await exportCsv(page);
    assert.deepEqual(csv[0], expected.csv[0]);
    assert.equal(csv.length, expected.csv.length);
    csv.slice(1).forEach((row, i) => row.forEach((field, k) => {
      const want = expected.csv[i + 1][k];
      if (field === '' || want === '') assert.equal(field, want, `row ${i + 1}, ${csv[0][k]}`);
      else assert.ok(Math.abs(Number(field) - Number(want)) <= 1e-12 * Math.max(1, Math.abs(Number(want))), `row ${i + 1}, ${csv[0][k]}: ${field} vs ${want}`);
    }));
  });

  it('posts run controls and follows the run state the host reports', async () => {
    const page = await open();
    const run = fixtures.mlp;
    await page.deliver(running(run).slice(0, 2));
    const button = (name: string) => page.page.getByRole('button', { name });
    assert.equal(await button('Resume the run').isDisabled(), true);
    await button('Pause the run').click();
    const [pause] = requestsOf(await page.posted(), 'control');
    assert.deepEqual({ ...pause, requestId: 0 }, { type: 'control', requestId: 0, runId: 'mlp-adam', action: 'pause' });
    await page.deliver([{ type: 'response', requestId: pause.requestId, error: null, body: null }, { type: 'runStatus', runId: 'mlp-adam', paused: true, step: 50 }]);
    assert.equal(await button('Pause the run').isDisabled(), true);
    assert.equal(await button('Resume the run').isDisabled(), false);
    await button('Take a single optimizer step').click();
    await button('Resume the run').click();
    await button('Stop the run').click();
    await button('Start the run again from the beginning').click();
    const controls = requestsOf(await page.posted(), 'control');
    assert.deepEqual(controls.map((control) => control.action), ['pause', 'step', 'resume', 'stop', 'restart']);
    assert.deepEqual(controls.map((control) => control.requestId), [1, 2, 3, 4, 5], 'every request has its own id');
    await page.deliver([{ type: 'response', requestId: 4, error: 'the run already ended', body: null }]);
    assert.match((await page.page.locator('.toolbar .status').textContent()) ?? '', /Stop failed: the run already ended/);
  });

  it('runs another optimizer with a schedule on the same problem, and shows the host\'s refusal', async () => {
    const page = await open();
    await page.deliver(running(fixtures.mlp).slice(0, 2));
    assert.equal(await page.page.getByRole('combobox', { name: 'Another optimizer' }).inputValue(), 'adam', 'follows the focused run');
    await page.page.getByRole('combobox', { name: 'Another optimizer' }).selectOption('rmsprop');
    await page.page.getByLabel('Learning-rate schedule').fill('cosine:T_max=50');
    await page.page.getByRole('button', { name: 'Run this optimizer and schedule on the same problem, from the same start' }).click();
    const [request] = requestsOf(await page.posted(), 'runWith');
    assert.deepEqual({ ...request, requestId: 0 }, { type: 'runWith', requestId: 0, runId: 'mlp-adam', optimizer: 'rmsprop', schedule: 'cosine:T_max=50' });
    await page.deliver([{ type: 'response', requestId: request.requestId, error: 'unknown schedule kind cosin', body: null }]);
    assert.match((await page.page.locator('.toolbar .status').textContent()) ?? '', /Run failed: unknown schedule kind cosin/);
  });

  it('posts hyper-parameter edits and marks the change once the host confirms it', async () => {
    const page = await open();
    await page.deliver(running(fixtures.mlp).slice(0, 3));
    await page.page.getByText('Hyper-parameters of adam').click();
    await page.page.getByLabel('lr', { exact: true }).fill('0.001');
    await page.page.getByRole('button', { name: 'Apply at next step' }).click();
    const [set] = requestsOf(await page.posted(), 'setHyperparameters');
    assert.deepEqual(set.values, { lr: 0.001 });
    assert.deepEqual((await page.markers())['optimizer/Loss'], []);
    await page.deliver([
      { type: 'response', requestId: set.requestId, error: null, body: null },
      { type: 'hyperparametersChanged', runId: 'mlp-adam', step: 101, values: { lr: 0.001 } },
      ...running(fixtures.mlp).slice(3),
    ]);
    const markers = await page.markers();
    for (const chart of ['optimizer/Loss', 'optimizer/Learning rate', 'optimizer/Gradient norm']) assert.deepEqual(markers[chart], ['lr=0.001'], chart);
    assert.equal(await page.page.getByLabel('lr', { exact: true }).inputValue(), '0.001', 'the editor shows the value in force');
    await page.screenshot('hyperparameter-marker');
  });

  it('restarts from a clicked (or keyboard-chosen) point of the loss surface', async () => {
    const page = await open();
    await page.deliver([fixtures.surface, ...fixtures.compare.flatMap((run) => run.messages)]);
    await page.clickTab('Loss surface');
    const paths = await page.surfacePaths();
    assert.deepEqual(paths.map((path) => path.label), COMPARE_RUNS.map((spec) => spec.optimizer));
    for (const path of paths) assert.equal(path.points, 602, `${path.label}: the start, 600 positions and the head`);
    const target = (await page.surfacePoint(0.5, -0.5))!;
    await page.page.mouse.click(target.x, target.y);
    const [clicked] = requestsOf(await page.posted(), 'restartFrom');
    assert.equal(clicked.runId, 'cmp-adam');
    assert.ok(Math.abs(clicked.start[0] - 0.5) < 0.02 && Math.abs(clicked.start[1] + 0.5) < 0.02, `clicked at ${clicked.start}`);
    await page.page.locator('canvas.surface-canvas').focus();
    await page.page.keyboard.press('ArrowUp');
    await page.page.keyboard.press('Enter');
    const [, keyed] = requestsOf(await page.posted(), 'restartFrom');
    assert.deepEqual(keyed.start.map((value) => Number(value.toFixed(6))), [-1.5, 2.08], 'one step up from the start');
    await page.screenshot('surface-compare');
  });

  it('restores its charts, tab and settings after a reload, and says ready again', async () => {
    const page = await open();
    await page.deliver([fixtures.surface, ...fixtures.compare.flatMap((run) => run.messages), ...fixtures.critical, ...fixtures.checks]);
    await page.page.getByLabel('log scale').uncheck();
    await page.page.locator('#smoothing').fill('0.5');
    await page.idle();
    const before = await page.lineCharts();
    await page.clickTab('Critical point');
    await page.reload();
    assert.deepEqual(await page.posted(), [{ type: 'ready' }]);
    assert.equal(await page.page.getByRole('tab', { name: 'Critical point' }).getAttribute('aria-selected'), 'true');
    assert.match((await page.page.locator('.critical-details > h3').textContent()) ?? '', /rosenbrock: minimum/);
    await page.clickTab('Optimizer');
    assert.equal(await page.page.getByLabel('log scale').isChecked(), false);
    assert.equal(await page.page.locator('#smoothing').inputValue(), '0.5');
    const restored = await page.lineCharts();
    for (const chart of ['optimizer/Loss', 'optimizer/Gradient norm', 'optimizer/Learning rate']) {
      assert.deepEqual(restored[chart].map((series) => series.label), before[chart].map((series) => series.label), chart);
      restored[chart].forEach((series, k) => {
        assert.ok(series.points > 0, `${chart} ${series.label} drawn`);
        if (series.label.endsWith('(raw)')) assert.deepEqual([series.min, series.max], [before[chart][k].min, before[chart][k].max], `${chart} ${series.label}: extremes kept`);
      });
    }
    await page.clickTab('Gradient check');
    assert.equal(await page.page.locator('article.problem').count(), 4);
    await page.screenshot('restored');
  });

  it('names the wrong element in the gradient-check heatmap and reveals it on click', async () => {
    const page = await open();
    await page.deliver(fixtures.checks);
    await page.clickTab('Gradient check');
    const heatmap = `check:examples/dashboard-demo.grad.ts#mlpSignError/${WRONG_ELEMENT.tensor}`;
    const cell = await hoverCell(page, heatmap, WRONG_ELEMENT.name);
    const tooltip = page.page.locator('#gradlens-tooltip');
    const text = (await tooltip.textContent()) ?? '';
    assert.ok(text.startsWith(WRONG_ELEMENT.name), text);
    assert.match(text, /FAIL/);
    await page.page.mouse.click(cell.x, cell.y);
    await page.idle();
    const [reveal] = requestsOf(await page.posted(), 'reveal');
    assert.deepEqual({ file: reveal.file, line: reveal.line }, { file: 'examples/dashboard-demo.grad.ts', line: 1 });
    const rows = page.page.locator('table.worst tbody tr.failed');
    assert.deepEqual(await rows.locator('td:first-child').allTextContents(), [WRONG_ELEMENT.name, WRONG_ELEMENT.name], 'the worst-elements tables of both files');
    await page.page.getByRole('button', { name: 'Reveal reluAtZero in the editor', exact: true }).click();
    assert.deepEqual(requestsOf(await page.posted(), 'reveal').map((request) => request.requestId).length, 2);
    await hoverCell(page, heatmap, WRONG_ELEMENT.name);
    await page.screenshot('check-hover', false);
  });

  it('recolours every chart when the theme changes', async () => {
    const page = await open();
    await page.deliver(fixtures.mlp.messages);
    assert.equal(await page.chartTextColor(), '#cccccc');
    const dark = (await page.lineCharts())['optimizer/Loss'][0].color;
    await page.setTheme('vscode-light');
    assert.equal(await page.chartTextColor(), '#3b3b3b');
    const light = (await page.lineCharts())['optimizer/Loss'][0].color;
    assert.deepEqual([dark, light], ['#3794ff', '#1a85ff']);
    await page.screenshot('theme-light');
    await page.setTheme('vscode-high-contrast');
    assert.equal(await page.chartTextColor(), '#ffffff');
    await page.screenshot('theme-high-contrast');
  });

  it('shows effective learning rates per element: live for the detail tensor, on request for the others', async () => {
    const page = await open();
    await page.deliver(fixtures.mlp.messages);
    await page.clickTab('Learning rates');
    const scope = page.page.locator('#rate-scope');
    await scope.selectOption('W2');
    await page.idle();
    await hoverCell(page, 'rates', 'W2[1,2]');
    const tooltip = page.page.locator('#gradlens-tooltip');
    const last = fixtures.mlp.records.at(-1)!;
    assert.match((await tooltip.textContent()) ?? '', /^W2\[1,2\]effective lr \S+gradient \S+accumulator \S+step \d+/);
    assert.equal(last.effectiveLrDetail!.length, 16 * 16);
    // The record carries W2's gradient and Adam's v (the accumulator the rate divides by) with its rates.
    assert.equal(last.gradDetail!.length, 16 * 16);
    assert.ok(last.accumulatorDetail!.every((v) => v >= 0));
    await page.screenshot('rates-heatmap');
    await scope.selectOption('W1');
    await page.idle();
    assert.equal(await page.heatmapCell('rates', 'W1[0,0]'), null, 'no W1 elements yet');
    await page.page.getByRole('button', { name: 'Ask for the effective learning rate of every element of this tensor' }).click();
    const [request] = requestsOf(await page.posted(), 'requestEffectiveLr');
    assert.deepEqual({ runId: request.runId, tensor: request.tensor }, { runId: 'mlp-adam', tensor: 'W1' });
    const answer = fixtures.mlpW1.records.at(-1)!;
    const body: EffectiveLrBody = { kind: 'effectiveLr', runId: 'mlp-adam', tensor: 'W1', step: answer.step, values: answer.effectiveLrDetail!, grad: answer.gradDetail, accumulator: answer.accumulatorDetail };
    // One request, one reply: the rates come in the response's body.
    await page.deliver([{ type: 'response', requestId: request.requestId, error: null, body }]);
    assert.ok(await page.heatmapCell('rates', 'W1[1,15]'), 'W1 drawn once its values arrived');
    const band = (await page.lineCharts())['rates/Effective learning rate over steps'];
    assert.equal(band.length, 5);
    const [low] = rawRange(fixtures.mlp.records, (record) => record.effectiveLrByTensor!.W1!.min);
    assert.equal(band[0].min, low, 'the band’s lower edge is the smallest rate of W1');
    await page.screenshot('rates-requested');
  });

  it('exports telemetry as CSV and JSON, and any chart as PNG', async () => {
    const page = await open();
    await page.deliver(fixtures.mlp.messages);
    await page.page.getByRole('button', { name: 'Export the focused run’s telemetry as CSV' }).click();
    await page.page.getByRole('button', { name: 'Export the telemetry of the runs shown as JSON' }).click();
    await page.page.getByRole('button', { name: 'Save the Loss chart as PNG' }).click();
    const [csv, json, png] = requestsOf(await page.posted(), 'saveExport');
    assert.equal(csv.fileName, 'gradlens-adam-mlp.csv');
    assert.equal(csv.content.kind, 'text');
    const lines = (csv.content as { text: string }).text.trim().split('\n');
    assert.equal(lines.length, 1 + fixtures.mlp.records.length);
    assert.match(lines[0], /^step,seconds,loss,fullLoss,gradNorm,updateNorm,updateRatio,lr,ratio:W1,/);
    assert.equal(Number(lines[1].split(',')[2]), fixtures.mlp.records[0].loss);
    const exported = JSON.parse((json.content as { text: string }).text) as { runs: { run: { runId: string }; hyperparameterChanges: unknown[]; rows: unknown[] }[] };
    assert.equal(exported.runs[0].run.runId, 'mlp-adam');
    assert.equal(exported.runs[0].rows.length, fixtures.mlp.records.length);
    assert.equal(exported.runs[0].hyperparameterChanges.length, 1);
    assert.equal(png.content.kind, 'png');
    assert.equal(Buffer.from((png.content as { base64: string }).base64, 'base64').subarray(1, 4).toString(), 'PNG');
    // Every record: the host writes them from its own copy (test/webview/records-export.test.ts), asked by run id.
    await page.page.getByRole('button', { name: /^Export every record of the focused run as CSV/ }).click();
    assert.deepEqual(requestsOf(await page.posted(), 'exportRecords').map(({ runId, fileName }) => ({ runId, fileName })), [{ runId: 'mlp-adam', fileName: 'gradlens-adam-mlp-records.csv' }]);
  });

  it('shows the critical-point analysis: classification, spectrum and escape direction', async () => {
    const page = await open();
    await page.deliver([fixtures.critical[1]]);
    await page.clickTab('Critical point');
    assert.match((await page.page.locator('.critical-details > h3').textContent()) ?? '', /saddle: saddle/);
    assert.match((await page.page.locator('.escape').textContent()) ?? '', /Escape direction \(λ = -2\)/);
    await page.screenshot('critical-saddle');
  });

  it('moves between tabs with the arrow keys, with names for every control', async () => {
    const page = await open();
    await page.deliver(fixtures.mlp.messages);
    await page.page.getByRole('tab', { name: 'Optimizer' }).focus();
    await page.page.keyboard.press('ArrowRight');
    await page.idle();
    assert.equal(await page.page.getByRole('tab', { name: 'Learning rates' }).getAttribute('aria-selected'), 'true');
    await page.page.keyboard.press('End');
    assert.equal(await page.page.getByRole('tab', { name: 'Gradient check' }).getAttribute('aria-selected'), 'true');
    const unnamed = await page.page.locator('button').evaluateAll((buttons) =>
      buttons.filter((button) => !(button.getAttribute('aria-label') || button.textContent?.trim())).length,
    );
    assert.equal(unnamed, 0);
  });

  it('shows the last result in compact mode, readable in a small view', async () => {
    const page = await open({ width: 360, height: 420 });
    await page.deliver([{ type: 'config', mode: 'compact' }, fixtures.checks[0]]);
    const headline = page.page.locator('.compact-view .headline');
    assert.equal(await headline.textContent(), '✗ 1 of 3 problems failed');
    await page.screenshot('compact-check');
    await page.deliver(fixtures.compare.at(-1)!.messages);
    const ended = fixtures.compare.at(-1)!.messages.at(-1) as RunEnded;
    assert.ok((await headline.textContent())?.startsWith(`adam on rosenbrock: final loss ${formatNumber(ended.finalLoss!)}`));
    const [loss] = (await page.lineCharts())['compact/Loss'];
    assert.ok(loss.points > 200 && loss.points <= 600, `${loss.points} points in a small chart`);
    await page.screenshot('compact-run');
  });

  it('coalesces a burst of messages into a few frames', async () => {
    const page = await open();
    const [started, ...rest] = fixtures.long.messages;
    await page.deliver([started]);
    const before = await page.frames();
    const burst = rest.slice(0, 200);
    await page.deliverBurst(burst);
    const frames = (await page.frames()) - before;
    // One frame, or a few when the frame budget spreads the five charts over several.
    assert.ok(frames >= 1 && frames <= 5, `${frames} frames for ${burst.length} messages`);
    assert.equal((await page.tables())[0].records, burst.reduce((sum, message) => sum + (message as RecordsBatch).records.length, 0));
  });

  it('labels a run with its last step also when its records arrive after its end', async () => {
    const page = await open();
    const run = fixtures.mlp;
    const batches = run.messages.filter((message): message is RecordsBatch => message.type === 'records');
    const ended = run.messages.find((message): message is RunEnded => message.type === 'runEnded')!;
    // A run that ends within its first batches: the end overtakes the last records on their way.
    await page.deliver([run.messages[0], batches[0], ended]);
    await page.deliver(batches.slice(1));
    const label = (await page.page.locator('#run-select option').first().textContent()) ?? '';
    assert.match(label, new RegExp(`· step ${run.records.at(-1)!.step}$`), label);
  });

  it('lists a training script\'s run as external and live, with its drops, and offers no controls for it', async () => {
    const page = await open();
    const run = fixtures.mlp;
    const started = { ...run.started, runId: 'external-live-1', steps: 0, compareGroup: 'external-live-1', external: { script: 'train.py', live: true, log: null } };
    const batches = running(run).filter((message): message is RecordsBatch => message.type === 'records').map((batch) => ({ ...batch, runId: started.runId }));
    await page.deliver([started, ...batches, { type: 'runStatus', runId: started.runId, paused: false, step: run.records.at(-1)!.step, dropped: 12 }]);
    const label = (await page.page.locator('#run-select option').first().textContent()) ?? '';
    assert.equal(label, `mlp (train.py, external, live) · adam · running · step ${run.records.at(-1)!.step} · 12 dropped`);
    for (const name of ['Pause', 'Resume', 'Step', 'Stop', 'Restart']) {
      assert.equal(await page.page.locator('.toolbar button', { hasText: new RegExp(`^${name}$`) }).isDisabled(), true, `${name} is offered`);
    }
    assert.equal(await page.page.getByRole('button', { name: 'Run this optimizer and schedule on the same problem, from the same start' }).isDisabled(), true);
    assert.equal((await page.lineCharts())['optimizer/Loss'][0].points, run.records.length);
    await page.screenshot('external-live-run');
  });

  it('ignores records it already has (a replay after a reload)', async () => {
    const page = await open();
    await page.deliver(fixtures.mlp.messages);
    const batches = fixtures.mlp.messages.filter((message): message is RecordsBatch => message.type === 'records');
    await page.deliver([fixtures.mlp.messages[0], ...batches]);
    const [table] = await page.tables();
    assert.equal(table.records, fixtures.mlp.records.length);
  });
});
