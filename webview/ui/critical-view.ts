/**
 * The critical-point panel: what kind of point the analysis found
 * (minimum, saddle, ...), the Hessian's eigenvalue spectrum, the minimum
 * ratio and condition number, and, at a saddle, the escape direction.
 */
import type { CriticalPointReport } from '../../src/core/analysis';
import { Changed } from '../model/dashboard-model';
import { BarChartCard } from './bar-chart';
import type { View, ViewContext } from './context';
import { h, replaceChildren } from './dom';
import { formatNumber } from './format';
import { exportFileName } from '../export';

export class CriticalView implements View {
  readonly element: HTMLElement;
  readonly spectrum: BarChartCard;
  private readonly details = h('div', { class: 'critical-details' });

  constructor(private readonly context: ViewContext) {
    this.spectrum = new BarChartCard('Hessian eigenvalues', context.tooltip, (base64) => context.savePng(exportFileName(['hessian-spectrum'], 'png'), base64));
    this.element = h('div', { class: 'critical-view' }, this.details, h('div', { class: 'chart-grid' }, this.spectrum.element));
  }

  render(changed: number): void {
    if (!(changed & (Changed.critical | Changed.runs))) return;
    const entry = this.context.model.criticalReport;
    this.spectrum.element.hidden = entry === null;
    if (!entry) {
      replaceChildren(this.details, h('p', { class: 'note' }, 'No critical-point analysis yet. It appears here when GradLens analyzes a point: where a run ended, or a problem’s start.'));
      return;
    }
    const report = entry.report;
    this.renderDetails(report);
    this.renderSpectrum(report);
  }

  private renderDetails(report: CriticalPointReport): void {
    const palette = this.context.palette();
    const verdictColor = { minimum: palette.green, maximum: palette.red, saddle: palette.orange, degenerate: palette.yellow }[report.classification];
    const badge = h('span', { class: 'badge' }, report.classification);
    badge.style.borderColor = verdictColor;
    const facts: [string, string][] = [
      ['loss', formatNumber(report.loss)],
      ['gradient norm', `${formatNumber(report.gradientNorm)} (${report.critical ? 'critical: ≤' : 'not critical: >'} ${formatNumber(report.gradientTolerance)})`],
      ['largest gradient', `${report.largestGradient.element} = ${formatNumber(report.largestGradient.value)}`],
      ['minimum ratio', report.minimumRatio === null ? 'unknown (incomplete spectrum)' : `${formatNumber(report.minimumRatio)} (fraction of positive eigenvalues)`],
      ['condition number', report.conditionNumber === null ? '∞ or unknown' : formatNumber(report.conditionNumber)],
      ['eigenvalues', `${report.spectrum.negative} negative, ${report.spectrum.zero} zero, ${report.spectrum.positive} positive (${report.spectrum.method}${report.spectrum.complete ? '' : ', extremes only'})`],
      ['Hessian', `${report.hessian.source}${report.hessian.symmetry.consistent ? '' : `, asymmetric: ${report.hessian.symmetry.warning ?? ''}`}`],
      ['parameters', String(report.size)],
    ];
    const escape = report.escape;
    replaceChildren(
      this.details,
      h('h3', {}, `${report.name}: `, badge),
      h('p', {}, report.summary),
      h('dl', { class: 'facts' }, ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      escape &&
        h(
          'section',
          { class: 'escape', 'aria-label': 'Escape direction' },
          h('h4', {}, `Escape direction (λ = ${formatNumber(escape.eigenvalue)})`),
          table(['element', 'component'], escape.elements.map((entry) => [entry.element, formatNumber(entry.value)])),
          table(['step α', 'sign', 'loss change', 'predicted ½λα²'], escape.steps.map((step) => [formatNumber(step.step), step.sign > 0 ? '+' : '−', formatNumber(step.lossChange), formatNumber(step.predicted)])),
        ),
    );
  }

  private renderSpectrum(report: CriticalPointReport): void {
    const palette = this.context.palette();
    const eigenvalues = report.spectrum.eigenvalues;
    const threshold = report.spectrum.zeroThreshold;
    // A signed log scale: eigenvalues often span many decades and both signs. With a power
    // of ten as unit, whole ticks fall on round eigenvalues (unit·(10ᵏ − 1) ≈ 10ᵏ·unit).
    const unit = 10 ** Math.floor(Math.log10(threshold > 0 ? threshold : Math.max(...eigenvalues.map(Math.abs), 1) * 1e-6));
    const toAxis = (value: number) => Math.sign(value) * Math.log10(1 + Math.abs(value) / unit);
    const fromAxis = (value: number) => Math.sign(value) * unit * (10 ** Math.abs(value) - 1);
    // At most about seven ticks, each a whole number of decades, up to just past the largest |λ|.
    const extent = Math.max(...eigenvalues.map((value) => Math.abs(toAxis(value))), 1);
    const step = Math.max(1, Math.ceil(extent / 3));
    const top = Math.ceil(extent / step) * step;
    this.spectrum.render(
      {
        labels: eigenvalues.map((_, k) => `λ${k + 1}`),
        values: eigenvalues.map(toAxis),
        colors: eigenvalues.map((value) => (Math.abs(value) <= threshold ? palette.muted : value < 0 ? palette.red : palette.green)),
        describe: (k) => [`λ${k + 1} = ${formatNumber(eigenvalues[k])}`, Math.abs(eigenvalues[k]) <= threshold ? 'zero (within tolerance)' : eigenvalues[k] < 0 ? 'negative: the loss curves down' : 'positive: the loss curves up'],
        valueLabel: (value) => formatNumber(fromAxis(value)),
        valueStep: step,
        valueRange: [eigenvalues.some((value) => value < 0) ? -top : 0, eigenvalues.some((value) => value > 0) ? top : 0],
        yTitle: 'eigenvalue (signed log scale)',
      },
      palette,
      `${report.spectrum.complete ? 'All' : 'The extreme'} eigenvalues, ascending; red negative, green positive, grey zero (|λ| ≤ ${formatNumber(threshold)}).`,
    );
  }
}

function table(header: string[], rows: string[][]): HTMLTableElement {
  return h(
    'table',
    { class: 'data-table' },
    h('thead', {}, h('tr', {}, ...header.map((cell) => h('th', { scope: 'col' }, cell)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
  );
}
