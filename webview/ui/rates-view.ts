/**
 * Per-dimension effective learning rates of adaptive optimizers, live: the
 * quantile band over steps (from each record's Summary) for a tensor or all
 * parameters, and the rates of every element at the latest step: a heatmap
 * for matrices, bars for small vectors, a histogram for large tensors.
 * Element values come with every record for the run's detail tensor; any
 * other tensor's are asked for (requestEffectiveLr) and refreshed while the
 * run goes.
 */
import type { Summary } from '../../src/core/optim/telemetry';
import { summarize } from '../../src/core/optim/telemetry';
import { formatElement, unravelIndex } from '../../src/core/tensor';
import type { TensorShape } from '../../src/webview-protocol';
import { Changed } from '../model/dashboard-model';
import { columnSeries } from '../model/decimate';
import { ALL_PARAMETERS, type ElementRates, QUANTILES, type RunModel, metric } from '../model/run';
import { BarChartCard } from './bar-chart';
import { type View, type ViewContext } from './context';
import { button, h, replaceChildren } from './dom';
import { formatNumber } from './format';
import { HeatmapCard, gridFor } from './heatmap';
import { LineChartCard, type LineSeries } from './line-chart';
import { exportFileName } from '../export';

/** Vectors up to this long get a bar per element. */
const MAX_BARS = 64;
/** Requested element rates are refreshed at most this often while the run goes. */
const REFRESH_MS = 1000;

export class RatesView implements View {
  readonly element: HTMLElement;
  readonly band: LineChartCard;
  readonly heatmap: HeatmapCard;
  readonly bars: BarChartCard;
  private readonly scope = h('select', { id: 'rate-scope' });
  private readonly note = h('p', { class: 'note' });
  private readonly elementsNote = h('p', { class: 'muted' });
  private readonly loadButton: HTMLButtonElement;
  private readonly requested = new Map<string, { at: number; inFlight: boolean }>();
  private shownScopes = '';

  constructor(private readonly context: ViewContext) {
    const save = (name: string) => (base64: string) => context.savePng(exportFileName([name], 'png'), base64);
    this.band = new LineChartCard('Effective learning rate over steps', context.tooltip, (card) => save('effective-lr-band')(card.toPng()), { legend: true });
    this.heatmap = new HeatmapCard('Effective learning rate per element', context.tooltip, save('effective-lr-heatmap'));
    this.bars = new BarChartCard('Effective learning rates', context.tooltip, save('effective-lr'));
    this.loadButton = button('Show every element', 'Ask for the effective learning rate of every element of this tensor', () => this.request(true));
    this.scope.addEventListener('change', () => {
      context.settings.rateScope = this.scope.value;
      context.invalidate(Changed.elements | Changed.series);
    });
    this.element = h(
      'div',
      { class: 'rates-view' },
      h('div', { class: 'options' }, h('label', { for: 'rate-scope' }, 'tensor'), this.scope, h('span', { class: 'spacer' }), this.loadButton),
      this.note,
      h('div', { class: 'chart-grid' }, this.band.element, this.heatmap.element, this.bars.element),
      this.elementsNote,
    );
  }

  render(changed: number): void {
    if (!(changed & (Changed.runs | Changed.series | Changed.elements))) return;
    const run = this.context.model.focusedRun;
    const palette = this.context.palette();
    const adaptive = run?.meta.adaptive ?? false;
    this.note.textContent = !run
      ? 'No run yet.'
      : adaptive
        ? `${run.meta.optimizer}: each parameter has its own effective learning rate (the step it takes per unit of gradient).`
        : `${run.meta.optimizer} has no per-dimension learning rates: every parameter moves with the learning rate (see the Optimizer tab).`;
    for (const part of [this.band.element, this.heatmap.element, this.bars.element, this.loadButton, this.elementsNote]) part.hidden = !adaptive;
    if (!run || !adaptive) return;
    const scope = this.syncScopes(run);
    const colors = { band: palette.blue, median: palette.foreground };
    const band: LineSeries[] = QUANTILES.map((quantile, q) => ({
      key: `${run.meta.runId}|${scope}|${quantile}`,
      label: quantile === 'median' ? 'median' : quantile === 'min' || quantile === 'max' ? 'min … max' : 'q25 … q75',
      color: quantile === 'median' ? colors.median : colors.band,
      source: columnSeries(run.table, metric.rate(scope, quantile), this.context.settings.xAxis),
      reduction: quantile === 'min' ? 'min' : quantile === 'max' ? 'max' : 'mean',
      inLegend: q !== 0 && q !== 1,
    }));
    // Draw order: min, max (filled down to min), q25, q75 (filled down to q25), median on top.
    const [min, q25, median, q75, max] = band;
    this.band.render(
      { series: [min, { ...max, fillToPrevious: 0.15 }, q25, { ...q75, fillToPrevious: 0.35 }, median], xAxis: this.context.settings.xAxis, logY: true, markers: [] },
      palette,
    );
    this.renderElements(run, scope);
  }

