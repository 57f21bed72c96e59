/**
 * The live optimizer view: loss (batch and full), gradient norm, update
 * norm, update/parameter ratio per tensor and learning rate of the focused
 * run and the runs compared with it, with hyper-parameter changes marked.
 */
import type { Hyperparameters, HyperValue } from '../../src/core/optim/optimizer';
import { Changed } from '../model/dashboard-model';
import { type EntrySeries, type XAxis, type XRange, columnSeries, smoothedSeries } from '../model/decimate';
import { RECORD_RANGE_LIMIT } from '../../src/webview-protocol';
import { TABLE_CAPACITY } from '../model/metric-table';
import { MAX_SMOOTHING } from '../model/settings';
import { type RunModel, metric } from '../model/run';
import { exportFileName, telemetryCsv, telemetryJson } from '../export';
import type { ChartMarker } from './charts';
import { type View, type ViewContext, runColor, runLabel, shownRuns } from './context';
import { button, h, replaceChildren } from './dom';
import { formatNumber } from './format';
import { type LineSeries, LineChartCard } from './line-chart';

interface MetricChart {
  card: LineChartCard;
  series(run: RunModel, runs: RunModel[]): { name: string; label: string; color: string; dashed?: boolean }[];
}

export class OptimizerView implements View {
  readonly element: HTMLElement;
  readonly charts: MetricChart[];
  private readonly legend = h('div', { class: 'run-legend', role: 'group', 'aria-label': 'Runs shown' });
  private readonly empty = h('p', { class: 'note' }, 'No optimizer run yet. When one starts, its loss, gradient norm, update norm, update/parameter ratio and learning rate stream in here.');
  private readonly content: HTMLElement;
  private readonly hyperparameters: HyperparameterEditor;
  private readonly scratch = new Map<string, Float64Array>();
  /** requestRecords on their way: run id and range. */
  private readonly asking = new Set<string>();
  /** Charts with changes not drawn yet, oldest first. */
  private pending: MetricChart[] = [];

  constructor(private readonly context: ViewContext) {
    const card = (title: string, legend = false) =>
      new LineChartCard(title, context.tooltip, (chart) => context.savePng(exportFileName([chart.title], 'png'), chart.toPng()), {
        legend,
        onZoom: (zoomed, range) => this.zoomed(zoomed, range),
      });
    const perRun = (name: string) => (run: RunModel) => [{ name, label: runLabel(context, run), color: runColor(context, run) }];
    this.charts = [
      {
        card: card('Loss'),
        series: (run) => [
          { name: metric.loss, label: runLabel(context, run), color: runColor(context, run) },
          ...(run.separateFullLoss ? [{ name: metric.fullLoss, label: `${runLabel(context, run)} full loss`, color: runColor(context, run), dashed: true }] : []),
        ],
      },
      { card: card('Gradient norm'), series: perRun(metric.gradNorm) },
      { card: card('Update norm'), series: perRun(metric.updateNorm) },
      {
        card: card('Update / parameter ratio', true),
        // One run: a line per tensor; several: the overall ratio of each.
        series: (run, runs) =>
          runs.length === 1 && run.meta.tensors.length > 1
            ? [
                { name: metric.updateRatio, label: 'all parameters', color: context.palette().foreground, dashed: true },
                ...run.meta.tensors.map((tensor, t) => ({
                  name: metric.ratio(tensor.name),
                  label: tensor.name,
                  color: context.palette().series[t % context.palette().series.length],
                })),
              ]
            : [{ name: metric.updateRatio, label: runLabel(context, run), color: runColor(context, run) }],
      },
      { card: card('Learning rate'), series: perRun(metric.lr) },
    ];
    this.hyperparameters = new HyperparameterEditor(context);
    this.content = h(
      'div',
      {},
      this.options(),
      this.legend,
      this.hyperparameters.element,
      h('div', { class: 'chart-grid' }, ...this.charts.map((chart) => chart.card.element)),
    );
    this.element = h('div', { class: 'optimizer-view' }, this.empty, this.content);
  }

