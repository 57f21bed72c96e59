/**
 * GradLens long live-run benchmark (`npm run bench:live`; `node --expose-gc out/bench/live.js --quick`
 * for a short trial, `--steps N` for another length).
 *
 * The dashboard's real data path outside VS Code, with the product's own classes:
 *  - the worker: the sandboxed runner process running Adam on builtin:rosenbrock, every step recorded
 *    (telemetry every 1, parameters recorded, the 64×64 loss surface first), started through
 *    optimizeSource with LiveRun's events, as OptimizerCommands.start does;
 *  - the host, in this Node process: LiveRun broadcasting to the dashboard panel's WebviewChannel
 *    (PANEL_RETENTION) and to the last-result view's (COMPACT_RETENTION, never shown: it only
 *    retains), as Dashboards.publish does; the panel's requests (control, setHyperparameters) go to
 *    LiveRun as OptimizerCommands.handle sends them;
 *  - the webview: the dashboard bundle (dist/webview) in headless Chromium as test/webview/harness.ts
 *    loads it, its WebviewPort bridged to the page: every batch the channel posts becomes the page's
 *    message event, and what the page posts (ready, its acknowledgement of each batch, requests)
 *    comes back to the channel, which keeps at most MAX_IN_FLIGHT batches unacknowledged. The posts
 *    travel over a loopback event stream from this process (the page's CSP lifted for it alone);
 *    `--via-cdp` sends them with page.evaluate as the webview tests do, a far costlier transport
 *    than VS Code's postMessage.
 * Resident memory (VmRSS from /proc) of the three processes is read when the run's record for each
 * checkpoint step reaches the host (100k, 500k and 1M steps), with the host's JS heap after a forced
 * GC (node --expose-gc) and the page's JS heap (and the renderer's RSS) after a CDP garbage collection. The host's RSS also holds
 * this benchmark's Playwright client and Node itself: it is reported raw and less its pre-run baseline.
 * At 90 % of the steps the dashboard's own controls are used, from the page (its Pause, Resume and
 * Stop buttons, its hyper-parameter form): the time from the click (or submit) to the message that
 * confirms it reaching the page, and the host's part of it (the request reaching the host to
 * LiveRun's event from the runner, the channel's coalescing, the delivery to the page). The run is
 * planned ten times as long and stopped with the dashboard's Stop once the last checkpoint is measured
 * and the controls are done (at about step 1,000,000 or later: no easier than 900,000); memory does not
 * depend on the plan.
 * Prints markdown tables to stdout (progress to stderr). Nothing here is a timed assertion: the
 * targets (flat after 100k steps, under 300 MB for the three together, controls within 200 ms) are
 * reported.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import type { CDPSession, Page } from 'playwright-core';
import { findOptimizer, resolveHyperparameters } from '../src/core/optim';
import type { Hyperparameters } from '../src/core/optim/optimizer';
import type { ScheduleSpec } from '../src/core/optim/schedules';
import { DEFAULT_TRAIN_OPTIONS, type TrainResult } from '../src/core/optim/train';
import { findBuiltin } from '../src/core/problems';
import { type DashboardRequest, type WebviewPort, WebviewChannel } from '../src/extension/dashboard/channel';
import { COMPACT_RETENTION, PANEL_RETENTION } from '../src/extension/dashboard/retained';
import { VSCODE_SETTINGS } from '../src/extension/describe';
import { LiveRun } from '../src/extension/live-run';
import type { PickedProblem } from '../src/extension/pickers';
import type { OptimizerRun } from '../src/protocol';
import { errorText } from '../src/report/errors';
import { formatRun } from '../src/report/runs';
import { optimizeSource } from '../src/runner/optimize';
import { DEFAULT_LIMITS, type RunnerLimits, workerPath } from '../src/runner/supervisor';
import type { HostBatch, HostToWebview, ResponseBody } from '../src/webview-protocol';
import { CHROMIUM, DashboardPage, DashboardServer, chromiumAvailable, launchChromium } from '../test/webview/harness';
import { formatCount, formatMs, median, table } from './report';

interface Options {
  steps: number;
  checkpoints: number[];
  latencyAt: number;
  transport: Transport;
  /** Steps planned: far more than the last checkpoint, so that the run is still going when Stop is measured after it (it always is stopped). */
  planned: number;
}

const MB = 1024 * 1024;
const TARGET_TOTAL_MB = 300;
const TARGET_LATENCY_MS = 200;
/** Flat: grows by less than this fraction from the first checkpoint to the last. */
const FLAT_TOLERANCE = 0.1;
/** Pause/resume pairs and lr edits at the latency step, for medians. */
const REPEATS = 5;
/** What the extension's settings give a live run (gradlens.* defaults), but the time limit: see LIMITS. */
const SURFACE_RESOLUTION = 64;
const CONSTANT: ScheduleSpec = { kind: 'constant' };
const TELEMETRY_EVERY = 1;
const SEED = 0;
/**
 * gradlens.timeoutSeconds limits a whole run (60 s by default, which a 1,000,000-step run with every
 * step recorded outlasts): raised here as a user running one would; memory as gradlens.memoryLimitMb.
 */
const LIMITS: RunnerLimits = { ...DEFAULT_LIMITS, timeoutSeconds: 3600 };
/** The lr values the hyper-parameter edits set, each different from the one before (Adam's default is 1e-3). */
const LR_EDITS = [9e-4, 8e-4, 7e-4, 6e-4, 5e-4];

