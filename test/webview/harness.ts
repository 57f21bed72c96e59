/**
 * The dashboard bundle (dist/webview) in headless Chromium, the way VS Code
 * shows it: the page built by the extension's own dashboardHtml (same CSP,
 * nonce and script tags), VS Code's theme variables, and a fake
 * acquireVsCodeApi that records what the page posts and keeps its saved
 * state across reloads. Host messages are delivered as message events.
 * Shared by the tests and bench/webview.ts.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { dashboardHtml } from '../../src/extension/dashboard/html';
import type { HostBatch, HostToWebview, WebviewToHost } from '../../src/webview-protocol';
import { type DashboardProbe, type DrawnSeries, PROBE_GLOBAL } from '../../webview/probe';

export const ROOT = path.resolve(__dirname, '../../..');
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
export const CHROMIUM = process.env.GRADLENS_CHROMIUM ?? '/usr/bin/chromium';
const BUNDLE = path.join(ROOT, 'dist', 'webview');
const PAGE_FILES = path.join(ROOT, 'test', 'webview', 'page');
const NONCE = 'dGVzdC1ub25jZS0xMjM0NQ==';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM) && fs.existsSync(path.join(BUNDLE, 'dashboard.js'));
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'] });
}

/** Serves the test page, the bundle and the fake VS Code files on 127.0.0.1. */
export class DashboardServer {
  private readonly server = http.createServer((request, response) => this.serve(request.url ?? '/', response));
  origin = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The extension's page, with the theme variables and the fake API that VS Code would provide. */
  pageHtml(): string {
    const html = dashboardHtml({
      cspSource: this.origin,
      scriptUri: `${this.origin}/dist/webview/dashboard.js`,
      styleUri: `${this.origin}/dist/webview/dashboard.css`,
      nonce: NONCE,
      title: 'GradLens Dashboard',
      testProbe: true,
    });
    return html
      .replace('</head>', `<link rel="stylesheet" href="${this.origin}/page/vscode-theme.css">\n</head>`)
      .replace('<script nonce=', `<script nonce="${NONCE}" src="${this.origin}/page/fake-vscode-api.js"></script>\n<script nonce=`);
  }

  private serve(url: string, response: http.ServerResponse): void {
    const pathname = new URL(url, this.origin).pathname;
    const file = pathname.startsWith('/dist/webview/')
      ? path.join(BUNDLE, path.basename(pathname))
      : pathname.startsWith('/page/')
        ? path.join(PAGE_FILES, path.basename(pathname))
        : null;
    if (pathname === '/favicon.ico') {
      // A webview has none; answering keeps the console free of 404s.
      response.writeHead(204).end();
    } else if (pathname === '/') {
      response.writeHead(200, { 'content-type': TYPES['.html'] }).end(this.pageHtml());
    } else if (file && fs.existsSync(file)) {
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
    } else {
      response.writeHead(404).end();
    }
  }
}

type ProbeWindow = Record<string, DashboardProbe> & { gradlensPosted: WebviewToHost[]; gradlensStateSaves: number };