  /**
   * Charts are drawn in turn until the frame's deadline (at least one per
   * frame); the rest wait for the next frame (returns false), so a frame stays
   * short however many runs and charts there are.
   */
  render(changed: number, deadline: number): boolean {
    const anyRun = this.context.model.focusedRun !== null;
    this.empty.hidden = anyRun;
    this.content.hidden = !anyRun;
    if (!anyRun) return true;
    if (changed & (Changed.runs | Changed.markers)) {
      this.renderLegend();
      this.hyperparameters.render();
    }
    if (changed & (Changed.series | Changed.markers | Changed.runs)) {
      for (const chart of this.charts) if (!this.pending.includes(chart)) this.pending.push(chart);
    }
    const runs = shownRuns(this.context);
    const palette = this.context.palette();
    const { xAxis, logScale } = this.context.settings;
    const markers = runs.flatMap((run) => markersOf(run, runColor(this.context, run), xAxis));
    do {
      const chart = this.pending.shift();
      if (!chart) break;
      const series = runs.flatMap((run) => chart.series(run, runs).flatMap((spec) => this.lines(run, spec, xAxis, chart.card.zoomRange)));
      chart.card.render({ series, xAxis, logY: logScale, markers }, palette);
    } while (performance.now() < deadline);
    return this.pending.length === 0;
  }

  /** A metric as drawn: its values, or, with smoothing on, the faint raw values under the smoothed line. */
  private lines(run: RunModel, spec: { name: string; label: string; color: string; dashed?: boolean }, xAxis: XAxis, range: XRange | null): LineSeries[] {
    const key = `${run.meta.runId}|${spec.name}`;
    // Zoomed into steps the table merges: the host's records of the range, every one.
    const zoomTable = range && xAxis === 'step' ? run.zoomTableFor(range.min, range.max) : null;
    const raw: EntrySeries = columnSeries(zoomTable ?? run.table, spec.name, xAxis);
    const line = { label: spec.label, color: spec.color, dashed: spec.dashed, reduction: 'minmax' as const };
    const weight = this.context.settings.smoothing;
    if (weight <= 0) return [{ ...line, key, source: raw }];
    let scratch = this.scratch.get(key);
    if (!scratch || scratch.length < raw.length) this.scratch.set(key, (scratch = new Float64Array(Math.max(TABLE_CAPACITY, raw.length))));
    return [
      { ...line, key: `${key}|raw`, source: raw, faint: true },
      { ...line, key, source: smoothedSeries(raw, weight, scratch) },
    ];
  }

  /**
   * A chart was zoomed or panned: it is redrawn for its new range, and the
   * runs whose table merges records there ask the host for every record of
   * the range (with some room around it, so a small pan needs no new request).
   */
  private zoomed(card: LineChartCard, range: XRange | null): void {
    this.pending = [...this.pending.filter((chart) => chart.card !== card), ...this.charts.filter((chart) => chart.card === card)];
    this.context.invalidate(Changed.series);
    if (!range || this.context.settings.xAxis !== 'step') return;
    for (const run of shownRuns(this.context)) {
      const fromStep = Math.max(0, Math.floor(range.min));
      const toStep = Math.ceil(range.max);
      if (run.zoomTableFor(fromStep, toStep)) continue;
      const exact = run.recordsIn(fromStep, toStep);
      if (exact.full || exact.records > RECORD_RANGE_LIMIT) continue;
      const room = Math.ceil((toStep - fromStep) / 2);
      const wide = run.recordsIn(Math.max(0, fromStep - room), toStep + room);
      const asked = wide.records <= RECORD_RANGE_LIMIT ? { fromStep: Math.max(0, fromStep - room), toStep: toStep + room } : { fromStep, toStep };
      const key = `${run.meta.runId}|${asked.fromStep}|${asked.toStep}`;
      if (this.asking.has(key)) continue;
      this.asking.add(key);
      void this.context.host.request({ type: 'requestRecords', runId: run.meta.runId, ...asked }).then((response) => {
        this.asking.delete(key);
        if (response.error) this.context.announce(`Could not load the records of steps ${asked.fromStep}–${asked.toStep}: ${response.error}`, 'error');
        else if (response.body?.kind === 'recordRange') {
          run.setZoomRecords(response.body);
          this.context.invalidate(Changed.series);
        }
      });
    }
  }