function usage(): string {
  return [
    'Usage: node --expose-gc out/bench/live.js [--steps N | --quick]',
    '  --steps N  steps of the run (default 1,000,000); memory at N/10, N/2 and N, controls at 0.9 N',
    '  --quick    100,000 steps: memory at 10k, 50k and 100k, controls at 90k',
    '  --via-cdp  deliver the host\'s posts with page.evaluate (as the webview tests do) instead of an event stream',
    '',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  let steps = 1_000_000;
  let transport: Transport = 'stream';
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === '--quick') steps = 100_000;
    else if (arg === '--via-cdp') transport = 'cdp';
    else if (arg === '--steps' && Number.isInteger(Number(argv[k + 1])) && Number(argv[k + 1]) >= 10_000) steps = Number(argv[++k]);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    } else {
      process.stderr.write(`bench:live: bad argument ${arg}${arg === '--steps' ? ' (an integer of at least 10,000)' : ''} (try --help)\n`);
      process.exit(2);
    }
  }
  const checkpoints = [Math.round(steps / 10), Math.round(steps / 2), steps];
  return { steps, transport, checkpoints, latencyAt: Math.round(steps * 0.9), planned: 10 * steps };
}

const progress = (text: string) => process.stderr.write(`bench:live: ${text}\n`);
const mb = (bytes: number | null) => (bytes === null || !Number.isFinite(bytes) ? 'n/a' : `${(bytes / MB).toFixed(1)} MB`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const forceGc: (() => void) | null = typeof (globalThis as { gc?: () => void }).gc === 'function' ? (globalThis as unknown as { gc: () => void }).gc : null;

// ---------------------------------------------------------------- processes, from /proc

interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid: Number(entry), ppid, cmdline: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function descendants(root: number, all = processes()): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const walk = (pid: number) => {
    for (const child of all.filter((candidate) => candidate.ppid === pid)) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(root);
  return found;
}

/** Resident set size and its peak (VmHWM) in bytes, or null when the process is gone. */
function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: field('VmRSS'), peak: field('VmHWM') };
  } catch {
    return null;
  }
}

const rssOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (memoryOf(pid)?.rss ?? 0), 0);

/** CPU seconds (user + system) a process has used, or 0 when it is gone. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks (USER_HZ: 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Chromium's processes: those of this process's tree that run the browser's binary (playwright starts it as a child). */
function chromiumProcesses(): ProcessInfo[] {
  return descendants(process.pid).filter((entry) => /chrom/i.test(entry.cmdline.split(' ')[0]) || entry.cmdline.startsWith('/proc/self/exe --type='));
}

// ---------------------------------------------------------------- the webview: VS Code's postMessage both ways, bridged to the page

/**
 * How the host's posts reach the page. `stream`: a text/event-stream from this process over loopback,
 * each post dispatched by the page as a message event (the page's CSP would refuse the connection:
 * it is bypassed through CDP for this benchmark only). `cdp`: page.evaluate per post, as
 * test/webview/harness.ts delivers, which costs far more than VS Code's postMessage (the JSON travels
 * escaped inside a DevTools protocol message, through the browser process).
 */
type Transport = 'stream' | 'cdp';

/**
 * Installed before the dashboard's scripts on every load: forwards what the page posts to the host
 * (through the exposed binding, besides the harness's record of it), takes the host's posts from the
 * event stream, counts what arrives, and gives the benchmark the dashboard's own controls (its
 * buttons and hyper-parameter form) with the time from the click to the message that confirms it.
 */
function pageScript(streamUrl: string | null): string {
  return `(() => {
  const waiters = [];
  const counts = { batches: 0, records: 0, spanRecords: 0, spans: 0, lastStep: 0 };
  window.benchCounts = () => ({ ...counts });
  window.addEventListener('message', (event) => {
    const now = performance.now();
    const data = event.data;
    counts.batches++;
    for (const message of data && data.type === 'batch' ? data.messages : [data]) {
      if (!message) continue;
      if (message.type === 'records' && message.records.length) {
        counts.records += message.records.length;
        counts.lastStep = message.records[message.records.length - 1].step;
      }
      if (message.type === 'recordSpans' && message.spans.length) {
        for (const span of message.spans) counts.spanRecords += span.records;
        counts.records += message.spans.reduce((sum, span) => sum + span.records, 0);
        counts.spans += message.spans.length;
        counts.lastStep = message.spans[message.spans.length - 1].lastStep;
      }
      for (const waiter of waiters.slice()) {
        if (!waiter.match(message)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve({ ms: now - waiter.started, step: message.type === 'runEnded' ? message.finalStep : message.step });
      }
    }
  });
  const streamUrl = ${JSON.stringify(streamUrl)};
  if (streamUrl) {
    const source = new EventSource(streamUrl);
    source.onmessage = (event) => {
      const started = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(event.data) }));
      window.benchHandled(Number(event.lastEventId), performance.now() - started);
    };
  }
  const arrival = (match, started) => new Promise((resolve, reject) => {
    const waiter = { match, started, resolve };
    waiters.push(waiter);
    setTimeout(() => {
      const k = waiters.indexOf(waiter);
      if (k >= 0) {
        waiters.splice(k, 1);
        const status = document.querySelector('.toolbar .status');
        reject(new Error('no confirming message within 20 s (the dashboard says: ' + (status ? status.textContent : '') + ')'));
      }
    }, 20000);
  });
  const enabled = async (find, what) => {
    const until = performance.now() + 20000;
    for (;;) {
      const element = find();
      if (element && !element.disabled) return element;
      if (performance.now() > until) {
        const inputs = [...document.querySelectorAll('input, button')].map((input) => (input.id || input.getAttribute('aria-label') || input.textContent) + (input.disabled ? ' (disabled)' : ''));
        throw new Error(what + ' did not become enabled within 20 s (the page has ' + inputs.join(', ') + ')');
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const LABELS = { pause: 'Pause the run', resume: 'Resume the run', stop: 'Stop the run' };
  const CONFIRMS = {
    pause: (message) => message.type === 'runStatus' && message.paused === true,
    resume: (message) => message.type === 'runStatus' && message.paused === false,
    stop: (message) => message.type === 'runEnded',
  };
  window.benchControl = async (action) => {
    const button = await enabled(() => document.querySelector('button[aria-label="' + LABELS[action] + '"]'), LABELS[action]);
    const started = performance.now();
    const confirmed = arrival(CONFIRMS[action], started);
    button.click();
    return confirmed;
  };
  window.benchSetLr = async (lr) => {
    const input = await enabled(() => document.getElementById('hyper-lr'), 'the lr field');
    const details = input.closest('details');
    if (details) details.open = true;
    input.value = String(lr);
    const started = performance.now();
    const confirmed = arrival((message) => message.type === 'hyperparametersChanged' && message.values && message.values.lr === lr, started);
    input.form.requestSubmit();
    return confirmed;
  };
  let make;
  Object.defineProperty(window, 'acquireVsCodeApi', {
    configurable: true,
    get: () => make,
    set: (original) => {
      make = () => {
        const api = original();
        const post = api.postMessage.bind(api);
        api.postMessage = (message) => {
          post(message);
          window.gradlensToHost(JSON.stringify(message));
        };
        return api;
      };
    },
  });
})();`;
}

