/** The dashboard webviews, for the extension's activate(): see DashboardPanel and LastResultViewProvider. */
export { type DashboardRequest, type RequestListener } from './channel';
export { DASHBOARD_VIEW_TYPE, DashboardPanel, registerDashboardSerializer } from './panel';
export { LAST_RESULT_VIEW_ID, LastResultViewProvider } from './last-result-view';
export { askExportTarget } from './webview-setup';