/** One dashboard page: deliver host messages, read what it posted and drew. */
export class DashboardPage {
  /** Uncaught errors, console errors and CSP violations of the page. */
  readonly problems: string[] = [];
  /** Numbers the batches delivered, as the host's channel does. */
  private sequence = 0;

  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    private readonly url: string,
  ) {
    page.on('pageerror', (error) => this.problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') this.problems.push(`console ${message.type()}: ${message.text()}`);
    });
  }

  static async open(browser: Browser, server: DashboardServer, viewport = { width: 1200, height: 900 }): Promise<DashboardPage> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const dashboard = new DashboardPage(await context.newPage(), context, `${server.origin}/`);
    await dashboard.load();
    return dashboard;
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  /** Delivers host messages as one batch (as the host posts them) and waits until they are drawn. */
  async deliver(messages: HostToWebview[]): Promise<void> {
    const batch: HostBatch = { type: 'batch', sequence: ++this.sequence, messages };
    // As JSON text: Playwright's own serialization of large arguments is far slower.
    await this.page.evaluate((json) => {
      // As VS Code delivers a host message: a message event on the page's window.
      const page = globalThis as unknown as { dispatchEvent(event: unknown): void; MessageEvent: new (type: string, init: { data: unknown }) => unknown };
      page.dispatchEvent(new page.MessageEvent('message', { data: JSON.parse(json) }));
    }, JSON.stringify(batch));
    await this.idle();
  }

  /** Delivers each message as its own event, all within one task (as a burst of host posts), and waits until drawn. */
  async deliverBurst(messages: HostToWebview[]): Promise<void> {
    await this.page.evaluate((json) => {
      const page = globalThis as unknown as { dispatchEvent(event: unknown): void; MessageEvent: new (type: string, init: { data: unknown }) => unknown };
      for (const data of JSON.parse(json) as unknown[]) page.dispatchEvent(new page.MessageEvent('message', { data }));
    }, JSON.stringify(messages));
    await this.idle();
  }

  idle(): Promise<void> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].idle(), PROBE_GLOBAL);
  }

  posted(): Promise<WebviewToHost[]> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).gradlensPosted);
  }

  lineCharts(): Promise<Record<string, DrawnSeries[]>> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].lineCharts(), PROBE_GLOBAL);
  }

  tables(): Promise<ReturnType<DashboardProbe['tables']>> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].tables(), PROBE_GLOBAL);
  }

  frames(): Promise<number> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].frames(), PROBE_GLOBAL);
  }

  frameTimes(count: number): Promise<number[]> {
    return this.page.evaluate(([name, latest]) => (globalThis as unknown as ProbeWindow)[name].frameTimes(latest), [PROBE_GLOBAL, count] as const);
  }

  redraw(): Promise<number> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].redraw(), PROBE_GLOBAL);
  }

  /** The points a line chart draws for a series with x in [min, max]. */
  pointsIn(chart: string, label: string, min: number, max: number): Promise<{ x: number; y: number }[]> {
    return this.page.evaluate(([name, title, series, low, high]) => (globalThis as unknown as ProbeWindow)[name].pointsIn(title, series, low, high), [PROBE_GLOBAL, chart, label, min, max] as const);
  }

  markers(): Promise<Record<string, string[]>> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].markers(), PROBE_GLOBAL);
  }

  heatmapCell(heatmap: string, element: string): Promise<{ x: number; y: number } | null> {
    return this.page.evaluate(([name, map, cell]) => (globalThis as unknown as ProbeWindow)[name].heatmapCell(map, cell), [PROBE_GLOBAL, heatmap, element] as const);
  }

  surfacePoint(x: number, y: number): Promise<{ x: number; y: number } | null> {
    return this.page.evaluate(([name, px, py]) => (globalThis as unknown as ProbeWindow)[name].surfacePoint(px, py), [PROBE_GLOBAL, x, y] as const);
  }

  surfacePaths(): Promise<{ label: string; points: number }[]> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].surfacePaths(), PROBE_GLOBAL);
  }

  chartTextColor(): Promise<string> {
    return this.page.evaluate((name) => (globalThis as unknown as ProbeWindow)[name].chartTextColor(), PROBE_GLOBAL);
  }

  stateSaves(): Promise<number> {
    return this.page.evaluate(() => (globalThis as unknown as ProbeWindow).gradlensStateSaves);
  }

  /** Switches VS Code's theme class on the body (and for later reloads). */
  async setTheme(theme: 'vscode-dark' | 'vscode-light' | 'vscode-high-contrast'): Promise<void> {
    await this.page.evaluate((name) => {
      const global = globalThis as unknown as { document: { body: { className: string } }; sessionStorage: { setItem(key: string, value: string): void } };
      global.document.body.className = name;
      global.sessionStorage.setItem('gradlens-theme', name);
    }, theme);
    await this.idle();
  }

  async clickTab(title: string): Promise<void> {
    await this.page.getByRole('tab', { name: title }).click();
    await this.idle();
  }

  /** Reloads the page as VS Code does after hiding it: same saved state, a fresh page that says ready again. */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.waitForProbe();
  }

  /** The whole page, or what is in view (`fullPage` false: a hover, where the page is scrolled). */
  async screenshot(name: string, fullPage = true): Promise<string> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage });
    return file;
  }

  private async load(): Promise<void> {
    await this.page.goto(this.url);
    await this.waitForProbe();
  }

  private async waitForProbe(): Promise<void> {
    await this.page.waitForFunction((name) => name in globalThis, PROBE_GLOBAL);
    await this.idle();
  }
}