interface Confirmation {
  ms: number;
  step: number;
}

interface BenchWindow {
  benchCounts(): { batches: number; records: number; spanRecords: number; spans: number; lastStep: number };
  benchControl(action: 'pause' | 'resume' | 'stop'): Promise<Confirmation>;
  benchSetLr(lr: number): Promise<Confirmation>;
  benchBallast: unknown;
}

/** The page as a WebviewPort: the channel's posts become message events, the page's posts come back. */
class PageWebview implements WebviewPort {
  private listener: ((message: unknown) => void) | null = null;
  private readonly server = http.createServer((request, response) => this.serve(request, response));
  private stream: http.ServerResponse | null = null;
  /** Posts made before the page's event stream connected (the page says ready first). */
  private waiting: string[] = [];
  private readonly sent = new Map<number, { at: number; confirms: boolean; ahead: number }>();
  posts = 0;
  bytes = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** The most bytes this process held for the stream, unsent (the socket's buffer). */
  maxBuffered = 0;
  readies = 0;
  failures: string[] = [];
  /** Time the page spent in the message events (JSON.parse and the dashboard's handler), in all and the longest. */
  handlingMs = 0;
  longestHandlingMs = 0;
  /** Each post's time from postMessage to its message event handled in the page, in milliseconds. */
  readonly deliveries: number[] = [];
  /** Told when a batch that confirms a control (runStatus, hyperparametersChanged, runEnded) is posted and when it was handled. */
  onConfirmation: ((phase: 'posted' | 'delivered', post: number, ahead: number) => void) | null = null;

  constructor(
    private readonly page: Page,
    readonly transport: Transport,
  ) {}

  /** Before the page (re)loads: the way back, the page script and, for the stream, its server. */
  async connect(cdp: CDPSession): Promise<void> {
    let streamUrl: string | null = null;
    if (this.transport === 'stream') {
      await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
      streamUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
      // The dashboard's CSP (default-src 'none') refuses connections: lifted for the stream, nothing else changes.
      await cdp.send('Page.setBypassCSP', { enabled: true });
    }
    await this.page.exposeBinding('gradlensToHost', (_source, json: string) => {
      const message = JSON.parse(json) as { type?: string };
      if (message.type === 'ready') this.readies++;
      this.listener?.(message);
    });
    await this.page.exposeBinding('benchHandled', (_source, post: number, handling: number) => this.handled(post, handling));
    await this.page.addInitScript({ content: pageScript(streamUrl) });
  }

  close(): Promise<void> {
    this.stream?.end();
    return new Promise((resolve) => (this.transport === 'stream' ? this.server.close(() => resolve()) : resolve()));
  }

  postMessage(message: HostBatch): PromiseLike<boolean> {
    // Serialized when posted, as VS Code does; delivered as VS Code delivers it: a message event on the page's window.
    const json = JSON.stringify(message);
    const confirms = message.messages.some((entry) => entry.type === 'runStatus' || entry.type === 'hyperparametersChanged' || entry.type === 'runEnded');
    const ahead = this.inFlight;
    const post = this.posts++;
    if (confirms) this.onConfirmation?.('posted', post, ahead);
    this.sent.set(post, { at: performance.now(), confirms, ahead });
    this.bytes += json.length;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.transport === 'stream') {
      const event = `id: ${post}\ndata: ${json}\n\n`;
      if (!this.stream) {
        this.waiting.push(event);
        return Promise.resolve(true);
      }
      // Resolved once handed to the socket, as VS Code's postMessage resolves once the message is on its way.
      return new Promise((resolve) => {
        this.stream!.write(event, (error) => resolve(!error));
        this.maxBuffered = Math.max(this.maxBuffered, this.stream!.writableLength);
      });
    }
    return this.page
      .evaluate((text) => {
        const page = globalThis as unknown as { dispatchEvent(event: unknown): void; MessageEvent: new (type: string, init: { data: unknown }) => unknown };
        const started = performance.now();
        page.dispatchEvent(new page.MessageEvent('message', { data: JSON.parse(text) }));
        return performance.now() - started;
      }, json)
      .then(
        (handling) => {
          this.handled(post, handling);
          return true;
        },
        (error: unknown) => {
          this.failures.push(String(error));
          this.handled(post, 0);
          return false;
        },
      );
  }

