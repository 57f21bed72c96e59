/**
 * The dashboard: applies host messages to the model, redraws what changed
 * once per animation frame (however many messages arrived), and saves the
 * model and settings with setState (throttled, and when the page hides).
 */
import type { HostBatch, HostToWebview, RequestResponse } from '../../src/webview-protocol';
import type { HostConnection } from '../host';
import { Changed, type DashboardModel, type SavedDashboard } from '../model/dashboard-model';
import { TABS, type Settings, type TabId } from '../model/settings';
import type { DashboardProbe, DrawnSeries } from '../probe';
import { applyChartTheme } from './charts';
import { CheckView } from './check-view';
import { CompactView } from './compact-view';
import type { View, ViewContext } from './context';
import { CriticalView } from './critical-view';
import { h } from './dom';
import { type LineChartCard } from './line-chart';
import { OptimizerView } from './optimizer-view';
import { RatesView } from './rates-view';
import { SurfaceView } from './surface-view';
import { type Palette, readPalette, watchTheme } from './theme';
import { Toolbar } from './toolbar';
import { Tooltip } from './tooltip';

export interface SavedState {
  dashboard: SavedDashboard;
  settings: Settings;
}

/** setState at most this often while data streams (it copies the decimated series). */
const SAVE_INTERVAL_MS = 2000;
/** Drawing work per animation frame, leaving the rest of the 16 ms for the browser. */
const FRAME_BUDGET_MS = 10;

const TAB_TITLES: Record<TabId, string> = {
  optimizer: 'Optimizer',
  rates: 'Learning rates',
  surface: 'Loss surface',
  critical: 'Critical point',
  check: 'Gradient check',
};

