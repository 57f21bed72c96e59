/** What the panel and the last-result view share: webview options, the page, saving exports. */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SaveExport } from '../../webview-protocol';
import { dashboardHtml } from './html';

/** Scripts on, and nothing loadable but the dashboard bundle. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

/** Loads the dashboard page; in extension tests (ExtensionMode.Test) with its test probe. */
export function loadDashboard(webview: vscode.Webview, context: vscode.ExtensionContext, title: string): void {
  const extensionUri = context.extensionUri;
  const bundle = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  webview.options = webviewOptions(extensionUri);
  webview.html = dashboardHtml({
    cspSource: webview.cspSource,
    scriptUri: bundle('dashboard.js'),
    styleUri: bundle('dashboard.css'),
    nonce: randomBytes(16).toString('base64'),
    title,
    testProbe: context.extensionMode === vscode.ExtensionMode.Test,
  });
}

const EXPORT_FILTERS: Record<string, string> = { png: 'PNG image', csv: 'CSV', json: 'JSON' };

/** Asks where to save an export named `fileName`, starting in the workspace; undefined when cancelled. */
export async function askExportTarget(fileName: string): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const extension = path.extname(fileName).slice(1).toLowerCase();
  return vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(folder, fileName),
    filters: { [EXPORT_FILTERS[extension] ?? extension]: [extension] },
    saveLabel: vscode.l10n.t('Export'),
    title: vscode.l10n.t('GradLens: save export'),
  });
}

/** Asks where to save an export and writes it; the path saved to, or null when cancelled. */
export async function saveExport(request: SaveExport): Promise<string | null> {
  const target = await askExportTarget(request.fileName);
  if (!target) return null;
  const bytes = request.content.kind === 'text' ? Buffer.from(request.content.text, 'utf8') : Buffer.from(request.content.base64, 'base64');
  await vscode.workspace.fs.writeFile(target, bytes);
  return vscode.workspace.asRelativePath(target);
}