  onDidReceiveMessage(listener: (message: unknown) => void): { dispose(): unknown } {
    this.listener = listener;
    return { dispose: () => (this.listener = null) };
  }

  private handled(post: number, handling: number): void {
    const sent = this.sent.get(post);
    if (!sent) return;
    this.sent.delete(post);
    this.inFlight--;
    this.deliveries.push(performance.now() - sent.at);
    this.handlingMs += handling;
    this.longestHandlingMs = Math.max(this.longestHandlingMs, handling);
    if (sent.confirms) this.onConfirmation?.('delivered', post, sent.ahead);
  }

  private serve(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (request.url !== '/events') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
    this.stream?.end();
    this.stream = response;
    for (const event of this.waiting.splice(0)) response.write(event);
  }
}

/** The renderer of the page: the one whose RSS grows when the page allocates 128 MB. */
async function findRenderer(page: Page, cdp: CDPSession): Promise<number> {
  const renderers = chromiumProcesses().filter((entry) => entry.cmdline.includes('--type=renderer') && !entry.cmdline.includes('--top-chrome-webui'));
  if (renderers.length === 1) return renderers[0].pid;
  const before = new Map(renderers.map((entry) => [entry.pid, memoryOf(entry.pid)?.rss ?? 0]));
  await page.evaluate((bytes) => {
    (globalThis as unknown as BenchWindow).benchBallast = new Uint8Array(bytes).fill(1);
  }, 128 * MB);
  const grown = renderers.map((entry) => ({ pid: entry.pid, by: (memoryOf(entry.pid)?.rss ?? 0) - before.get(entry.pid)! })).sort((a, b) => b.by - a.by);
  await page.evaluate(() => {
    (globalThis as unknown as BenchWindow).benchBallast = null;
  });
  await cdp.send('HeapProfiler.collectGarbage');
  if (!grown.length || grown[0].by < 64 * MB) throw new Error(`could not tell the page's renderer among ${renderers.map((entry) => entry.pid).join(', ')}`);
  return grown[0].pid;
}

async function pageHeapAfterGc(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
}

