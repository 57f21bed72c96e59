/**
 * The last check results per problem file: one store feeds diagnostics,
 * CodeLens, the Test Explorer, the status bar and the dashboard.
 */
import * as vscode from 'vscode';
import { problemCandidates, pythonProblemCandidates } from '../core/exports';
import type { DiscoveredProblem } from '../protocol';
import type { ErrorReport } from '../core/errors';
import { type FileReport, type ProblemReport, isPythonFile } from '../runner/runner';

export interface FileResults {
  /** The file did not compile or load. */
  loadError: ErrorReport | null;
  /** What the sandbox found the file to export as problems (null until it has loaded the file once). */
  discovered: DiscoveredProblem[] | null;
  /** Last result per problem and order, keyed by `resultKey`. */
  results: Map<string, ProblemReport>;
  /** Results (by `resultKey`) and, as STALE_LOAD_ERROR, the load error that predate an edit of the file: shown dimmed until checked again. */
  stale: Set<string>;
}

/** The key in `FileResults.stale` of a load error that predates an edit. */
export const STALE_LOAD_ERROR = 'load';

export function resultKey(problem: string, order: 1 | 2): string {
  return `${problem}#${order}`;
}

export class ResultStore implements vscode.Disposable {
  private readonly files = new Map<string, FileResults>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): FileResults | undefined {
    return this.files.get(uri.toString());
  }

  /**
   * The file's problems: what the sandbox found once it has loaded the file,
   * before that its exported values from `source` (no code runs).
   */
  problems(uri: vscode.Uri, source: string): DiscoveredProblem[] {
    const discovered = this.get(uri)?.discovered;
    if (discovered) return discovered;
    if (isPythonFile(uri.fsPath)) return pythonProblemCandidates(source);
    return problemCandidates(source).map((site) => ({ name: site.name, kind: 'scalar', line: site.line, secondOrder: false }));
  }

  result(uri: vscode.Uri, problem: string, order: 1 | 2): ProblemReport | undefined {
    return this.get(uri)?.results.get(resultKey(problem, order));
  }

  isStale(uri: vscode.Uri, problem: string, order: 1 | 2): boolean {
    return this.get(uri)?.stale.has(resultKey(problem, order)) ?? false;
  }

  /** The file was edited: its results (and load error) no longer say what the file does. Returns whether there were any. */
  markStale(uri: vscode.Uri): boolean {
    const entry = this.get(uri);
    if (!entry) return false;
    const before = entry.stale.size;
    for (const key of entry.results.keys()) entry.stale.add(key);
    if (entry.loadError) entry.stale.add(STALE_LOAD_ERROR);
    if (entry.stale.size === before) return false;
    this.changed.fire(uri);
    return true;
  }

  all(): [vscode.Uri, FileResults][] {
    return [...this.files.entries()].map(([key, value]) => [vscode.Uri.parse(key), value]);
  }

  private entry(uri: vscode.Uri): FileResults {
    const key = uri.toString();
    let entry = this.files.get(key);
    if (!entry) {
      entry = { loadError: null, discovered: null, results: new Map(), stale: new Set() };
      this.files.set(key, entry);
    }
    return entry;
  }

  /** The sandbox loaded the file: drop results of problems that no longer exist. */
  setDiscovered(uri: vscode.Uri, discovered: DiscoveredProblem[]): void {
    const entry = this.entry(uri);
    entry.discovered = discovered;
    entry.loadError = null;
    entry.stale.delete(STALE_LOAD_ERROR);
    const names = new Set(discovered.map((problem) => problem.name));
    for (const [key, result] of entry.results) {
      if (names.has(result.name)) continue;
      entry.results.delete(key);
      entry.stale.delete(key);
    }
    this.changed.fire(uri);
  }

  /** Records one problem's result as it arrives. */
  setResult(uri: vscode.Uri, report: ProblemReport): void {
    const entry = this.entry(uri);
    const key = resultKey(report.name, report.order);
    entry.results.set(key, report);
    entry.stale.delete(key);
    this.changed.fire(uri);
  }

  /** A finished (or stopped) check of the file. */
  setFileReport(uri: vscode.Uri, report: FileReport): void {
    const entry = this.entry(uri);
    entry.loadError = report.loadError;
    entry.stale.delete(STALE_LOAD_ERROR);
    if (report.loadError) {
      entry.results.clear();
      entry.stale.clear();
    }
    if (report.discovered) entry.discovered = report.discovered;
    for (const problem of report.problems) {
      entry.results.set(resultKey(problem.name, problem.order), problem);
      entry.stale.delete(resultKey(problem.name, problem.order));
    }
    this.changed.fire(uri);
  }

  delete(uri: vscode.Uri): void {
    if (this.files.delete(uri.toString())) this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
