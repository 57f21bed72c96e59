/**
 * What the dashboard exposes on `window.gradlensDashboard` for the headless
 * tests and the benchmark (test/webview, bench/webview.ts): read-only views
 * of what is drawn, and a way to wait for the next frame. Types only, free
 * of DOM types, so the Node-side tests can import it.
 */
export interface DrawnSeries {
  label: string;
  /** The line's colour, as given to Chart.js. */
  color: string;
  points: number;
  /** Smallest and largest y drawn. */
  min: number;
  max: number;
}

export interface DashboardProbe {
  /** Every line chart's datasets as drawn, by chart title (tab-qualified: `optimizer/Loss`). */
  lineCharts(): Record<string, DrawnSeries[]>;
  /** Per run: records received, table entries kept and records per entry. */
  tables(): { runId: string; records: number; entries: number; span: number; trajectory: number | null }[];
  /** Frames drawn so far. */
  frames(): number;
  /** Resolves once every message delivered and every pointer event so far is handled and drawn. */
  idle(): Promise<void>;
  /** Redraws every series of the visible views at once (no frame budget) and returns the milliseconds it took. */
  redraw(): number;
  /** How long the latest `count` frames took (at most 1,024), oldest first, in milliseconds. */
  frameTimes(count: number): number[];
  /** Labels of the hyper-parameter change markers on each line chart, by chart title. */
  markers(): Record<string, string[]>;
  /**
   * Viewport centre of an element's cell (`W2[2,3]`) in a heatmap, or null:
   * `rates` for the learning-rate view's, `check:<file>#<problem>/<tensor>` for a gradient check's.
   */
  heatmapCell(heatmap: string, element: string): { x: number; y: number } | null;
  /** Viewport position of a point of the loss surface, or null. */
  surfacePoint(x: number, y: number): { x: number; y: number } | null;
  surfacePaths(): { label: string; points: number }[];
  /** The x range a line chart is zoomed into (by title, as lineCharts), or null. */
  zoomRange(chart: string): { min: number; max: number } | null;
  /** Zooms a line chart to an x range, as a drag over it would. */
  zoomTo(chart: string, min: number, max: number): void;
  /** The points a line chart draws for a series with x in [min, max]. */
  pointsIn(chart: string, label: string, min: number, max: number): { x: number; y: number }[];
  /** The colour of the Loss chart's tick labels, as drawn. */
  chartTextColor(): string;
}

export const PROBE_GLOBAL = 'gradlensDashboard';