function hostHeapAfterGc(): number | null {
  if (!forceGc) return null;
  forceGc();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------- measurements

interface Snapshot {
  /** The step whose record triggered it (the host's latest). */
  step: number;
  worker: { rss: number; peak: number } | null;
  host: { rss: number; peak: number };
  renderer: { rss: number; peak: number } | null;
  /** Browser, GPU and utility processes of Chromium (not the webview's: for context). */
  chromiumOthers: number;
  hostHeap: number | null;
  pageHeap: number | null;
  /** The renderer's RSS right after the page's garbage collection (what it holds, less garbage not yet collected). */
  rendererAfterGc: number | null;
  /** Posts to the page not yet delivered, when the snapshot was taken. */
  inFlight: number;
}

interface Latency {
  action: string;
  /** Click (or submit) to the confirming message at the page. */
  page: number[];
  /** The request reaching the host to LiveRun's event from the runner. */
  host: number[];
  /** That event to the channel's post of the batch holding the confirmation (FLUSH_INTERVAL_MS coalescing). */
  coalesce: number[];
  /** That post to its delivery to the page, and the posts still on their way ahead of it. */
  delivery: number[];
  ahead: number[];
  steps: number[];
  note: string | null;
}

interface HostTimes {
  request: number | null;
  event: number | null;
  posted: number | null;
  delivered: number | null;
  ahead: number | null;
  post: number | null;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!chromiumAvailable()) {
    process.stderr.write(
      `bench:live: needs Chromium at ${CHROMIUM} (Debian: apt-get install chromium; another binary: GRADLENS_CHROMIUM=/path) and the dashboard bundle dist/webview/dashboard.js (npm run build)\n`,
    );
    process.exit(1);
  }
  if (!forceGc) progress('no global gc(): run node with --expose-gc for the host heap after GC (npm run bench:live does)');

  const [server, browser] = await Promise.all([new DashboardServer().start(), launchChromium()]);
  try {
    // The webview: the dashboard page, bridged, then reloaded so that its ready reaches the channel.
    const dashboard = await DashboardPage.open(browser, server);
    const page = dashboard.page;
    const cdp = await page.context().newCDPSession(page);
    const webview = new PageWebview(page, options.transport);
    await webview.connect(cdp);
    // The host: the panel's channel and the last-result view's (never shown: it retains only), as Dashboards.publish posts to both.
    const log = (message: string) => progress(`channel: ${message}`);
    const saveExport = async () => null;
    const panel = new WebviewChannel({ mode: 'panel', limits: PANEL_RETENTION, saveExport, log });
    const lastResult = new WebviewChannel({ mode: 'compact', limits: COMPACT_RETENTION, saveExport, log });
    panel.attach(webview);
    await dashboard.reload();
    while (webview.readies === 0) await sleep(10);
    const rendererPid = await findRenderer(page, cdp);
    const chromiumPids = () => chromiumProcesses().map((entry) => entry.pid).filter((pid) => pid !== rendererPid);

    // Before the run: the host's baseline (Node, Playwright's client, the modules, the empty channels) and the empty page.
    const baselineHeap = hostHeapAfterGc();
    const baseline: Snapshot = {
      step: 0,
      worker: null,
      host: memoryOf(process.pid)!,
      renderer: memoryOf(rendererPid),
      chromiumOthers: rssOf(chromiumPids()),
      hostHeap: baselineHeap,
      pageHeap: await pageHeapAfterGc(cdp),
      rendererAfterGc: memoryOf(rendererPid)?.rss ?? null,
      inFlight: 0,
    };
    progress(`before the run: host ${mb(baseline.host.rss)}, webview renderer (pid ${rendererPid}) ${mb(baseline.renderer?.rss ?? null)}, page heap ${mb(baseline.pageHeap)}`);

    // The run, as OptimizerCommands.start builds it.
    const builtin = findBuiltin('rosenbrock')!;
    const picked: PickedProblem = { source: { builtin: builtin.name, options: {} }, problem: null, label: builtin.name, builtin };
    const choice = findOptimizer('adam')!;
    const runs: OptimizerRun[] = [{ name: choice.name, hyperparameters: resolveHyperparameters(choice, {}) }];
    let nextId = 1;
    let lastProgressText = '';
    let trainedLog = '';
    const run = new LiveRun(picked, runs, null, null, CONSTANT, options.planned, (name) => `${nextId++}-${name}`, {
      broadcast: (message: HostToWebview) => {
        panel.post(message);
        lastResult.post(message);
      },
      progress: (text) => (lastProgressText = text),
      trained: (result: TrainResult) => (trainedLog = formatRun(result, picked.label, TELEMETRY_EVERY > 1, VSCODE_SETTINGS)),
      describeFailure: (result) => result.failure && errorText(result.failure.error, VSCODE_SETTINGS),
    });

    // The panel's requests, as OptimizerCommands.handle carries them out (only what this benchmark's page sends).
    const hostTimes: HostTimes = { request: null, event: null, posted: null, delivered: null, ahead: null, post: null };
    webview.onConfirmation = (phase, post, ahead) => {
      // The first confirming post after the runner's event is the one the page waits for.
      if (hostTimes.event === null) return;
      if (phase === 'posted' && hostTimes.posted === null) {
        hostTimes.posted = performance.now();
        hostTimes.ahead = ahead;
        hostTimes.post = post;
      } else if (phase === 'delivered' && post === hostTimes.post) {
        hostTimes.delivered = performance.now();
      }
    };
    panel.onRequest(async (request: DashboardRequest): Promise<ResponseBody | null> => {
      hostTimes.request = performance.now();
      if (request.type === 'control' && request.action !== 'restart') run.control(request.runId, request.action);
      else if (request.type === 'setHyperparameters') run.setHyperparameters(request.runId, request.values);
      else throw new Error(`${request.type} is not part of this benchmark`);
      return null;
    });

    const snapshots: Snapshot[] = [];
    const measuring: Promise<void>[] = [];
    const latencies = new Map<string, Latency>();
    let workerPid: number | null = null;
    let workerAtStart = null as { rss: number; peak: number } | null;
    let hostRecords = 0;
    let hostStep = 0;
    let nextCheckpoint = 0;
    let latencyPhase: Promise<void> | null = null;
    let stopPhase: Promise<void> | null = null;
    let ended = false;
    const cpuNow = () => ({
      worker: workerPid === null ? 0 : cpuSecondsOf(workerPid),
      host: cpuSecondsOf(process.pid),
      renderer: cpuSecondsOf(rendererPid),
      chromiumOthers: chromiumPids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0),
      wall: performance.now() / 1000,
    });
    let cpuAtStart = cpuNow();
    let cpuAtEnd: ReturnType<typeof cpuNow> | null = null;
    const loadAtStart = os.loadavg()[0];
    const started = performance.now();
    let lastReport = 0;
    const markEvent = () => {
      if (hostTimes.request !== null && hostTimes.event === null) hostTimes.event = performance.now();
    };

    const latency = (action: string): Latency => {
      let entry = latencies.get(action);
      if (!entry) latencies.set(action, (entry = { action, page: [], host: [], coalesce: [], delivery: [], ahead: [], steps: [], note: null }));
      return entry;
    };
    /** One control from the page: its confirmation's time at the page, and the host's part. */
    const act = async (action: string, perform: () => Promise<Confirmation>) => {
      Object.assign(hostTimes, { request: null, event: null, posted: null, delivered: null, ahead: null, post: null });
      const confirmed = await perform();
      // The page may answer before the delivery of the batch that confirmed it is reported back.
      for (let k = 0; k < 100 && hostTimes.posted !== null && hostTimes.delivered === null; k++) await sleep(10);
      const entry = latency(action);
      entry.page.push(confirmed.ms);
      const { request, event, posted, delivered, ahead } = hostTimes;
      if (request !== null && event !== null) entry.host.push(event - request);
      if (event !== null && posted !== null) entry.coalesce.push(posted - event);
      if (posted !== null && delivered !== null) entry.delivery.push(delivered - posted);
      if (ahead !== null) entry.ahead.push(ahead);
      entry.steps.push(confirmed.step);
    };
    const control = (action: 'pause' | 'resume' | 'stop') => () => page.evaluate((name) => (globalThis as unknown as BenchWindow).benchControl(name), action);

    const snapshot = (): Snapshot => {
      const workerPids = workerPid === null ? [] : [workerPid, ...descendants(workerPid).map((entry) => entry.pid)];
      const worker = workerPid === null ? null : memoryOf(workerPid);
      return {
        step: hostStep,
        // The runner and anything it started (a Python interpreter: none for a built-in).
        worker: worker && { rss: rssOf(workerPids), peak: worker.peak },
        host: memoryOf(process.pid)!,
        renderer: memoryOf(rendererPid),
        chromiumOthers: rssOf(chromiumPids()),
        hostHeap: null,
        pageHeap: null,
        rendererAfterGc: null,
        inFlight: webview.inFlight,
      };
    };

    const stop = async () => {
      // Its failure is reported with its own promise.
      await latencyPhase?.catch(() => undefined);
      await Promise.all(measuring);
      if (ended) {
        latency('stop → runEnded').note = 'the run reached its planned steps first';
        return;
      }
      progress(`stop at step ${formatCount(hostStep)}`);
      try {
        await act('stop → runEnded', control('stop'));
      } finally {
        // Stop failed: end the request as the extension would on cancelling its job.
        if (!ended) run.close();
      }
    };

    const events = run.events((text) => process.stderr.write(text));
    const wrapped: typeof events = {
      ...events,
      onControlChannel: (post) => {
        events.onControlChannel?.(post);
        // The runner process is forked by now: this process's child running dist/worker.js.
        const worker = processes().find((entry) => entry.ppid === process.pid && entry.cmdline.includes(workerPath()));
        workerPid = worker?.pid ?? null;
        if (workerPid === null) progress('could not find the runner process');
        cpuAtStart = cpuNow();
      },
      onRecords: (name, records) => {
        events.onRecords?.(name, records);
        hostRecords += records.length;
        hostStep = records[records.length - 1].step;
        if (hostStep - lastReport >= options.steps / 20) {
          lastReport = hostStep;
          const now = snapshot();
          const rate = hostStep / ((performance.now() - started) / 1000);
          progress(
            `step ${formatCount(hostStep)} (${formatCount(Math.round(rate))} steps/s): worker ${mb(now.worker?.rss ?? null)}, host ${mb(now.host.rss)}, webview ${mb(now.renderer?.rss ?? null)}, posts in flight ${now.inFlight}`,
          );
        }
        while (nextCheckpoint < options.checkpoints.length && hostStep >= options.checkpoints[nextCheckpoint]) {
          // Resident sizes at once, as the record arrives; then the heaps after GC (the page's a moment later: the run goes on).
          const taken = snapshot();
          taken.hostHeap = hostHeapAfterGc();
          snapshots.push(taken);
          measuring.push(
            pageHeapAfterGc(cdp).then((bytes) => {
              taken.pageHeap = bytes;
              taken.rendererAfterGc = memoryOf(rendererPid)?.rss ?? null;
            }),
          );
          const usage = process.memoryUsage();
          progress(
            `checkpoint ${formatCount(options.checkpoints[nextCheckpoint])} (step ${formatCount(hostStep)}): worker ${mb(taken.worker?.rss ?? null)}, host ${mb(taken.host.rss)} ` +
              `(V8 heap ${mb(usage.heapTotal)} reserved, ${mb(taken.hostHeap)} used after GC, external ${mb(usage.external)}), webview ${mb(taken.renderer?.rss ?? null)}`,
          );
          nextCheckpoint++;
          if (nextCheckpoint === options.checkpoints.length) {
            cpuAtEnd = cpuNow();
            stopPhase = stop();
          }
        }
        if (latencyPhase === null && hostStep >= options.latencyAt) {
          progress(`controls from the dashboard at step ${formatCount(hostStep)}`);
          latencyPhase = (async () => {
            for (let k = 0; k < REPEATS; k++) {
              await act('pause → paused', control('pause'));
              await sleep(100);
              await act('resume → running', control('resume'));
              await sleep(250);
            }
            for (const lr of LR_EDITS) {
              await act('lr edit → hyperparametersChanged', () => page.evaluate((value) => (globalThis as unknown as BenchWindow).benchSetLr(value), lr));
              await sleep(250);
            }
          })();
        }
      },
      onRunStarted: (message) => {
        events.onRunStarted?.(message);
        // The runner's own baseline: started, the problem loaded and the surface sent, no step taken.
        if (workerPid !== null) workerAtStart = memoryOf(workerPid);
      },
      onPaused: (name, step) => {
        markEvent();
        events.onPaused?.(name, step);
      },
      onResumed: (name) => {
        markEvent();
        events.onResumed?.(name);
      },
      onHyperparametersChanged: (name, step, values: Hyperparameters) => {
        markEvent();
        events.onHyperparametersChanged?.(name, step, values);
      },
      onTrained: (result) => {
        markEvent();
        ended = true;
        events.onTrained?.(result);
      },
    };

    progress(`running Adam on rosenbrock: ${formatCount(options.planned)} steps planned, memory at ${options.checkpoints.map(formatCount).join(', ')}, controls at ${formatCount(options.latencyAt)}`);
    const outcome = await optimizeSource(
      {
        source: picked.source,
        problem: picked.problem,
        runs,
        train: { ...DEFAULT_TRAIN_OPTIONS, steps: options.planned, every: TELEMETRY_EVERY, seed: SEED, recordParams: true, schedule: CONSTANT },
        start: null,
        surface: { resolution: SURFACE_RESOLUTION },
      },
      LIMITS,
      wrapped,
    ).finally(() => run.close());
    const seconds = (performance.now() - started) / 1000;
    // The phases may fail (a control that never confirmed): reported, after the run.
    const phaseErrors: string[] = [];
    for (const phase of [latencyPhase, stopPhase, Promise.all(measuring)]) {
      await Promise.resolve(phase).catch((error: unknown) => phaseErrors.push(error instanceof Error ? error.message : String(error)));
    }
    // Let the last posts reach the page.
    await sleep(200);
    for (let k = 0; k < 3000 && webview.inFlight > 0; k++) await sleep(20);
    await dashboard.idle();
    const pageCounts = await page.evaluate(() => (globalThis as unknown as BenchWindow).benchCounts());
    const [pageTable] = await dashboard.tables();
    const result = outcome.results[0];

    // ------------------------------------------------------------ report
    const version = browser.version();
    const labels = options.checkpoints.map((step) => formatCount(step));
    const first = snapshots[0];
    const last = snapshots[snapshots.length - 1];
    const growth = (value: (shot: Snapshot) => number | null) => {
      if (!first || !last || snapshots.length < options.checkpoints.length) return 'n/a';
      const from = value(first);
      const to = value(last);
      if (from === null || to === null) return 'n/a';
      const delta = to - from;
      return `${delta >= 0 ? '+' : ''}${(delta / MB).toFixed(1)} MB (${delta >= 0 ? '+' : ''}${((100 * delta) / from).toFixed(1)} %)`;
    };
    const isFlat = (value: (shot: Snapshot) => number | null) => {
      const from = first && value(first);
      const to = last && value(last);
      return from && to ? (to - from) / from < FLAT_TOLERANCE : null;
    };
    const worker = (shot: Snapshot) => shot.worker?.rss ?? null;
    const host = (shot: Snapshot) => shot.host.rss;
    const hostLessBaseline = (shot: Snapshot) => shot.host.rss - baseline.host.rss;
    const renderer = (shot: Snapshot) => shot.renderer?.rss ?? null;
    const sum = (hostPart: (shot: Snapshot) => number) => (shot: Snapshot) => {
      const parts = [worker(shot), hostPart(shot), renderer(shot)];
      return parts.every((part) => part !== null) ? (parts as number[]).reduce((a, b) => a + b, 0) : null;
    };
    const lessBaselines = (shot: Snapshot) => {
      const total = sum(host)(shot);
      return total === null || workerAtStart === null || baseline.renderer === null ? null : total - workerAtStart.rss - baseline.host.rss - baseline.renderer.rss;
    };
    const peak = (value: (shot: Snapshot) => number | null) => mb(Math.max(...snapshots.map((shot) => value(shot) ?? NaN)));
    const row = (name: string, value: (shot: Snapshot) => number | null, before: number | null, peakText: string) => [
      name,
      mb(before),
      ...options.checkpoints.map((_, k) => mb(snapshots[k] ? value(snapshots[k]) : null)),
      growth(value),
      peakText,
    ];
    const memoryRows = [
      row('worker: runner process RSS (before the run: at its start)', worker, workerAtStart?.rss ?? null, peak((shot) => shot.worker?.peak ?? null)),
      row('host: this Node process RSS (raw: with Playwright\'s client)', host, baseline.host.rss, peak((shot) => shot.host.peak)),
      row('host: RSS less the pre-run baseline', hostLessBaseline, 0, ''),
      row('host: JS heap used after GC', (shot) => shot.hostHeap, baseline.hostHeap, ''),
      row('webview: the page\'s renderer RSS', renderer, baseline.renderer?.rss ?? null, peak((shot) => shot.renderer?.peak ?? null)),
      row('webview: the page\'s JS heap after GC', (shot) => shot.pageHeap, baseline.pageHeap, ''),
      row('webview: the renderer RSS right after that GC', (shot) => shot.rendererAfterGc, baseline.rendererAfterGc, ''),
      row('**sum: worker + host raw + renderer**', sum(host), null, ''),
      row('sum: worker + host less baseline + renderer', sum(hostLessBaseline), null, ''),
      row('sum less each process\'s before-the-run RSS (what the run added)', lessBaselines, 0, ''),
      row('Chromium\'s other processes (browser, GPU, utility; not counted)', (shot) => shot.chromiumOthers, baseline.chromiumOthers, ''),
    ];
    const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'met' : 'not met');
    const totalAtEnd = last ? sum(host)(last) : null;
    const totalLessBaseline = last ? sum(hostLessBaseline)(last) : null;
    const targetRows = [
      [`flat after ${labels[0]} steps (grows under ${FLAT_TOLERANCE * 100} % to ${labels[labels.length - 1]}): worker / host / webview / sum`, [isFlat(worker), isFlat(host), isFlat(renderer), isFlat(sum(host))].map(verdict).join(' / ')],
      [`under ${TARGET_TOTAL_MB} MB for the three together at ${labels[labels.length - 1]} (host raw / less its baseline)`, `${verdict(totalAtEnd === null ? null : totalAtEnd < TARGET_TOTAL_MB * MB)} (${mb(totalAtEnd)}) / ${verdict(totalLessBaseline === null ? null : totalLessBaseline < TARGET_TOTAL_MB * MB)} (${mb(totalLessBaseline)})`],
    ];

    const spread = (values: number[]) => (values.length ? `${formatMs(median(values))} / ${formatMs(Math.max(...values))}` : 'n/a');
    const latencyRows = [...latencies.values()].map((entry) => {
      const worst = entry.page.length ? Math.max(...entry.page) : NaN;
      return [
        entry.action,
        String(entry.page.length),
        entry.steps.length ? `${formatCount(Math.min(...entry.steps))}–${formatCount(Math.max(...entry.steps))}` : 'n/a',
        entry.page.length ? spread(entry.page) : (entry.note ?? 'n/a'),
        spread(entry.host),
        spread(entry.coalesce),
        entry.delivery.length ? `${spread(entry.delivery)} (${Math.max(...entry.ahead)})` : 'n/a',
        entry.page.length ? `${verdict(median(entry.page) < TARGET_LATENCY_MS)} / ${verdict(worst < TARGET_LATENCY_MS)}` : 'n/a',
      ];
    });

    const runRows = [
      ['steps run (planned)', `${formatCount(result?.final.step ?? hostStep)} (${formatCount(options.planned)}), ${result?.stopped ?? outcome.error?.message ?? 'no result'}`],
      ['wall time, steps per second', `${seconds.toFixed(1)} s, ${formatCount(Math.round(hostStep / seconds))}`],
      [
        'records: to the host / to the page (of them in spans, spans) / the page\'s table',
        `${formatCount(hostRecords)} / ${formatCount(pageCounts.records)} (${formatCount(pageCounts.spanRecords)}, ${formatCount(pageCounts.spans)}) / ${formatCount(pageTable?.records ?? 0)} (${formatCount(pageTable?.entries ?? 0)} entries of ${formatCount(pageTable?.span ?? 0)})`,
      ],
      [
        `posts to the page (${options.transport === 'stream' ? 'event stream' : 'page.evaluate'}): count, MB of JSON, most not yet handled${options.transport === 'stream' ? ', most bytes buffered by the host' : ''}`,
        `${formatCount(webview.posts)}, ${(webview.bytes / MB).toFixed(0)} MB, ${webview.maxInFlight}${options.transport === 'stream' ? `, ${mb(webview.maxBuffered)}` : ''}`,
      ],
      ['a post\'s time to the page (postMessage → handled), median / p95 / max', webview.deliveries.length ? [0.5, 0.95, 1].map((q) => formatMs(quantile(webview.deliveries, q))).join(' / ') + ' ms' : 'n/a'],
      ['measured at steps (the host\'s latest record)', snapshots.map((shot) => formatCount(shot.step)).join(', ')],
      ['page: time in the message events (parse + dashboard), in all / longest', `${(webview.handlingMs / 1000).toFixed(1)} s / ${formatMs(webview.longestHandlingMs)} ms`],
      [
        'CPU seconds to the last checkpoint (share of wall time): worker / host / renderer / other Chromium',
        cpuAtEnd
          ? (['worker', 'host', 'renderer', 'chromiumOthers'] as const)
              .map((name) => {
                const used = cpuAtEnd![name] - cpuAtStart[name];
                return `${used.toFixed(1)} (${((100 * used) / (cpuAtEnd!.wall - cpuAtStart.wall)).toFixed(0)} %)`;
              })
              .join(' / ')
          : 'n/a',
      ],
      ['load average (1 min) at the start / the end, cores', `${loadAtStart.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}, ${os.availableParallelism()}`],
    ];

    process.stdout.write(
      `\nGradLens live-run benchmark: Adam on builtin:rosenbrock, every step recorded (telemetry every ${TELEMETRY_EVERY}, parameters, 64×64 surface), ` +
        `worker through optimizeSource + LiveRun + WebviewChannel (PANEL_RETENTION) in Node ${process.version}, the dashboard in headless Chromium ${version} (posts ${options.transport === 'stream' ? 'over an event stream' : 'by page.evaluate'}); ${os.availableParallelism()}-core machine\n\n` +
        `Resident memory (VmRSS) when the record of each step reached the host\n\n` +
        `${table(['process', 'before the run', ...labels.map((label) => `at ${label}`), `${labels[0]} → ${labels[labels.length - 1]}`, 'peak (VmHWM)'], memoryRows, ['l', 'r', ...labels.map(() => 'r' as const), 'r', 'r'])}\n\n` +
        `${table(['target', 'result'], targetRows, ['l', 'l'])}\n\n` +
        `Controls from the dashboard's page at step ${formatCount(options.latencyAt)} and after (target: within ${TARGET_LATENCY_MS} ms)\n\n` +
        `${table(
          ['control → confirming message', 'n', 'at steps', 'page: click → message', 'host: request → runner event', 'event → channel post', 'post → page (posts ahead)', `under ${TARGET_LATENCY_MS} ms: median / max`],
          latencyRows,
          ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
        )}\n(milliseconds, median / max; the page's clock for the first column, the host's for the others)\n\n` +
        `${table(['run', ''], runRows, ['l', 'l'])}\n`,
    );
    const problems = [...dashboard.problems, ...webview.failures.map((failure) => `post failed: ${failure}`), ...phaseErrors];
    if (outcome.error && !outcome.cancelled) problems.push(`the run ended with an error: ${outcome.error.message}`);
    if (pageCounts.records !== hostRecords) problems.push(`the page received ${pageCounts.records} records, the host ${hostRecords}`);
    if (problems.length) process.stderr.write(`bench:live: problems:\n${problems.join('\n')}\n`);
    if (trainedLog === '' || lastProgressText === '') process.stderr.write('bench:live: the run reported no end or no progress\n');
    panel.dispose();
    lastResult.dispose();
    await webview.close();
    await dashboard.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:live: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
