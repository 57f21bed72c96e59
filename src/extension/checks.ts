/**
 * Gradient checks from the host: every file goes through the sandboxed
 * runner (the host never loads user code); results land in the store, the
 * full report in the log.
 */
import * as vscode from 'vscode';
import type { CheckMode } from '../core/gradcheck';
import { type FileReport, type ProblemReport, checkFile } from '../runner/runner';
import { formatFile } from '../report/checks';
import { VSCODE_SETTINGS } from './describe';
import { workspacePath } from './text';
import type { JobContext } from './jobs';
import type { Services } from './services';

/** Which problems of a file to check. */
export interface CheckSelection {
  uri: vscode.Uri;
  /** Only these problems (export names); all when null; none (load only) when empty. */
  only: string[] | null;
}

export interface CheckRequestOptions {
  order: 1 | 2;
  /** Overrides the `gradlens.check.mode` setting (the Test Explorer's fast profile). */
  mode?: CheckMode;
  onResult?: (uri: vscode.Uri, report: ProblemReport) => void;
}

/** The runner reads files from disk: save open editors of these files first. */
async function saveDirty(uris: readonly vscode.Uri[]): Promise<void> {
  const wanted = new Set(uris.map((uri) => uri.toString()));
  await Promise.all(vscode.workspace.textDocuments.filter((document) => document.isDirty && wanted.has(document.uri.toString())).map((document) => document.save()));
}

export async function checkTargets(services: Services, targets: readonly CheckSelection[], options: CheckRequestOptions, job: JobContext): Promise<FileReport[]> {
  await saveDirty(targets.map((target) => target.uri));
  const reports: FileReport[] = [];
  for (const target of targets) {
    if (job.signal.aborted) break;
    const settings = services.settings(target.uri);
    const relative = vscode.workspace.asRelativePath(target.uri);
    job.report(relative);
    const python = await services.interpreterFor(target.uri);
    const report = await checkFile(
      target.uri.fsPath,
      { ...settings.check, mode: options.mode ?? settings.check.mode, order: options.order, elementErrors: true },
      settings.limits,
      {
        signal: job.signal,
        onOutput: (text) => services.output.append(text),
        onProblemStarted: (_file, problem) => job.report(`${relative}: ${problem}`),
        onProgress: (_file, problem, done, total) => job.report(`${relative}: ${problem} ${Math.floor((100 * done) / total)} %`),
        onLoaded: (_file, problems) => services.store.setDiscovered(target.uri, problems),
        onResult: (problem) => {
          services.store.setResult(target.uri, problem);
          options.onResult?.(target.uri, problem);
        },
      },
      target.only,
      python,
    );
    services.store.setFileReport(target.uri, report);
    if (target.only?.length !== 0) {
      services.output.info(`\n${formatFile(report, { color: false, settings: VSCODE_SETTINGS, showPath: workspacePath })}`);
      services.dashboards.publishCheck(report);
    }
    reports.push(report);
  }
  return reports;
}
