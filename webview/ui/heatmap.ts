/**
 * A heatmap card (chartjs-chart-matrix): one cell per tensor element, a log
 * colour scale with its bar, hover naming the element (`W[2,3]`), outlined
 * cells (kinks), and cells that can be clicked (the views pair every heatmap
 * with a table of real buttons for the keyboard).
 */
import { Chart, type Scale } from 'chart.js';
import type { MatrixDataPoint } from 'chartjs-chart-matrix';
import { BASE_OPTIONS, themeChart } from './charts';
import { LogScale, viridis, viridisGradient } from './colormap';
import { cardHeader, h } from './dom';
import { formatNumber } from './format';
import type { Palette } from './theme';
import type { Tooltip } from './tooltip';

export interface HeatmapData {
  rows: number;
  cols: number;
  /** Row-major; NaN where there is no value (drawn as an empty cell). */
  values: ArrayLike<number>;
  /** Tooltip lines of the element at a flat index: its name first. */
  describe(flat: number): string[];
  /** Outlined cells (kinks). */
  marked?: ReadonlySet<number>;
  /** What the colours mean, e.g. 'relative error (log scale)'. */
  legend: string;
  /** A fixed colour scale (relative errors); by default the values' own range. */
  scale?: LogScale;
}

interface Cell extends MatrixDataPoint {
  x: number;
  y: number;
  flat: number;
}

/** More cells than this are not drawn one by one (the views fall back to a histogram or a table). */
export const MAX_HEATMAP_CELLS = 16384;

/** Vectors longer than this wrap onto several rows. */
const ROW_LENGTH = 64;

/**
 * How a tensor is laid out as cells: matrices as they are, higher ranks with
 * their last axis as columns, vectors as a strip (wrapped when long; the
 * cells past the end stay empty). Null when there are too many cells.
 */
export function gridFor(shape: readonly number[]): { rows: number; cols: number } | null {
  const size = shape.reduce((product, extent) => product * extent, 1);
  if (size === 0 || size > MAX_HEATMAP_CELLS) return null;
  if (shape.length >= 2) return { rows: size / shape[shape.length - 1], cols: shape[shape.length - 1] };
  const cols = Math.min(size, ROW_LENGTH);
  return { rows: Math.ceil(size / cols), cols };
}

/** At most this many row or column numbers per axis. */
const MAX_INDEX_TICKS = 12;

/** Ticks at cell centres 0, k, 2k, … (the axes run from −0.5 to n − 0.5). */
function indexTicks(scale: Scale): void {
  const count = Math.round(scale.max + 0.5);
  const step = Math.ceil(count / MAX_INDEX_TICKS);
  scale.ticks = Array.from({ length: Math.ceil(count / step) }, (_, k) => ({ value: k * step }));
}

export class HeatmapCard {
  readonly element: HTMLElement;
  readonly chart: Chart<'matrix', Cell[]>;
  private readonly caption = h('p', { class: 'muted caption' });
  private readonly scaleBar = h('div', { class: 'color-bar' });
  private readonly scaleLow = h('span', { class: 'muted' });
  private readonly scaleHigh = h('span', { class: 'muted' });
  private data: HeatmapData | null = null;
  private scale: LogScale | null = null;
  private palette: Palette | null = null;

