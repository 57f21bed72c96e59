/**
 * Chart.js, registered once with only what the dashboard uses (no
 * Decimation plugin: the dashboard decimates its own series) and settings
 * shared by every chart: no animation, pre-parsed sorted data, the theme's
 * font and colours, and two small plugins.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartType,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  type Plugin,
  PointElement,
  type Scale,
  Tooltip as TooltipPlugin,
} from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import zoomPlugin from 'chartjs-plugin-zoom';
import { formatNumber } from './format';
import type { Palette } from './theme';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, TooltipPlugin, MatrixController, MatrixElement, zoomPlugin);

/** A vertical line at x with a short label: a hyper-parameter change. */
export interface ChartMarker {
  x: number;
  label: string;
  color: string;
}

declare module 'chart.js' {
  // A merged declaration must repeat Chart.js's type parameter, used or not.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface PluginOptionsByType<TType extends ChartType> {
    markers?: { markers: ChartMarker[]; font?: string };
    themeBackground?: { color: string };
  }
}

/** Paints the editor background behind the chart, so exported PNGs look as on screen. */
const themeBackground: Plugin = {
  id: 'themeBackground',
  beforeDraw(chart, _args, options: { color?: string }) {
    if (!options.color) return;
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = options.color;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

const markers: Plugin = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, options: { markers?: ChartMarker[]; font?: string }) {
    const list = options.markers ?? [];
    if (list.length === 0) return;
    const { ctx, chartArea } = chart;
    const scale = chart.scales.x;
    ctx.save();
    ctx.font = options.font ?? '11px sans-serif';
    ctx.textBaseline = 'top';
    for (const marker of list) {
      const x = scale.getPixelForValue(marker.x);
      if (!(x >= chartArea.left && x <= chartArea.right)) continue;
      ctx.strokeStyle = marker.color;
      ctx.fillStyle = marker.color;
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      const width = ctx.measureText(marker.label).width;
      ctx.fillText(marker.label, x + 3 + width > chartArea.right ? x - 3 - width : x + 3, chartArea.top + 2);
    }
    ctx.restore();
  },
};

Chart.register(themeBackground, markers);

/**
 * The theme's colours on a chart's axes and legend. Set on every render:
 * Chart.js caches resolved scale options, so changing Chart.defaults alone
 * leaves the tick labels of existing charts in the old theme's colour.
 */
export function themeChart(chart: Chart, palette: Palette): void {
  const options = chart.options as unknown as { scales: Record<string, OptionGroup>; plugins: OptionGroup };
  for (const scale of Object.values(options.scales)) {
    setOptions(scale, 'ticks', { color: palette.foreground });
    setOptions(scale, 'grid', { color: palette.grid });
    setOptions(scale, 'border', { color: palette.grid });
    setOptions(scale, 'title', { color: palette.foreground });
  }
  setOptions(options.plugins, 'legend', {});
  setOptions(options.plugins.legend as OptionGroup, 'labels', { color: palette.foreground });
  setOptions(options.plugins, 'themeBackground', { color: palette.background });
}

type OptionGroup = Record<string, unknown>;

/**
 * Sets options of a group in place. Chart.js hands out its options as
 * resolving proxies: spreading one copies every default and internal key,
 * so existing groups are assigned into, never copied.
 */
export function setOptions(parent: OptionGroup, key: string, values: OptionGroup): void {
  const group = parent[key];
  if (group !== null && typeof group === 'object') Object.assign(group, values);
  else parent[key] = { ...values };
}

export function applyChartTheme(palette: Palette): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = palette.fontFamily;
  Chart.defaults.font.size = Math.max(11, palette.fontSize - 1);
}

/** At most this many ticks on a log axis. */
const MAX_LOG_TICKS = 8;

/**
 * Log axes keep only ticks worth a label (Chart.js makes one per 1..9 × 10ᵏ,
 * hundreds over many decades, and measures each): powers of ten when the
 * range spans more than two decades, else one-digit multiples of a power of
 * ten (0.3, not 0.37); then at most MAX_LOG_TICKS of them, evenly. Fewer
 * ticks is also most of what keeps a redraw cheap (bench/webview.ts).
 */
export function thinLogTicks(scale: Scale): void {
  if (scale.type !== 'logarithmic') return;
  const manyDecades = scale.max / scale.min > 100;
  const kept = scale.ticks.filter(({ value }) => {
    const mantissa = Number((value / 10 ** Math.floor(Math.log10(value) + 1e-9)).toPrecision(6));
    return manyDecades ? mantissa === 1 : Number(mantissa.toPrecision(1)) === mantissa;
  });
  const every = Math.ceil(kept.length / MAX_LOG_TICKS);
  scale.ticks = every > 1 ? kept.filter((_, k) => k % every === 0) : kept;
}

export function numberLabel(value: number | string): string {
  return formatNumber(Number(value));
}

/**
 * Step numbers on x axes: 2500, 40k, 1.5M, with as many digits as the tick
 * spacing needs (a zoom into steps 500,000–500,100 reads 500,020, not 500k).
 */
export function stepLabel(value: number | string, _index?: number, ticks?: readonly { value: number }[]): string {
  const step = Number(value);
  const magnitude = Math.abs(step);
  if (magnitude < 1e4) return String(Math.round(step));
  const [unit, suffix] = magnitude >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  const spacing = ticks && ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : 0;
  if (spacing <= 0) return `${Number((step / unit).toPrecision(3))}${suffix}`;
  const decimals = Math.max(0, Math.ceil(Math.log10(unit / spacing) - 1e-9));
  if (decimals > 2) return Math.round(step).toLocaleString('en-US');
  return `${Number((step / unit).toFixed(Math.max(decimals, magnitude >= 1e6 ? 1 : 0)))}${suffix}`;
}

/** Settings every chart shares (the quality bar: no animation, pre-parsed data, no Chart.js decimation). */
export const BASE_OPTIONS = {
  animation: false,
  parsing: false,
  normalized: true,
  responsive: true,
  maintainAspectRatio: false,
} as const;
