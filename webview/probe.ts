/**
 * What the dashboard exposes on `window.gradlensDashboard` for the headless
 * tests and the benchmark (test/webview, bench/webview.ts): read-only views
 * of what is drawn, and a way to wait for the next frame. Types only, free
 * of DOM types, so the Node-side tests can import it.
 */
export interface DrawnSeries {
  label: string;
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
  /** Resolves once every message delivered so far is applied and drawn. */
  idle(): Promise<void>;
  /** Redraws the visible views from scratch now and returns the milliseconds it took. */
  redraw(): number;
  /** Viewport centre of an element's cell in a gradient-check heatmap (`problem/tensor`, `W2[2,3]`), or null. */
  checkCell(heatmap: string, element: string): { x: number; y: number } | null;
  /** Viewport position of a point of the loss surface, or null. */
  surfacePoint(x: number, y: number): { x: number; y: number } | null;
  surfacePaths(): { label: string; points: number }[];
  /** The colour the theme gives charts' text (Chart.defaults.color). */
  chartTextColor(): string;
}

export const PROBE_GLOBAL = 'gradlensDashboard';
