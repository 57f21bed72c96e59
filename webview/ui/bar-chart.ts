/** A bar chart card: element values of small vectors, histograms, eigenvalue spectra. */
import { Chart } from 'chart.js';
import type { Point } from '../model/decimate';
import { BASE_OPTIONS, numberLabel, setOptions, themeChart, thinLogTicks } from './charts';
import { cardHeader, h } from './dom';
import type { Palette } from './theme';
import type { Tooltip } from './tooltip';

export interface BarData {
  labels: string[];
  values: number[];
  colors: string[];
  /** Tooltip lines of bar i: a title, then details. */
  describe(i: number): string[];
  logY?: boolean;
  /** Tick labels of the value axis when the values are transformed (a signed log scale), ticks `valueStep` apart, over `valueRange`. */
  valueLabel?: (value: number) => string;
  valueStep?: number;
  valueRange?: [number, number];
  xTitle?: string;
  yTitle?: string;
}

export class BarChartCard {
  readonly element: HTMLElement;
  readonly chart: Chart<'bar', Point[], string>;
  private readonly caption = h('p', { class: 'muted caption' });
  private data: BarData | null = null;

  constructor(title: string, tooltip: Tooltip, onSavePng: (base64: string) => void) {
    const canvas = h('canvas', { role: 'img', 'aria-label': title });
    this.element = h(
      'section',
      { class: 'card', 'aria-label': title },
      cardHeader(title, `the ${title} chart`, () => onSavePng(this.toPng())),
      h('div', { class: 'chart-box' }, canvas),
      this.caption,
    );
    this.chart = new Chart<'bar', Point[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ data: [], borderWidth: 0 }] },
      options: {
        ...BASE_OPTIONS,
        scales: {
          x: { type: 'category', ticks: { autoSkip: true, maxRotation: 0 } },
          y: { type: 'linear', afterBuildTicks: thinLogTicks, ticks: { maxTicksLimit: 6, callback: (value) => this.valueLabel(Number(value)) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            enabled: false,
            external: tooltip.external,
            callbacks: {
              title: (items) => (items.length ? (this.data?.describe(items[0].dataIndex)[0] ?? '') : ''),
              label: (item) => this.data?.describe(item.dataIndex).slice(1) ?? [],
            },
          },
          themeBackground: { color: '' },
        },
      },
    });
  }

  render(data: BarData, palette: Palette, caption = ''): void {
    this.data = data;
    this.chart.data.labels = data.labels;
    const dataset = this.chart.data.datasets[0];
    dataset.data = data.values.map((value, i) => ({ x: i, y: value }));
    dataset.backgroundColor = data.colors;
    const { x, y } = this.chart.options.scales!;
    y!.type = data.logY ? 'logarithmic' : 'linear';
    setOptions(y as unknown as Record<string, unknown>, 'ticks', { stepSize: data.valueStep });
    Object.assign(y!, { min: data.valueRange?.[0], max: data.valueRange?.[1] });
    x!.title = { display: Boolean(data.xTitle), text: data.xTitle ?? '' };
    y!.title = { display: Boolean(data.yTitle), text: data.yTitle ?? '' };
    themeChart(this.chart, palette);
    this.chart.update('none');
    this.caption.textContent = caption;
  }

  toPng(): string {
    return this.chart.toBase64Image('image/png', 1).replace(/^data:image\/png;base64,/, '');
  }

  private valueLabel(value: number): string {
    if (this.data?.valueLabel) return this.data.valueLabel(value);
    return numberLabel(value);
  }
}