export class App implements ViewContext {
  readonly tooltip = new Tooltip();
  private palette_: Palette;
  private readonly toolbar: Toolbar;
  private readonly tabs: Record<TabId, { view: View; button: HTMLButtonElement; panel: HTMLElement }>;
  private readonly compact: CompactView;
  private readonly optimizer: OptimizerView;
  private readonly rates: RatesView;
  private readonly surface: SurfaceView;
  private readonly check: CheckView;
  /** What each view has not drawn yet (views of hidden tabs catch up when shown). */
  private readonly dirty = new Map<View, number>();
  private frameRequested = false;
  private frameCount = 0;
  /** Views that stopped at a frame's deadline with work left. */
  private readonly unfinished = new Set<View>();
  /** Durations of the latest frames (a ring), for the benchmark. */
  private readonly frameTimes = new Float64Array(1024);
  private readonly drawnWaiters: (() => void)[] = [];
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly root: HTMLElement,
    readonly model: DashboardModel,
    readonly settings: Settings,
    readonly host: HostConnection,
  ) {
    this.palette_ = readPalette();
    applyChartTheme(this.palette_);
    this.toolbar = new Toolbar(this);
    this.optimizer = new OptimizerView(this);
    this.rates = new RatesView(this);
    this.surface = new SurfaceView(this);
    this.check = new CheckView(this);
    this.compact = new CompactView(this);
    const views: Record<TabId, View> = { optimizer: this.optimizer, rates: this.rates, surface: this.surface, critical: new CriticalView(this), check: this.check };
    this.tabs = Object.fromEntries(
      TABS.map((tab) => {
        const button = h('button', { type: 'button', role: 'tab', id: `tab-${tab}`, 'aria-controls': `panel-${tab}`, class: 'tab' }, TAB_TITLES[tab]);
        button.addEventListener('click', () => this.selectTab(tab));
        const panel = h('section', { role: 'tabpanel', id: `panel-${tab}`, 'aria-labelledby': `tab-${tab}`, class: 'tab-panel' }, views[tab].element);
        return [tab, { view: views[tab], button, panel }];
      }),
    ) as App['tabs'];
    const tabList = h('nav', { role: 'tablist', class: 'tabs', 'aria-label': 'Dashboard views' }, ...TABS.map((tab) => this.tabs[tab].button));
    tabList.addEventListener('keydown', (event) => this.tabKey(event));
    root.replaceChildren(
      h('div', { class: 'full-dashboard' }, this.toolbar.element, tabList, ...TABS.map((tab) => this.tabs[tab].panel)),
      h('div', { class: 'compact-dashboard' }, this.compact.element),
      this.tooltip.element,
    );
    root.removeAttribute('aria-busy');
    watchTheme((palette) => {
      this.palette_ = palette;
      applyChartTheme(palette);
      this.invalidate(Changed.all);
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.saveNow();
    });
    window.addEventListener('pagehide', () => this.saveNow());
    this.selectTab(settings.tab);
    this.invalidate(Changed.all);
  }

  palette(): Palette {
    return this.palette_;
  }

  /** A message (or batch of messages) from the host. */
  receive(data: HostBatch | HostToWebview): void {
    const messages = data.type === 'batch' ? data.messages : [data];
    let changed = 0;
    for (const message of messages) {
      if (message.type === 'response') this.host.settle(message);
      else changed |= this.model.apply(message);
    }
    if (changed) this.invalidate(changed);
  }

  invalidate(changed: number): void {
    for (const view of this.allViews()) this.dirty.set(view, (this.dirty.get(view) ?? 0) | changed);
    this.requestFrame();
    this.scheduleSave();
  }

  announce(text: string, kind: 'info' | 'error' = 'info'): void {
    this.toolbar.announce(text, kind);
  }

  savePng(fileName: string, base64: string): void {
    void this.host.request({ type: 'saveExport', fileName, content: { kind: 'png', base64 } }).then((response) => this.announceSaved(fileName, response));
  }

  announceSaved(fileName: string, response: RequestResponse): void {
    if (response.error) this.announce(`Could not save ${fileName}: ${response.error}`, 'error');
    else if (response.body?.kind === 'saved' && response.body.path) this.announce(`Saved ${response.body.path}`);
  }

  /** The introspection interface of probe.ts. */
  probe(): DashboardProbe {
    const lineCards: [string, LineChartCard][] = [
      ...this.optimizer.charts.map((chart): [string, LineChartCard] => [`optimizer/${chart.card.title}`, chart.card]),
      [`rates/${this.rates.band.title}`, this.rates.band],
      ['compact/Loss', this.compact.loss],
    ];
    const lineCard = (name: string): LineChartCard => {
      const found = lineCards.find(([title]) => title === name);
      if (!found) throw new Error(`no line chart ${name}`);
      return found[1];
    };
    return {
      lineCharts: () =>
        Object.fromEntries(
          lineCards.map(([name, card]) => [
            name,
            card.chart.data.datasets.map((dataset): DrawnSeries => {
              const ys = dataset.data.map((point) => point.y);
              return { label: String(dataset.label), color: String(dataset.borderColor), points: ys.length, min: Math.min(...ys), max: Math.max(...ys) };
            }),
          ]),
        ),
      tables: () =>
        [...this.model.runs.values()].map((run) => ({
          runId: run.meta.runId,
          records: run.table.recordCount,
          entries: run.table.length,
          span: run.table.span,
          trajectory: run.trajectory ? run.trajectory.length : null,
        })),
      frames: () => this.frameCount,
      // After queued tasks and the next animation frame (Chart.js handles pointer events in one), and any redraw.
      idle: () =>
        new Promise<void>((resolve) => setTimeout(() => requestAnimationFrame(() => (this.frameRequested ? this.drawnWaiters.push(resolve) : resolve())), 0)),
      redraw: () => {
        const started = performance.now();
        for (const view of this.visibleViews()) this.dirty.set(view, Changed.series);
        this.draw(Infinity);
        return performance.now() - started;
      },
      frameTimes: (count) => {
        const ring = this.frameTimes;
        const first = this.frameCount - Math.min(count, this.frameCount, ring.length);
        return Array.from({ length: this.frameCount - first }, (_, k) => ring[(first + k) % ring.length]);
      },
      markers: () => Object.fromEntries(lineCards.map(([name, card]) => [name, (card.chart.options.plugins?.markers?.markers ?? []).map((marker) => String(marker.label))])),
      heatmapCell: (heatmap, element) => {
        const card = heatmap === 'rates' ? this.rates.heatmap : this.check.heatmaps.get(heatmap.replace(/^check:/, ''));
        return card?.cellCenter(element) ?? null;
      },
      surfacePoint: (x, y) => this.surface.viewportPoint(x, y),
      surfacePaths: () => this.surface.pathLengths(),
      zoomRange: (chart) => lineCard(chart).zoomRange,
      zoomTo: (chart, min, max) => lineCard(chart).zoomTo({ min, max }),
      pointsIn: (chart, label, min, max) =>
        (lineCard(chart).chart.data.datasets.find((dataset) => dataset.label === label)?.data ?? []).filter((point) => point.x >= min && point.x <= max).map(({ x, y }) => ({ x, y })),
      chartTextColor: () => String((this.optimizer.charts[0].card.chart.scales.x.options as unknown as { ticks: { color: unknown } }).ticks.color),
    };
  }

  private allViews(): View[] {
    return [this.toolbar, this.compact, ...TABS.map((tab) => this.tabs[tab].view)];
  }

  private visibleViews(): View[] {
    return this.model.mode === 'compact' ? [this.compact] : [this.toolbar, this.tabs[this.settings.tab].view];
  }

  private requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => this.draw());
  }

  /**
   * Draws the visible views that have changes (hidden ones keep theirs for
   * later), within FRAME_BUDGET_MS unless a deadline is given: views that
   * stop at it are continued in the next frame.
   */
  private draw(deadline = performance.now() + FRAME_BUDGET_MS): void {
    const started = performance.now();
    this.frameRequested = false;
    this.root.classList.toggle('compact', this.model.mode === 'compact');
    for (const view of this.visibleViews()) {
      const changed = this.dirty.get(view) ?? 0;
      if (!changed && !this.unfinished.has(view)) continue;
      this.dirty.set(view, 0);
      if (view.render(changed, deadline) === false) this.unfinished.add(view);
      else this.unfinished.delete(view);
    }
    this.frameTimes[this.frameCount++ % this.frameTimes.length] = performance.now() - started;
    if (this.unfinished.size > 0) this.requestFrame();
    else for (const resolve of this.drawnWaiters.splice(0)) resolve();
  }

  private selectTab(tab: TabId): void {
    this.settings.tab = tab;
    for (const id of TABS) {
      const { button, panel } = this.tabs[id];
      const selected = id === tab;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      panel.hidden = !selected;
    }
    this.requestFrame();
    this.scheduleSave();
  }

  /** Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern). */
  private tabKey(event: KeyboardEvent): void {
    const index = TABS.indexOf(this.settings.tab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const tab = TABS[(next + TABS.length) % TABS.length];
    this.selectTab(tab);
    this.tabs[tab].button.focus();
  }

  private scheduleSave(): void {
    if (this.saveTimer !== null) return;
    this.saveTimer = setTimeout(() => this.saveNow(), SAVE_INTERVAL_MS);
  }

  private saveNow(): void {
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const state: SavedState = { dashboard: this.model.save(), settings: this.settings };
    this.host.saveState(state);
  }
}
