/** The viewer's choices, saved with the dashboard's state. */
import type { XAxis } from './decimate';

export const TABS = ['optimizer', 'rates', 'surface', 'critical', 'check'] as const;
export type TabId = (typeof TABS)[number];

export interface Settings {
  tab: TabId;
  logScale: boolean;
  /** TensorBoard's smoothing weight, 0 (off) to 0.99. */
  smoothing: number;
  xAxis: XAxis;
  /** The tensor (or all parameters) shown in the learning-rate view; null: the first. */
  rateScope: string | null;
  /** Runs switched off in the legend. */
  hiddenRuns: string[];
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  tab: 'optimizer',
  logScale: true,
  smoothing: 0,
  xAxis: 'step',
  rateScope: null,
  hiddenRuns: [],
});

export const MAX_SMOOTHING = 0.99;
