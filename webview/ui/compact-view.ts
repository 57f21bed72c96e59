/**
 * The compact last-result view (the panel area's WebviewView): the last
 * check's verdicts, or the last run's final loss with a small loss chart.
 */
import type { RunEnded } from '../../src/webview-protocol';
import { Changed } from '../model/dashboard-model';
import { columnSeries } from '../model/decimate';
import { type RunModel, metric } from '../model/run';
import { VERDICT_MARKS, reveal, verdictColor } from './check-view';
import type { View, ViewContext } from './context';
import { button, h, replaceChildren } from './dom';
import { formatNumber, formatSeconds } from './format';
import { LineChartCard } from './line-chart';
import { exportFileName } from '../export';

const STOPPED: Record<RunEnded['stopped'], string> = {
  steps: 'all steps done',
  tolerance: 'reached the tolerance',
  diverged: 'diverged',
  failed: 'failed',
  cancelled: 'stopped',
};

export class CompactView implements View {
  readonly element: HTMLElement;
  readonly loss: LineChartCard;
  private readonly summary = h('div', { class: 'compact-summary', 'aria-live': 'polite' });

  constructor(private readonly context: ViewContext) {
    this.loss = new LineChartCard('Loss', context.tooltip, (card) => context.savePng(exportFileName(['loss'], 'png'), card.toPng()), { className: 'compact-chart' });
    this.element = h('div', { class: 'compact-view' }, this.summary, this.loss.element);
  }

  render(changed: number): void {
    const last = this.context.model.lastResult;
    const run = last?.kind === 'run' ? this.context.model.runs.get(last.runId) ?? null : null;
    this.loss.element.hidden = run === null;
    if (changed & (Changed.check | Changed.runs | Changed.series)) this.renderSummary(run);
    if (run && changed & (Changed.series | Changed.runs)) {
      const color = this.context.palette().blue;
      this.loss.render({
        series: [{ key: run.meta.runId, label: run.meta.optimizer, color, source: columnSeries(run.table, metric.loss, 'step'), reduction: 'minmax' }],
        xAxis: 'step',
        logY: true,
        markers: [],
      }, this.context.palette());
    }
  }

  private renderSummary(run: RunModel | null): void {
    const last = this.context.model.lastResult;
    if (last?.kind === 'check') {
      const report = this.context.model.checks.get(last.file);
      if (!report) return;
      const failed = report.problems.filter((problem) => !problem.passed);
      const palette = this.context.palette();
      replaceChildren(
        this.summary,
        h('p', { class: 'headline' }, report.loadError ? `✗ ${report.file} could not be checked` : failed.length === 0 ? `✓ all ${report.problems.length} problems passed` : `✗ ${failed.length} of ${report.problems.length} problems failed`),
        h('p', { class: 'muted' }, report.file),
        h(
          'ul',
          { class: 'compact-list' },
          ...report.problems.map((problem) => {
            const mark = h('span', { class: 'mark' }, VERDICT_MARKS[problem.verdict]);
            mark.style.color = verdictColor(problem.verdict, palette);
            return h('li', {}, mark, button(problem.name, `Reveal ${problem.name} in the editor`, () => reveal(this.context, problem.file, problem.line), 'link-button'), h('span', { class: 'muted' }, ` ${problem.verdict}, max rel ${formatNumber(problem.maxRelError)}`));
          }),
        ),
      );
      return;
    }
    if (!run) {
      replaceChildren(this.summary, h('p', { class: 'muted' }, 'No results yet: check gradients or run an optimizer.'));
      return;
    }
    const ended = run.ended;
    const loss = ended ? ended.finalLoss : run.table.length ? run.table.mean(metric.loss, run.table.length - 1) : null;
    replaceChildren(
      this.summary,
      h('p', { class: 'headline' }, `${run.meta.optimizer} on ${run.meta.problem}: ${ended ? 'final ' : ''}loss ${loss === null ? 'unknown' : formatNumber(loss)}`),
      h(
        'p',
        { class: 'muted' },
        ended
          ? `${STOPPED[ended.stopped]} at step ${ended.finalStep} in ${formatSeconds(ended.seconds)}${ended.diverged ? `: ${ended.diverged.message}` : ended.failure ? `: ${ended.failure}` : ''}`
          : run.meta.external ? `running (a training script) at step ${run.lastStep}` : `${run.status} at step ${run.lastStep} of ${run.meta.steps}`,
      ),
    );
  }
}
