/**
 * A chart card: title, PNG button and a Chart.js line chart fed with
 * decimated points on every redraw (`update('none')`, no animation).
 */
import { Chart, type ChartDataset } from 'chart.js';
import { type EntrySeries, type Point, type Reduction, type XAxis, type XRange, decimateEnvelope, decimateMinMax } from '../model/decimate';
import { BASE_OPTIONS, type ChartMarker, numberLabel, setOptions, stepLabel, themeChart, thinLogTicks } from './charts';
import { button, cardHeader, h } from './dom';
import { formatNumber } from './format';
import { type Palette, withAlpha } from './theme';
import type { Tooltip } from './tooltip';

export interface LineSeries {
  /** Stable across redraws (the dataset and its point buffer are reused). */
  key: string;
  label: string;
  color: string;
  source: EntrySeries;
  /** 'minmax' for telemetry; a reduction for the lines of a quantile band (aligned x). */
  reduction: 'minmax' | Reduction;
  dashed?: boolean;
  /** Raw values drawn faintly under their smoothed line. */
  faint?: boolean;
  /** Fill the area down to the previous series (quantile bands), at this opacity. */
  fillToPrevious?: number;
  inLegend?: boolean;
}

export interface ChartFrame {
  series: LineSeries[];
  xAxis: XAxis;
  logY: boolean;
  markers: ChartMarker[];
}

type LineDataset = ChartDataset<'line', Point[]>;

/** Tick labels measured to lay out an axis. */
const TICK_SAMPLE = 8;

/** Without a layout yet (a hidden tab), decimate for a typical width. */
const DEFAULT_BUCKETS = 800;

/** How a zoomable chart is zoomed and panned (chartjs-plugin-zoom), said in its reset button's tooltip. */
export const ZOOM_HELP = 'Drag to zoom into steps, Ctrl+wheel or pinch to zoom, Shift+drag to pan; double-click or Reset to see the whole run';

/** Narrowest x range a zoom may show (steps or seconds). */
const MIN_ZOOM_RANGE = 4;

export class LineChartCard {
  readonly element: HTMLElement;
  readonly chart: Chart<'line', Point[]>;
  private readonly datasets = new Map<string, LineDataset>();
  private xAxis: XAxis = 'step';
  private applied: { xAxis: XAxis; logY: boolean; limits: string; markers: string; palette: Palette } | null = null;
  /** The x range zoomed into; null: the whole series. */
  private zoomed: XRange | null = null;
  private readonly resetButton: HTMLButtonElement | null = null;
  /** After a zoom, pan or reset: takes the new range and tells the owner. */
  private readonly afterZoom: () => void;

