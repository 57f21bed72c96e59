/**
 * The GradLens dashboard as an editor panel: one at a time (shown again if
 * open), restored after a window reload by its serializer (the webview keeps
 * its own state with setState; the host replays what it retained).
 */
import * as vscode from 'vscode';
import type { HostToWebview } from '../../webview-protocol';
import { type RequestListener, WebviewChannel } from './channel';
import { PANEL_RETENTION } from './retained';
import { loadDashboard, saveExport, webviewOptions } from './webview-setup';

export const DASHBOARD_VIEW_TYPE = 'gradlens.dashboard';
const title = () => vscode.l10n.t('GradLens Dashboard');

export class DashboardPanel {
  private static current: DashboardPanel | undefined;
  private readonly channel: WebviewChannel;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  /** The user closed the panel (or the extension disposed it): post nothing more to it. */
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private disposed = false;

  /** The open dashboard, if any. */
  static get currentPanel(): DashboardPanel | undefined {
    return DashboardPanel.current;
  }

  /** Opens the dashboard beside the editor, or reveals it when already open. */
  static show(context: vscode.ExtensionContext): DashboardPanel {
    if (DashboardPanel.current) {
      DashboardPanel.current.panel.reveal(undefined, true);
      return DashboardPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(context.extensionUri),
    );
    return new DashboardPanel(panel, context);
  }

  /** Takes over a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext): DashboardPanel {
    DashboardPanel.current?.dispose();
    return new DashboardPanel(panel, context);
  }

  private constructor(readonly panel: vscode.WebviewPanel, context: vscode.ExtensionContext) {
    DashboardPanel.current = this;
    this.channel = new WebviewChannel({ mode: 'panel', limits: PANEL_RETENTION, saveExport, log: (message) => console.warn(`GradLens ${message}`) });
    this.channel.attach(panel.webview);
    loadDashboard(panel.webview, context, title());
    this.subscriptions.push(
      // Hidden without retainContextWhenHidden, the page is destroyed; shown again, it reloads and says ready.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.channel.pageGone();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Sends a message (batched, at most ~30 posts a second; kept for replay when the page reloads). */
  post(message: HostToWebview): void {
    if (!this.disposed) this.channel.post(message);
  }

  /** Requests from the dashboard, validated; `ready` and `saveExport` are handled here. */
  onDidReceiveMessage(listener: RequestListener): vscode.Disposable {
    return new vscode.Disposable(this.channel.onRequest(listener).dispose);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (DashboardPanel.current === this) DashboardPanel.current = undefined;
    this.channel.dispose();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.panel.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}

/** Lets VS Code restore an open dashboard after a window reload (call once, from activate). */
export function registerDashboardSerializer(context: vscode.ExtensionContext): vscode.Disposable {
  const registration = vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel) => {
      DashboardPanel.revive(panel, context);
    },
  });
  context.subscriptions.push(registration);
  return registration;
}
