/**
 * The dashboard's page: only the bundle's script (with a fresh nonce) and
 * stylesheet from dist/webview, under a strict Content-Security-Policy (no
 * inline scripts, styles or handlers; images only from the bundle and data:
 * URLs, which chart exports use).
 */
export interface DashboardPage {
  /** webview.cspSource */
  cspSource: string;
  /** webview.asWebviewUri of dist/webview/dashboard.js and dashboard.css */
  scriptUri: string;
  styleUri: string;
  /** Fresh per page load. */
  nonce: string;
  title: string;
  /** Extension tests only (ExtensionMode.Test): the page exposes what it drew (webview/probe.ts). */
  testProbe: boolean;
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function contentSecurityPolicy(page: Pick<DashboardPage, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `img-src ${page.cspSource} data:`,
    `script-src 'nonce-${page.nonce}'`,
    `style-src ${page.cspSource}`,
  ].join('; ');
}

export function dashboardHtml(page: DashboardPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(page))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(page.styleUri)}">
<title>${escapeAttribute(page.title)}</title>
</head>
<body${page.testProbe ? ' data-test-probe' : ''}>
<main id="app" aria-busy="true"><p class="placeholder">Loading the GradLens dashboard…</p></main>
<script nonce="${escapeAttribute(page.nonce)}" src="${escapeAttribute(page.scriptUri)}"></script>
</body>
</html>
`;
}
