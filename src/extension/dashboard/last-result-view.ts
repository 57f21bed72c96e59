/**
 * The compact last-result view in the panel area (view id gradlens.lastResult):
 * the same bundle in compact mode, showing the last check's verdicts or the
 * last run's final loss. Posts are retained until the view is first shown.
 */
import * as vscode from 'vscode';
import type { HostToWebview } from '../../webview-protocol';
import { type RequestListener, WebviewChannel } from './channel';
import { COMPACT_RETENTION } from './retained';
import { loadDashboard, saveExport } from './webview-setup';

export const LAST_RESULT_VIEW_ID = 'gradlens.lastResult';

export class LastResultViewProvider implements vscode.WebviewViewProvider {
  private readonly channel = new WebviewChannel({ mode: 'compact', limits: COMPACT_RETENTION, saveExport, log: (message) => console.warn(`GradLens ${message}`) });

  private constructor(private readonly context: vscode.ExtensionContext) {}

  /** Registers the provider (call once, from activate). */
  static register(context: vscode.ExtensionContext): LastResultViewProvider {
    const provider = new LastResultViewProvider(context);
    context.subscriptions.push(vscode.window.registerWebviewViewProvider(LAST_RESULT_VIEW_ID, provider), { dispose: () => provider.channel.dispose() });
    return provider;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.channel.attach(view.webview);
    loadDashboard(view.webview, this.context, vscode.l10n.t('GradLens: Last Result'));
    view.onDidChangeVisibility(() => {
      if (!view.visible) this.channel.pageGone();
    });
    view.onDidDispose(() => this.channel.detach());
  }

  /** Sends a message to the view (kept for when it is next shown). */
  post(message: HostToWebview): void {
    this.channel.post(message);
  }

  /** Requests from the view (reveal, run controls), validated. */
  onDidReceiveMessage(listener: RequestListener): vscode.Disposable {
    return new vscode.Disposable(this.channel.onRequest(listener).dispose);
  }
}