  constructor(
    title: string,
    tooltip: Tooltip,
    onSavePng: (base64: string) => void,
    private readonly onActivate: ((flat: number) => void) | null = null,
  ) {
    const canvas = h('canvas', { role: 'img', 'aria-label': title });
    this.element = h(
      'section',
      { class: 'card heatmap-card', 'aria-label': title },
      cardHeader(title, `the ${title} heatmap`, () => onSavePng(this.toPng())),
      h('div', { class: 'heatmap-box' }, canvas),
      h('div', { class: 'color-scale', 'aria-hidden': 'true' }, this.scaleLow, this.scaleBar, this.scaleHigh),
      this.caption,
    );
    const cellSize = (extent: 'width' | 'height', count: () => number) => ({ chart }: { chart: Chart }) => {
      const area = chart.chartArea;
      return area ? Math.max(1, area[extent] / Math.max(1, count()) - (count() > 64 ? 0 : 1)) : 0;
    };
    this.chart = new Chart<'matrix', Cell[]>(canvas, {
      type: 'matrix',
      data: {
        datasets: [{
          data: [],
          width: cellSize('width', () => this.data?.cols ?? 1),
          height: cellSize('height', () => this.data?.rows ?? 1),
          backgroundColor: ({ raw }) => this.color((raw as Cell | undefined)?.flat),
          borderColor: ({ raw }) => (this.data?.marked?.has((raw as Cell | undefined)?.flat ?? -1) ? (this.palette?.foreground ?? '#000') : 'transparent'),
          borderWidth: ({ raw }) => (this.data?.marked?.has((raw as Cell | undefined)?.flat ?? -1) ? 2 : 0),
        }],
      },
      options: {
        ...BASE_OPTIONS,
        scales: {
          x: { type: 'linear', offset: false, min: -0.5, max: 0.5, afterBuildTicks: indexTicks, grid: { display: false } },
          y: { type: 'linear', offset: false, reverse: true, min: -0.5, max: 0.5, afterBuildTicks: indexTicks, grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            enabled: false,
            external: tooltip.external,
            callbacks: {
              title: (items) => (items.length ? this.describe((items[0].raw as Cell).flat)[0] : ''),
              label: (item) => this.describe((item.raw as Cell).flat).slice(1),
            },
          },
          themeBackground: { color: '' },
        },
        onClick: (_event, elements) => {
          if (elements.length && this.onActivate) this.onActivate((this.chart.data.datasets[0].data[elements[0].index]).flat);
        },
      },
    });
  }

  render(data: HeatmapData | null, palette: Palette): void {
    this.data = data;
    this.palette = palette;
    this.element.hidden = data === null;
    if (!data) return;
    const count = data.rows * data.cols;
    this.scale = data.scale ?? LogScale.of(Array.from({ length: count }, (_, flat) => data.values[flat]));
    const cells: Cell[] = [];
    for (let flat = 0; flat < count; flat++) cells.push({ x: flat % data.cols, y: Math.floor(flat / data.cols), flat });
    this.chart.data.datasets[0].data = cells;
    const { x, y } = this.chart.options.scales!;
    Object.assign(x!, { max: data.cols - 0.5, display: data.cols > 1 });
    Object.assign(y!, { max: data.rows - 0.5, display: data.rows > 1 });
    themeChart(this.chart, palette);
    // Height follows the shape, within limits, so cells stay roughly square.
    const box = this.chart.canvas.parentElement!;
    box.style.height = `${Math.min(420, Math.max(56, 24 + Math.min(data.rows, 64) * Math.max(6, Math.min(28, 640 / Math.max(data.cols, data.rows)))))}px`;
    this.chart.update('none');
    this.scaleBar.style.backgroundImage = viridisGradient();
    this.scaleLow.textContent = this.scale ? formatNumber(this.scale.low) : '';
    this.scaleHigh.textContent = this.scale ? formatNumber(this.scale.high) : '';
    this.caption.textContent = this.scale ? data.legend : `${data.legend}: no positive values`;
  }

  /** Viewport centre of the cell of the element named `name`, scrolled into view (tests hover there), or null. */
  cellCenter(name: string): { x: number; y: number } | null {
    const count = this.data ? this.data.rows * this.data.cols : 0;
    let flat = 0;
    while (flat < count && this.describe(flat)[0] !== name) flat++;
    const element = this.chart.getDatasetMeta(0).data[flat] as unknown as { x: number; y: number; width: number; height: number } | undefined;
    if (flat === count || !element) return null;
    this.chart.canvas.scrollIntoView({ block: 'center' });
    const rect = this.chart.canvas.getBoundingClientRect();
    return { x: rect.left + element.x + element.width / 2, y: rect.top + element.y + element.height / 2 };
  }

  toPng(): string {
    return this.chart.toBase64Image('image/png', 1).replace(/^data:image\/png;base64,/, '');
  }

  private describe(flat: number): string[] {
    return this.data ? this.data.describe(flat) : [];
  }

  private color(flat: number | undefined): string {
    const value = flat === undefined || !this.data ? NaN : this.data.values[flat];
    if (!Number.isFinite(value) || !this.scale) return this.palette?.grid ?? 'transparent';
    return viridis(this.scale.position(value));
  }
}
