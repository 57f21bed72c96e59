/**
 * The dashboard webview's entry point (bundled by esbuild.mjs into
 * dist/webview/dashboard.js): restores the saved state, listens for the
 * host, then says ready.
 */
import type { HostBatch, HostToWebview } from '../src/webview-protocol';
import { HostConnection } from './host';
import { DashboardModel } from './model/dashboard-model';
import { DEFAULT_SETTINGS, MAX_SMOOTHING, TABS, type Settings } from './model/settings';
import { PROBE_GLOBAL } from './probe';
import { App, type SavedState } from './ui/app';
import './dashboard.css';

/** Saved settings, each kept only when it is still valid. */
function restoreSettings(saved: Partial<Settings> | undefined): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS, hiddenRuns: [] };
  if (!saved) return settings;
  if (TABS.includes(saved.tab as Settings['tab'])) settings.tab = saved.tab!;
  if (typeof saved.logScale === 'boolean') settings.logScale = saved.logScale;
  if (typeof saved.smoothing === 'number' && saved.smoothing >= 0 && saved.smoothing <= MAX_SMOOTHING) settings.smoothing = saved.smoothing;
  if (saved.xAxis === 'step' || saved.xAxis === 'time') settings.xAxis = saved.xAxis;
  if (typeof saved.rateScope === 'string') settings.rateScope = saved.rateScope;
  if (Array.isArray(saved.hiddenRuns)) settings.hiddenRuns = saved.hiddenRuns.filter((id) => typeof id === 'string');
  return settings;
}

const host = new HostConnection(acquireVsCodeApi());
const saved = host.loadState() as Partial<SavedState> | undefined;
const app = new App(document.getElementById('app')!, DashboardModel.restore(saved?.dashboard), restoreSettings(saved?.settings), host);
// Only in the tests: the host marks their pages (ExtensionMode.Test, the headless harness).
if (document.body.dataset.testProbe !== undefined) Object.defineProperty(window, PROBE_GLOBAL, { value: app.probe() });
window.addEventListener('message', (event: MessageEvent<HostBatch | HostToWebview>) => {
  try {
    app.receive(event.data);
  } finally {
    // The host waits for this before it posts more than a few batches (a failure here must not stall it).
    if (event.data.type === 'batch') host.received(event.data.sequence);
  }
});
host.ready();