  private options(): HTMLElement {
    const settings = this.context.settings;
    const redraw = () => this.context.invalidate(Changed.series);
    const logScale = h('input', { type: 'checkbox', id: 'log-scale', checked: settings.logScale });
    logScale.addEventListener('change', () => {
      settings.logScale = logScale.checked;
      redraw();
    });
    const smoothing = h('input', { type: 'range', id: 'smoothing', min: 0, max: MAX_SMOOTHING, step: 0.01, value: settings.smoothing, 'aria-describedby': 'smoothing-value' });
    const smoothingValue = h('output', { id: 'smoothing-value', for: 'smoothing' }, settings.smoothing.toFixed(2));
    smoothing.addEventListener('input', () => {
      settings.smoothing = Number(smoothing.value);
      smoothingValue.textContent = settings.smoothing.toFixed(2);
      redraw();
    });
    const xAxis = h('select', { id: 'x-axis' }, h('option', { value: 'step', selected: settings.xAxis === 'step' }, 'step'), h('option', { value: 'time', selected: settings.xAxis === 'time' }, 'wall time'));
    xAxis.addEventListener('change', () => {
      settings.xAxis = xAxis.value === 'time' ? 'time' : 'step';
      redraw();
    });
    return h(
      'div',
      { class: 'options', role: 'group', 'aria-label': 'Chart options' },
      h('label', { class: 'option' }, logScale, 'log scale'),
      h('label', { class: 'option', for: 'smoothing' }, 'smoothing'),
      smoothing,
      smoothingValue,
      h('label', { class: 'option', for: 'x-axis' }, 'x-axis'),
      xAxis,
      h('span', { class: 'spacer' }),
      button('CSV', 'Export the focused run’s telemetry as CSV', () => this.exportTelemetry('csv')),
      button('JSON', 'Export the telemetry of the runs shown as JSON', () => this.exportTelemetry('json')),
      button('All records', 'Export every record of the focused run as CSV (the table above folds long runs)', () => this.exportAllRecords()),
    );
  }

  /** Every record of the focused run, written by the host from its copy of them. */
  private exportAllRecords(): void {
    const run = this.context.model.focusedRun;
    if (!run) {
      this.context.announce('No run to export yet.', 'error');
      return;
    }
    const fileName = exportFileName([run.meta.optimizer, run.meta.problem, 'records'], 'csv');
    void this.context.host.request({ type: 'exportRecords', runId: run.meta.runId, fileName }).then((response) => this.context.announceSaved(fileName, response));
  }

  private exportTelemetry(format: 'csv' | 'json'): void {
    const run = this.context.model.focusedRun;
    if (!run) {
      this.context.announce('No run to export yet.', 'error');
      return;
    }
    const text = format === 'csv' ? telemetryCsv(run) : telemetryJson(this.context.model.visibleRuns);
    const fileName = exportFileName([run.meta.optimizer, run.meta.problem], format);
    void this.context.host.request({ type: 'saveExport', fileName, content: { kind: 'text', text } }).then((response) => this.context.announceSaved(fileName, response));
  }

  private renderLegend(): void {
    const runs = this.context.model.visibleRuns;
    const settings = this.context.settings;
    replaceChildren(
      this.legend,
      ...runs.map((run) => {
        const checkbox = h('input', { type: 'checkbox', checked: !settings.hiddenRuns.includes(run.meta.runId) });
        checkbox.addEventListener('change', () => {
          settings.hiddenRuns = checkbox.checked ? settings.hiddenRuns.filter((id) => id !== run.meta.runId) : [...settings.hiddenRuns, run.meta.runId];
          this.context.invalidate(Changed.series | Changed.surface);
        });
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = runColor(this.context, run);
        return h('label', { class: 'legend-item' }, checkbox, swatch, runLabel(this.context, run), h('span', { class: 'muted' }, ` ${run.status}`));
      }),
    );
  }
}

