/**
 * Gradient-check results: per problem the verdict, the largest errors and
 * evaluation counts; for problems that did not pass, a heatmap per tensor of
 * each element's relative error (log colour scale, kinks outlined) and the
 * table of the worst elements. Problem names and elements reveal the export
 * in the editor.
 */
import type { ElementReport, Verdict } from '../../src/core/gradcheck';
import { formatElement, unravelIndex } from '../../src/core/tensor';
import type { CheckReport, CheckedProblem, TensorRelativeErrors } from '../../src/webview-protocol';
import { Changed } from '../model/dashboard-model';
import { LogScale } from './colormap';
import type { View, ViewContext } from './context';
import { button, h, replaceChildren } from './dom';
import { formatNumber, formatPrecise } from './format';
import { HeatmapCard, gridFor } from './heatmap';
import type { Palette } from './theme';
import { exportFileName } from '../export';

export const VERDICT_MARKS: Record<Verdict, string> = { pass: '✓', kink: '~', skipped: '–', fail: '✗', nondeterministic: '?', error: '!' };

/** Relative errors from 1e-10 (agreement to rounding) to 1 (no agreement) on the colour scale. */
const ERROR_SCALE = new LogScale(1e-10, 1);

export function verdictColor(verdict: Verdict, palette: Palette): string {
  return { pass: palette.green, kink: palette.yellow, skipped: palette.muted, fail: palette.red, nondeterministic: palette.purple, error: palette.red }[verdict];
}

/** Asks the host to show a problem's export. */
export function reveal(context: ViewContext, file: string, line: number | null): void {
  void context.host.request({ type: 'reveal', file, line }).then((response) => {
    if (response.error) context.announce(`Could not open ${file}: ${response.error}`, 'error');
  });
}

export class CheckView implements View {
  readonly element = h('div', { class: 'check-view' });
  /** The heatmaps drawn, by `file#problem/tensor` (tests look the wrong element up here). */
  readonly heatmaps = new Map<string, HeatmapCard>();

  constructor(private readonly context: ViewContext) {}

  render(changed: number): void {
    if (!(changed & Changed.check)) return;
    for (const heatmap of this.heatmaps.values()) heatmap.chart.destroy();
    this.heatmaps.clear();
    const reports = [...this.context.model.checks.values()].reverse();
    if (reports.length === 0) {
      replaceChildren(this.element, h('p', { class: 'note' }, 'No gradient check yet: run GradLens: Check Gradients on a problem file.'));
      return;
    }
    replaceChildren(this.element, ...reports.map((report) => this.renderFile(report)));
  }

  private renderFile(report: CheckReport): HTMLElement {
    const failed = report.problems.filter((problem) => !problem.passed).length;
    const summary = report.loadError
      ? 'could not be checked'
      : `${report.problems.length - failed} of ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} passed`;
    return h(
      'section',
      { class: 'check-file', 'aria-label': report.file },
      h('h3', {}, report.file, h('span', { class: 'muted' }, ` ${summary}`)),
      report.loadError && h('pre', { class: 'error-text' }, report.loadError),
      ...report.problems.map((problem) => this.renderProblem(problem)),
    );
  }

  private renderProblem(problem: CheckedProblem): HTMLElement {
    const palette = this.context.palette();
    const badge = h('span', { class: 'badge', title: problem.verdict }, `${VERDICT_MARKS[problem.verdict]} ${problem.verdict}`);
    badge.style.borderColor = verdictColor(problem.verdict, palette);
    const evaluations = Object.entries(problem.evaluations).filter(([, count]) => count > 0).map(([name, count]) => `${name} ${count}`).join(', ');
    const stats = [
      `max abs ${formatNumber(problem.maxAbsError)}, max rel ${formatNumber(problem.maxRelError)}`,
      evaluations && `evaluations: ${evaluations}`,
      `checked ${problem.checked} of ${problem.size}, ${problem.failed} failed, ${problem.kinks} kink${problem.kinks === 1 ? '' : 's'}`,
      `${formatNumber(problem.seconds)} s`,
    ].filter(Boolean);
    const name = button(problem.name, `Reveal ${problem.name} in the editor`, () => reveal(this.context, problem.file, problem.line), 'link-button');
    const interesting = problem.verdict !== 'pass' && problem.verdict !== 'skipped';
    return h(
      'article',
      { class: `problem verdict-${problem.verdict}`, 'aria-label': `${problem.name}: ${problem.verdict}` },
      h('header', { class: 'problem-header' }, badge, name, h('span', { class: 'muted' }, `${problem.kind}, order ${problem.order}, ${problem.mode}`)),
      h('p', { class: 'stats' }, stats.join(' · ')),
      problem.error && h('pre', { class: 'error-text' }, problem.error),
      problem.note && h('p', { class: 'muted' }, problem.note),
      interesting && this.renderHeatmaps(problem),
      interesting && problem.worst.length > 0 && this.renderWorst(problem),
    );
  }