  /** The scope options of the run; returns the selected one. */
  private syncScopes(run: RunModel): string {
    const scopes = run.rateScopes;
    const key = `${run.meta.runId}|${scopes.join(',')}`;
    if (key !== this.shownScopes) {
      this.shownScopes = key;
      replaceChildren(
        this.scope,
        ...scopes.map((scope) => {
          const tensor = run.meta.tensors.find((candidate) => candidate.name === scope);
          return h('option', { value: scope }, tensor ? `${tensor.name} [${tensor.shape.join('×') || 'scalar'}]` : 'all parameters');
        }),
      );
    }
    const wanted = this.context.settings.rateScope;
    const scope = wanted !== null && scopes.includes(wanted) ? wanted : scopes[0];
    this.scope.value = scope;
    return scope;
  }

  private renderElements(run: RunModel, scope: string): void {
    const palette = this.context.palette();
    const tensor = run.meta.tensors.find((candidate) => candidate.name === scope) ?? null;
    const rates = tensor ? run.elementRates.get(tensor.name) ?? null : null;
    this.loadButton.hidden = tensor === null || rates?.source === 'live';
    this.loadButton.textContent = rates ? 'Refresh elements' : 'Show every element';
    if (rates && run.status === 'running' && rates.source === 'requested') this.request(false);
    // Matrices (and higher ranks) as heatmaps; vectors get bars or a histogram.
    const grid = tensor && rates && tensor.shape.length >= 2 ? gridFor(tensor.shape) : null;
    if (tensor && rates && grid) {
      this.bars.element.hidden = true;
      this.heatmap.render({
        ...grid,
        values: rates.values,
        describe: (flat) => describeRate(tensor, rates, flat),
        legend: `${tensor.name} at step ${rates.step} (${rates.source}), log colour scale`,
      }, palette);
      this.elementsNote.textContent = '';
      return;
    }
    this.heatmap.render(null, palette);
    this.bars.element.hidden = false;
    if (tensor && rates && rates.values.length <= MAX_BARS) {
      const names = Array.from({ length: rates.values.length }, (_, flat) => elementName(tensor, flat));
      this.bars.render({
        labels: names,
        values: Array.from(rates.values),
        colors: names.map(() => palette.blue),
        describe: (i) => describeRate(tensor, rates, i),
        logY: true,
        yTitle: 'effective lr',
      }, palette, `${tensor.name} at step ${rates.step} (${rates.source})`);
      this.elementsNote.textContent = '';
      return;
    }
    // Large tensors, or no element values yet: the histogram of the rates.
    const summary: Summary | null = rates ? summarize(rates.values) : (run.latest?.byScope[scope] ?? null);
    const step = rates?.step ?? run.latest?.step ?? 0;
    if (!summary) {
      this.bars.element.hidden = true;
      this.elementsNote.textContent = 'No effective learning rates recorded yet.';
      return;
    }
    const { edges, counts, sampled } = summary.histogram;
    this.bars.render({
      labels: counts.map((_, k) => formatNumber(Math.sqrt(Math.abs(edges[k] * edges[k + 1])) || edges[k])),
      values: counts,
      colors: counts.map(() => palette.blue),
      describe: (k) => [`${formatNumber(edges[k])} … ${formatNumber(edges[k + 1])}`, `${counts[k]} of ${sampled} elements${rates ? '' : ' (sampled)'}`],
      xTitle: 'effective lr',
      yTitle: 'elements',
    }, palette, `Histogram at step ${step}: median ${formatNumber(summary.median)}, quartiles ${formatNumber(summary.q25)} … ${formatNumber(summary.q75)}, range ${formatNumber(summary.min)} … ${formatNumber(summary.max)}`);
    this.elementsNote.textContent = tensor && !rates ? `Hover shows element names once every element is loaded (${this.loadButton.textContent}).` : '';
  }

  /** Asks for the focused tensor's rates: now (the button), or when the last answer is old enough (live refresh). */
  private request(now: boolean): void {
    const run = this.context.model.focusedRun;
    const tensor = this.scope.value;
    if (!run || !tensor || tensor === ALL_PARAMETERS) return;
    const key = `${run.meta.runId}|${tensor}`;
    const last = this.requested.get(key);
    if (last?.inFlight || (!now && last && performance.now() - last.at < REFRESH_MS)) return;
    const entry = { at: performance.now(), inFlight: true };
    this.requested.set(key, entry);
    void this.context.host.request({ type: 'requestEffectiveLr', runId: run.meta.runId, tensor }).then((response) => {
      entry.inFlight = false;
      if (response.error) this.context.announce(`Effective learning rates of ${tensor}: ${response.error}`, 'error');
      else if (response.body?.kind === 'effectiveLr') this.context.invalidate(this.context.model.receiveRates(response.body));
    });
  }
}

function elementName(tensor: TensorShape, flat: number): string {
  return formatElement(tensor.name, unravelIndex(flat, tensor.shape));
}

function describeRate(tensor: TensorShape, rates: ElementRates, flat: number): string[] {
  const lines = [elementName(tensor, flat), `effective lr ${formatNumber(rates.values[flat])}`];
  if (rates.grad) lines.push(`gradient ${formatNumber(rates.grad[flat])}`);
  if (rates.accumulator) lines.push(`accumulator ${formatNumber(rates.accumulator[flat])}`);
  lines.push(`step ${rates.step}`);
  return lines;
}
