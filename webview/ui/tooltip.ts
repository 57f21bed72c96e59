/**
 * One HTML tooltip for every chart (Chart.js's `external` tooltip): it follows
 * the theme's font and colours, stays readable at small sizes, and its text is
 * in the DOM (where tests and screen readers find it).
 */
import type { Chart, TooltipModel } from 'chart.js';
import { h, replaceChildren } from './dom';

export class Tooltip {
  readonly element = h('div', { class: 'tooltip', role: 'tooltip', id: 'gradlens-tooltip', hidden: true });

  /** Shows `lines` (the first as a title) next to the viewport point (x, y). */
  show(lines: string[], x: number, y: number): void {
    const [title, ...body] = lines;
    replaceChildren(this.element, h('div', { class: 'tooltip-title' }, title), ...body.map((line) => h('div', {}, line)));
    this.element.hidden = false;
    const { width, height } = this.element.getBoundingClientRect();
    const left = x + 14 + width > window.innerWidth ? Math.max(0, x - 14 - width) : x + 14;
    const top = Math.min(Math.max(0, y - height / 2), Math.max(0, window.innerHeight - height));
    this.element.style.left = `${left}px`;
    this.element.style.top = `${top}px`;
  }

  hide(): void {
    this.element.hidden = true;
  }

  /** The `external` handler for a chart's tooltip plugin. */
  readonly external = ({ chart, tooltip }: { chart: Chart; tooltip: TooltipModel<never> }): void => {
    if (tooltip.opacity === 0) {
      this.hide();
      return;
    }
    const lines = [...tooltip.title, ...tooltip.body.flatMap((item) => item.lines)];
    const rect = chart.canvas.getBoundingClientRect();
    this.show(lines, rect.left + tooltip.caretX, rect.top + tooltip.caretY);
  };
}
