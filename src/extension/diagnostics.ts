/**
 * Problems panel entries: a failed check on the export that failed (with the
 * place user code threw as related information), a compile or load error on
 * its line. Cleared when the check passes. After an edit they are stale: shown
 * as information, not errors, and tagged as such, until the next check.
 */
import * as vscode from 'vscode';
import type { SourceLocation } from '../core/errors';
import { locateExport, pythonProblemCandidates } from '../core/exports';
import { isPythonFile } from '../runner/runner';
import { errorSentence, problemMessage } from './describe';
import { type FileResults, type ResultStore, STALE_LOAD_ERROR, resultKey } from './results';

/** Appended to a diagnostic whose check predates an edit of its file. */
export const STALE_NOTE = ' (stale: the file changed since this check)';

/** The export's line in the document as it is now (edits move it), else `line`. */
function currentLine(document: vscode.TextDocument | undefined, name: string, line: number | null): number | null {
  if (!document) return line;
  const text = document.getText();
  const found = isPythonFile(document.uri.fsPath) ? pythonProblemCandidates(text).find((candidate) => candidate.name === name)?.line : locateExport(text, name);
  return found ?? line;
}

/** The range of `name` on 1-based `line` (the whole line when the name is not on it). */
export function exportRange(document: vscode.TextDocument | undefined, line: number | null, name: string): vscode.Range {
  const row = Math.max(0, (line ?? 1) - 1);
  if (!document || row >= document.lineCount) return new vscode.Range(row, 0, row, 0);
  const text = document.lineAt(row).text;
  const column = name === 'default' ? text.indexOf('default') : text.search(new RegExp(`\\b${name.replace(/[$]/g, '\\$')}\\b`));
  if (column < 0) return document.lineAt(row).range;
  return new vscode.Range(row, column, row, column + (name === 'default' ? 7 : name.length));
}

/** A place in the user's files as VS Code points at it. */
export function vscodeLocation(location: SourceLocation): vscode.Location {
  const position = new vscode.Position(Math.max(0, location.line - 1), Math.max(0, (location.column ?? 1) - 1));
  return new vscode.Location(vscode.Uri.file(location.file), position);
}

function diagnosticsOf(uri: vscode.Uri, results: FileResults, document: vscode.TextDocument | undefined): vscode.Diagnostic[] {
  if (results.loadError) {
    const at = results.loadError.location ? vscodeLocation(results.loadError.location) : null;
    const here = at !== null && at.uri.fsPath === uri.fsPath;
    const range = here ? new vscode.Range(at.range.start, at.range.start.translate(0, 1)) : new vscode.Range(0, 0, 0, 0);
    const stale = results.stale.has(STALE_LOAD_ERROR);
    const diagnostic = new vscode.Diagnostic(range, `${errorSentence(results.loadError)}${stale ? STALE_NOTE : ''}`, stale ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'GradLens';
    diagnostic.code = 'load-error';
    // In another file (a module the problem file imports): point there too.
    if (at && !here) diagnostic.relatedInformation = [new vscode.DiagnosticRelatedInformation(at, 'the file failed to load here')];
    return [diagnostic];
  }
  const diagnostics: vscode.Diagnostic[] = [];
  for (const report of results.results.values()) {
    if (report.passed && report.verdict !== 'kink') continue;
    if (report.verdict === 'skipped') continue;
    const stale = results.stale.has(resultKey(report.name, report.order));
    const severity = report.passed || stale ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Error;
    const line = stale ? currentLine(document, report.name, report.line) : report.line;
    const diagnostic = new vscode.Diagnostic(exportRange(document, line, report.name), `${problemMessage(report)}${stale ? STALE_NOTE : ''}`, severity);
    diagnostic.source = 'GradLens';
    diagnostic.code = report.verdict;
    const thrownAt = report.error?.location ? vscodeLocation(report.error.location) : null;
    if (thrownAt && !(thrownAt.uri.fsPath === uri.fsPath && thrownAt.range.start.line === (report.line ?? 0) - 1)) {
      diagnostic.relatedInformation = [new vscode.DiagnosticRelatedInformation(thrownAt, 'user code failed here')];
    }
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

export function registerDiagnostics(store: ResultStore): vscode.Disposable {
  const collection = vscode.languages.createDiagnosticCollection('gradlens');
  const refresh = (uri: vscode.Uri) => {
    const results = store.get(uri);
    if (!results) {
      collection.delete(uri);
      return;
    }
    const document = vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri.toString());
    collection.set(uri, diagnosticsOf(uri, results, document));
  };
  return vscode.Disposable.from(collection, store.onDidChange(refresh));
}
