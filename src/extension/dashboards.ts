/**
 * The dashboard panel and the last-result view as one destination: what the
 * commands publish goes to both (the panel opened on demand), and their
 * requests reach the handlers registered here. Revealing an export is
 * handled here; run controls by the optimizer commands.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FileReport } from '../runner/reports';
import { errorLine } from './text';
import type { HostToWebview, ResponseBody } from '../webview-protocol';
import { DashboardPanel, type DashboardRequest, LastResultViewProvider, registerDashboardSerializer } from './dashboard';

export type RunRequestHandler = (request: Exclude<DashboardRequest, { type: 'reveal' }>) => Promise<ResponseBody | null>;

/** Training scripts' runs (external-runs.ts): requests about them go there, and a new dashboard gets them. */
export interface ExternalRunHandler {
  owns(runId: string): boolean;
  handle: RunRequestHandler;
  retainedMessages(): HostToWebview[];
}

export class Dashboards implements vscode.Disposable {
  private readonly lastResult: LastResultViewProvider;
  private readonly subscriptions: vscode.Disposable[] = [];
  private listening: DashboardPanel | undefined;
  private runHandler: RunRequestHandler | null = null;
  private external: ExternalRunHandler | null = null;

  constructor(private readonly context: vscode.ExtensionContext) {
    registerDashboardSerializer(context);
    this.lastResult = LastResultViewProvider.register(context);
    this.subscriptions.push(this.lastResult.onDidReceiveMessage((request) => this.handle(request)));
  }

  /** The optimizer commands carry out run controls. */
  onRunRequest(handler: RunRequestHandler): void {
    this.runHandler = handler;
  }

  onExternalRuns(handler: ExternalRunHandler): void {
    this.external = handler;
  }

  /** Opens (or reveals) the dashboard panel; a new one first gets the external runs (they went on without it). */
  open(): DashboardPanel {
    const existing = DashboardPanel.currentPanel;
    const panel = DashboardPanel.show(this.context);
    if (panel !== existing) for (const message of this.external?.retainedMessages() ?? []) panel.post(message);
    this.listen(panel);
    return panel;
  }

  /** To the panel (opened first when `open`, else only if it is open) and the last-result view. */
  publish(message: HostToWebview, open = false): void {
    const panel = open ? this.open() : DashboardPanel.currentPanel;
    if (panel) this.listen(panel);
    panel?.post(message);
    this.lastResult.post(message);
  }

  /** A finished check, for the gradient-check view. */
  publishCheck(report: FileReport): void {
    this.publish({
      type: 'checkReport',
      file: vscode.workspace.asRelativePath(report.file),
      loadError: report.loadError && errorLine(report.loadError),
      problems: report.problems.map((problem) => ({ ...problem, error: problem.error && errorLine(problem.error) })),
    });
  }

  private listen(panel: DashboardPanel): void {
    if (this.listening === panel) return;
    this.listening = panel;
    const subscription = panel.onDidReceiveMessage((request) => this.handle(request));
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.listening === panel) this.listening = undefined;
    });
  }

  private async handle(request: DashboardRequest): Promise<ResponseBody | null> {
    if (request.type !== 'reveal') {
      if (this.external?.owns(request.runId)) return this.external.handle(request);
      if (!this.runHandler) throw new Error(vscode.l10n.t('runs are not available'));
      return this.runHandler(request);
    }
    const uri = await this.resolve(request.file);
    const line = Math.max(0, (request.line ?? 1) - 1);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0), preview: false, viewColumn: vscode.ViewColumn.One });
    return null;
  }

  /** A file as publishCheck named it: absolute, or relative to one of the workspace folders. */
  private async resolve(file: string): Promise<vscode.Uri> {
    if (path.isAbsolute(file)) return vscode.Uri.file(file);
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const candidate = vscode.Uri.joinPath(folder.uri, file);
      try {
        await vscode.workspace.fs.stat(candidate);
        return candidate;
      } catch {
        // Not in this folder.
      }
    }
    throw new Error(vscode.l10n.t('{0} is not in the workspace', file));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