  constructor(
    readonly title: string,
    tooltip: Tooltip,
    onSavePng: (card: LineChartCard) => void,
    options: { legend?: boolean; className?: string; onZoom?: (card: LineChartCard, range: XRange | null) => void } = {},
  ) {
    const canvas = h('canvas', { role: 'img', 'aria-label': `${title}: no data yet` });
    const header = cardHeader(title, `the ${title} chart`, () => onSavePng(this));
    const onZoom = options.onZoom;
    if (onZoom) {
      this.resetButton = button('Reset zoom', `Reset the zoom of the ${title} chart. ${ZOOM_HELP}`, () => this.resetZoom(), 'icon-button zoom-reset');
      this.resetButton.hidden = true;
      header.insertBefore(this.resetButton, header.lastChild);
      canvas.title = ZOOM_HELP;
      canvas.addEventListener('dblclick', () => this.resetZoom());
    }
    this.element = h(
      'section',
      { class: `card ${options.className ?? ''}`.trim(), 'aria-label': title },
      header,
      h('div', { class: 'chart-box' }, canvas),
    );
    this.afterZoom = () => {
      const { min, max } = this.chart.scales.x;
      this.zoomed = this.chart.isZoomedOrPanned() ? { min, max } : null;
      if (this.resetButton) this.resetButton.hidden = this.zoomed === null;
      onZoom?.(this, this.zoomed);
    };
    this.chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...BASE_OPTIONS,
        spanGaps: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: { point: { radius: 0, hoverRadius: 3 }, line: { borderWidth: 1.5, tension: 0 } },
        // Labels sized from a sample of ticks and never rotated, log ticks thinned: laying out the axes,
        // not drawing the points, is most of a redraw's cost (bench/webview.ts).
        scales: {
          x: { type: 'linear', ticks: { maxTicksLimit: 7, maxRotation: 0, sampleSize: TICK_SAMPLE, callback: numberLabel }, title: { display: true, text: 'step' } },
          // Log ticks are thinned already (thinLogTicks), linear ones limited: none need skipping.
          y: { type: 'linear', afterBuildTicks: thinLogTicks, ticks: { maxTicksLimit: 6, autoSkip: false, sampleSize: TICK_SAMPLE, callback: numberLabel } },
        },
        plugins: {
          legend: {
            display: options.legend ?? false,
            position: 'bottom',
            labels: { boxWidth: 12, boxHeight: 2, filter: (item, data) => (data.datasets[item.datasetIndex ?? 0] as { inLegend?: boolean }).inLegend !== false },
          },
          tooltip: {
            enabled: false,
            external: tooltip.external,
            callbacks: {
              title: (items) => (items.length ? (this.xAxis === 'step' ? `step ${Math.round(items[0].parsed.x ?? 0)}` : `${formatNumber(items[0].parsed.x ?? 0)} s`) : ''),
              label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y ?? NaN)}`,
            },
          },
          markers: { markers: [] },
          themeBackground: { color: '' },
          zoom: onZoom
            ? {
                limits: { x: { minRange: MIN_ZOOM_RANGE } },
                pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: this.afterZoom },
                zoom: {
                  mode: 'x',
                  // Ctrl: a plain wheel scrolls the dashboard (a trackpad pinch arrives as Ctrl+wheel).
                  wheel: { enabled: true, modifierKey: 'ctrl' },
                  drag: { enabled: true, threshold: 5 },
                  pinch: { enabled: true },
                  onZoomComplete: this.afterZoom,
                },
              }
            : undefined,
        },
      },
    });
  }

  /** The x range zoomed into, or null. */
  get zoomRange(): XRange | null {
    return this.zoomed;
  }

  /** Zooms to an x range (the tests; the plugin's own gestures end in the same callback). */
  zoomTo(range: XRange): void {
    this.chart.zoomScale('x', range, 'none');
    this.afterZoom();
  }

  resetZoom(): void {
    if (this.zoomed === null && !this.chart.isZoomedOrPanned()) return;
    this.chart.resetZoom('none');
  }

  /** Decimates every series for the current width and redraws once. */
  render(frame: ChartFrame, palette: Palette): void {
    this.xAxis = frame.xAxis;
    const buckets = Math.round(this.chart.chartArea?.width || DEFAULT_BUCKETS);
    const range = this.zoomed;
    const used = new Set<string>();
    const datasets = frame.series.map((series) => {
      used.add(series.key);
      const dataset = this.datasets.get(series.key) ?? this.createDataset(series.key);
      dataset.label = series.faint ? `${series.label} (raw)` : series.label;
      dataset.borderColor = series.faint ? withAlpha(series.color, 0.3) : series.color;
      dataset.backgroundColor = withAlpha(series.color, series.fillToPrevious ?? 0.3);
      dataset.borderDash = series.dashed ? [5, 3] : [];
      dataset.borderWidth = series.faint ? 1 : 1.5;
      dataset.fill = series.fillToPrevious === undefined ? false : '-1';
      (dataset as { inLegend?: boolean }).inLegend = series.inLegend ?? !series.faint;
      dataset.data = series.reduction === 'minmax'
        ? decimateMinMax(series.source, buckets, dataset.data, range)
        : decimateEnvelope(series.source, buckets, series.reduction, dataset.data, range);
      return dataset;
    });
    for (const key of this.datasets.keys()) if (!used.has(key)) this.datasets.delete(key);
    this.applyOptions(frame, palette, valueLimits(datasets, frame.logY, range));
    this.chart.data.datasets = datasets;
    this.chart.update('none');
    this.describe(frame);
  }

  /**
   * Writes the options that changed since the last render. Only those: every
   * write through Chart.js's option proxies drops its resolved-option caches,
   * which would make each streamed frame re-resolve every option.
   */
  private applyOptions(frame: ChartFrame, palette: Palette, limits: { min: number | undefined; max: number | undefined }): void {
    const options = this.chart.options;
    const x = options.scales!.x!;
    const y = options.scales!.y!;
    const wanted = {
      xAxis: frame.xAxis,
      logY: frame.logY,
      limits: `${limits.min}|${limits.max}`,
      markers: JSON.stringify(frame.markers),
      palette,
    };
    const last = this.applied;
    if (wanted.xAxis !== last?.xAxis) {
      // Steps zoomed into are no range of seconds.
      if (last && this.zoomed) this.resetZoom();
      x.title = { display: true, text: frame.xAxis === 'step' ? 'step' : 'seconds' };
      setOptions(x as unknown as Record<string, unknown>, 'ticks', { callback: frame.xAxis === 'step' ? stepLabel : numberLabel });
    }
    if (wanted.logY !== last?.logY) y.type = frame.logY ? 'logarithmic' : 'linear';
    if (wanted.limits !== last?.limits) Object.assign(y, limits);
    if (wanted.markers !== last?.markers || palette !== last?.palette) {
      options.plugins!.markers = { markers: frame.markers, font: `${Chart.defaults.font.size ?? 11}px ${palette.fontFamily}` };
    }
    if (palette !== last?.palette) themeChart(this.chart, palette);
    this.applied = wanted;
  }

  /** Points drawn per dataset (for tests and the benchmark). */
  pointCounts(): { label: string; points: number }[] {
    return this.chart.data.datasets.map((dataset) => ({ label: String(dataset.label), points: dataset.data.length }));
  }

  toPng(): string {
    return this.chart.toBase64Image('image/png', 1).replace(/^data:image\/png;base64,/, '');
  }

  private createDataset(key: string): LineDataset {
    const dataset: LineDataset = { label: key, data: [], pointRadius: 0 };
    this.datasets.set(key, dataset);
    return dataset;
  }

  /** The latest value of each line, for screen readers. */
  private describe(frame: ChartFrame): void {
    const latest = frame.series
      .filter((series) => !series.faint && series.source.length > 0)
      .map((series) => `${series.label} ${formatNumber(series.source.mean(series.source.length - 1))}`);
    const label = `${this.title}: ${latest.length ? latest.join(', ') : 'no data yet'}`;
    if (this.chart.canvas.getAttribute('aria-label') !== label) this.chart.canvas.setAttribute('aria-label', label);
  }
}

/** Relative spread below which a series counts as flat. */
const FLAT = 1e-9;

/**
 * Explicit y limits where Chart.js's own mislead (zoomed in: of the points in view): a log axis starts at the
 * smallest positive value (a zero, drawn on the bottom edge, would otherwise
 * pull the axis up to a decade below the top), and a flat series gets room
 * around it instead of a magnified view of its rounding noise.
 */
function valueLimits(datasets: LineDataset[], log: boolean, range: XRange | null): { min: number | undefined; max: number | undefined } {
  let low = Infinity;
  let high = -Infinity;
  let lowPositive = Infinity;
  for (const dataset of datasets) {
    for (const { x, y } of dataset.data) {
      // Zoomed in: the y axis fits what is in view, not the neighbours drawn to the edges.
      if (!Number.isFinite(y) || (range && (x < range.min || x > range.max))) continue;
      if (y < low) low = y;
      if (y > high) high = y;
      if (y > 0 && y < lowPositive) lowPositive = y;
    }
  }
  const flat = high - low <= FLAT * Math.max(Math.abs(low), Math.abs(high));
  if (log) {
    if (lowPositive === Infinity) return { min: undefined, max: undefined };
    if (flat) return { min: lowPositive / 2, max: high * 2 };
    return { min: low > 0 ? undefined : lowPositive, max: undefined };
  }
  if (low > high || !flat) return { min: undefined, max: undefined };
  const room = Math.abs(high) * 0.1 || 1;
  return { min: low - room, max: high + room };
}
