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
import { formatNumber } from './format';
import type { Palette } from './theme';

Chart.register(BarController, BarElement, CategoryScale, Filler, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, TooltipPlugin, MatrixController, MatrixElement);

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

export function applyChartTheme(palette: Palette): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = palette.fontFamily;
  Chart.defaults.font.size = Math.max(11, palette.fontSize - 1);
}

/**
 * Tick labels: every tick on linear axes. Log axes get ticks at many
 * multiples of 10ᵏ; beyond two decades only powers of ten are labelled,
 * beyond one 1, 2 and 5 × 10ᵏ, within one every one-digit multiple.
 */
export function tickLabel(this: Scale, value: number | string): string {
  const number = Number(value);
  if (this.type !== 'logarithmic') return formatNumber(number);
  const mantissa = Number((number / 10 ** Math.floor(Math.log10(number) + 1e-9)).toPrecision(6));
  const range = this.max / this.min;
  const labelled = range > 100 ? mantissa === 1 : range > 10 ? [1, 2, 5].includes(mantissa) : Number(mantissa.toPrecision(1)) === mantissa;
  return labelled ? formatNumber(number) : '';
}

/** Settings every chart shares (the quality bar: no animation, pre-parsed data, no Chart.js decimation). */
export const BASE_OPTIONS = {
  animation: false,
  parsing: false,
  normalized: true,
  responsive: true,
  maintainAspectRatio: false,
} as const;