  private renderHeatmaps(problem: CheckedProblem): HTMLElement {
    const tensors = problem.elementErrors ?? tensorsFromWorst(problem.worst);
    const known = problem.elementErrors ? '' : ` (only the ${problem.worst.length} worst elements are known)`;
    const worstByName = new Map(problem.worst.map((element) => [element.element, element]));
    const container = h('div', { class: 'chart-grid' });
    for (const tensor of tensors) {
      const grid = gridFor(tensor.shape);
      if (!grid) {
        container.append(h('p', { class: 'muted' }, `${tensor.name}: ${tensor.relErrors.length} elements, too many to draw; the worst are listed below.`));
        continue;
      }
      const size = tensor.relErrors.length;
      const name = (flat: number) => formatElement(tensor.name, unravelIndex(flat, tensor.shape));
      const heatmap = new HeatmapCard(
        `${problem.name}: ${tensor.name}`,
        this.context.tooltip,
        (base64) => this.context.savePng(exportFileName([problem.name, tensor.name, 'errors'], 'png'), base64),
        () => reveal(this.context, problem.file, problem.line),
      );
      container.append(heatmap.element);
      this.heatmaps.set(`${problem.file}#${problem.name}/${tensor.name}`, heatmap);
      heatmap.render({
        ...grid,
        values: Float64Array.from({ length: grid.rows * grid.cols }, (_, flat) => (flat < size ? tensor.relErrors[flat] ?? NaN : NaN)),
        describe: (flat) => (flat < size ? describeElement(name(flat), tensor.relErrors[flat], worstByName.get(name(flat)), tensor.kinks.includes(flat)) : []),
        marked: new Set(tensor.kinks),
        legend: `relative error per element, log colour scale${known}; outlined: kinks`,
        scale: ERROR_SCALE,
      }, this.context.palette());
    }
    return container;
  }

  private renderWorst(problem: CheckedProblem): HTMLElement {
    const header = ['element', 'analytic', 'numeric', 'abs error', 'rel error', 'result'];
    return h(
      'table',
      { class: 'data-table worst', 'aria-label': `Worst elements of ${problem.name}` },
      h('thead', {}, h('tr', {}, ...header.map((cell) => h('th', { scope: 'col' }, cell)))),
      h(
        'tbody',
        {},
        ...problem.worst.map((element) =>
          h(
            'tr',
            { class: element.passed ? '' : element.kink ? 'kink' : 'failed' },
            h('td', {}, button(element.element, `Reveal ${problem.name} in the editor (element ${element.element})`, () => reveal(this.context, problem.file, problem.line), 'link-button')),
            h('td', { class: 'number' }, formatPrecise(element.analytic)),
            h('td', { class: 'number' }, formatPrecise(element.numeric)),
            h('td', { class: 'number' }, formatNumber(element.absError)),
            h('td', { class: 'number' }, formatNumber(element.relError)),
            h('td', {}, element.passed ? 'ok' : element.kink ? 'kink' : 'FAIL'),
          ),
        ),
      ),
    );
  }
}

function describeElement(name: string, relError: number | null | undefined, worst: ElementReport | undefined, kink: boolean): string[] {
  const lines = [name, relError === null || relError === undefined ? 'not checked' : `relative error ${formatNumber(relError)}`];
  if (worst) lines.push(`analytic ${formatPrecise(worst.analytic)}, numeric ${formatPrecise(worst.numeric)}`, worst.passed ? 'ok' : kink ? 'kink' : 'FAIL');
  else if (kink) lines.push('kink');
  return lines;
}

/**
 * Without per-element errors, the worst elements still place themselves:
 * each tensor's shape is at least one past the largest index seen.
 */
function tensorsFromWorst(worst: ElementReport[]): TensorRelativeErrors[] {
  const byParam = new Map<string, ElementReport[]>();
  for (const element of worst) byParam.set(element.param, [...(byParam.get(element.param) ?? []), element]);
  return [...byParam].map(([name, elements]) => {
    const rank = Math.max(...elements.map((element) => element.index.length));
    const shape = Array.from({ length: rank }, (_, d) => 1 + Math.max(...elements.map((element) => element.index[d] ?? 0)));
    const relErrors: (number | null)[] = new Array(shape.reduce((a, b) => a * b, 1)).fill(null);
    const kinks: number[] = [];
    for (const element of elements) {
      const flat = element.index.reduce((position, index, d) => position * shape[d] + index, 0);
      relErrors[flat] = element.relError;
      if (element.kink) kinks.push(flat);
    }
    return { name, shape, relErrors, kinks };
  });
}