function markersOf(run: RunModel, color: string, xAxis: XAxis): ChartMarker[] {
  return run.markers.map((marker) => ({
    x: xAxis === 'step' ? marker.step : run.table.secondsAt(marker.step),
    label: Object.entries(marker.values).map(([name, value]) => `${name}=${formatHyperValue(value)}`).join(' '),
    color,
  }));
}

function formatHyperValue(value: HyperValue): string {
  if (typeof value === 'number') return formatNumber(value);
  if (Array.isArray(value)) return value.map((entry) => formatNumber(entry)).join(',');
  return String(value);
}

/**
 * Edits the focused run's hyper-parameters mid-run: numbers, switches and
 * pairs; the host applies them at the next step and confirms with a marker.
 */
class HyperparameterEditor {
  readonly element: HTMLDetailsElement;
  private readonly form = h('form', { class: 'hyper-form' });
  private readonly summary = h('summary', {}, 'Hyper-parameters');
  private shownFor: string | null = null;
  private shownValues = '';

  constructor(private readonly context: ViewContext) {
    this.element = h('details', { class: 'hyperparameters' }, this.summary, this.form);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.apply();
    });
  }

  render(): void {
    const run = this.context.model.focusedRun;
    const values = run ? JSON.stringify(run.hyperparameters) : '';
    const key = run ? `${run.meta.runId}|${run.status}` : null;
    this.element.hidden = run === null;
    if (!run || (key === this.shownFor && values === this.shownValues)) return;
    this.shownFor = key;
    this.shownValues = values;
    this.summary.textContent = `Hyper-parameters of ${run.meta.optimizer}${run.status === 'ended' ? ' (run ended)' : ''}`;
    const fields = Object.entries(run.hyperparameters).map(([name, value]) => this.field(name, value, run.status === 'ended'));
    replaceChildren(this.form, ...fields, h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button', disabled: run.status === 'ended' }, 'Apply at next step')));
  }

  private field(name: string, value: HyperValue, ended: boolean): HTMLElement {
    const id = `hyper-${name}`;
    const editable = typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value);
    const input = typeof value === 'boolean'
      ? h('input', { type: 'checkbox', id, name, checked: value, disabled: ended })
      : typeof value === 'number'
        ? h('input', { type: 'number', id, name, step: 'any', value: String(value), disabled: ended, required: true })
        : h('input', { type: 'text', id, name, value: Array.isArray(value) ? value.join(', ') : String(value), disabled: ended || !editable, 'data-kind': Array.isArray(value) ? 'list' : 'fixed' });
    return h('div', { class: 'hyper-field' }, h('label', { for: id }, name), input);
  }

  private apply(): void {
    const run = this.context.model.focusedRun;
    if (!run) return;
    const current = run.hyperparameters;
    const changed: Hyperparameters = {};
    for (const input of this.form.querySelectorAll('input')) {
      const before = current[input.name];
      const value: HyperValue | undefined = input.type === 'checkbox'
        ? input.checked
        : input.type === 'number'
          ? input.valueAsNumber
          : input.dataset.kind === 'list'
            ? input.value.split(',').map((part) => Number(part.trim()))
            : undefined;
      if (value === undefined) continue;
      if (typeof value === 'number' && !Number.isFinite(value)) return this.context.announce(`${input.name} must be a number.`, 'error');
      if (Array.isArray(value) && !value.every(Number.isFinite)) return this.context.announce(`${input.name} must be numbers separated by commas.`, 'error');
      if (JSON.stringify(value) !== JSON.stringify(before)) changed[input.name] = value;
    }
    if (Object.keys(changed).length === 0) return this.context.announce('Nothing changed.');
    void this.context.host.request({ type: 'setHyperparameters', runId: run.meta.runId, values: changed }).then((response) => {
      this.context.announce(response.error ? `Not applied: ${response.error}` : 'Applied at the next step.', response.error ? 'error' : 'info');
    });
  }
}
