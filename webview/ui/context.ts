/** What every view gets from the app: the model, the settings, the theme and the way to the host. */
import type { RequestResponse } from '../../src/webview-protocol';
import type { HostConnection } from '../host';
import type { DashboardModel } from '../model/dashboard-model';
import type { RunModel } from '../model/run';
import type { Settings } from '../model/settings';
import type { Palette } from './theme';
import type { Tooltip } from './tooltip';

export interface ViewContext {
  readonly model: DashboardModel;
  readonly settings: Settings;
  readonly tooltip: Tooltip;
  readonly host: HostConnection;
  palette(): Palette;
  /** Something changed that the app must redraw and save (a Changed mask). */
  invalidate(changed: number): void;
  /** A short message in the status line (read out by screen readers). */
  announce(text: string, kind?: 'info' | 'error'): void;
  /** Offers a PNG (base64) to the host's save dialog. */
  savePng(fileName: string, base64: string): void;
  /** Says where an export was saved, or why `fileName` was not (a cancelled dialog says nothing). */
  announceSaved(fileName: string, response: RequestResponse): void;
}

export interface View {
  readonly element: HTMLElement;
  /**
   * Redraws what depends on the changed parts (a Changed mask; Changed.all after a theme change).
   * A view may stop at `deadline` (performance.now() time) and return false: it is called again in
   * the next frame, with only what changed since.
   */
  render(changed: number, deadline: number): boolean | void;
}

/** Colour of a run: its position among the runs drawn with it. */
export function runColor(context: ViewContext, run: RunModel): string {
  const series = context.palette().series;
  const index = context.model.visibleRuns.indexOf(run);
  return series[Math.max(0, index) % series.length];
}

/** The optimizer's name, with its learning rate when another drawn run has the same optimizer. */
export function runLabel(context: ViewContext, run: RunModel): string {
  const twin = context.model.visibleRuns.some((other) => other !== run && other.meta.optimizer === run.meta.optimizer);
  const lr = run.meta.hyperparameters.lr;
  return twin && typeof lr === 'number' ? `${run.meta.optimizer} lr=${lr}` : run.meta.optimizer;
}

/** Visible runs minus those switched off in the legend. */
export function shownRuns(context: ViewContext): RunModel[] {
  return context.model.visibleRuns.filter((run) => !context.settings.hiddenRuns.includes(run.meta.runId));
}
