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
import { DebugAttachment } from './debugging';
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
  /** Under the debugger (no time limits), attached as part of this test run. */
  debug?: { testRun: vscode.TestRun | undefined };
}

/** The runner reads files from disk: save open editors of these files first (saves a continuous run does not answer). */
async function saveDirty(services: Services, uris: readonly vscode.Uri[]): Promise<void> {
  const wanted = new Set(uris.map((uri) => uri.toString()));
  const dirty = vscode.workspace.textDocuments.filter((document) => document.isDirty && wanted.has(document.uri.toString()));
  for (const document of dirty) services.ownSaves.add(document.uri.toString());
  try {
    await Promise.all(dirty.map((document) => document.save()));
  } finally {
    // The save events came before the saves resolved; a save that failed must not hide the user's next one.
    for (const document of dirty) services.ownSaves.delete(document.uri.toString());
  }
}

export async function checkTargets(services: Services, targets: readonly CheckSelection[], options: CheckRequestOptions, job: JobContext): Promise<FileReport[]> {
  await saveDirty(services, targets.map((target) => target.uri));
  const reports: FileReport[] = [];
  for (const target of targets) {
    if (job.signal.aborted) break;
    const settings = services.settings(target.uri);
    const relative = vscode.workspace.asRelativePath(target.uri);
    job.report(relative);
    const python = await services.interpreterFor(target.uri);
    // Each file's check stops on its own when its debug session ends; the job's stop stops them all.
    const stopper = new AbortController();
    const stopAll = () => stopper.abort();
    job.signal.addEventListener('abort', stopAll);
    const debugging = options.debug
      ? new DebugAttachment(target.uri, services.context.extensionPath, options.debug.testRun, (reason) => {
        services.output.info(`Stopped the check of ${relative}: ${reason}`);
        stopper.abort();
      })
      : null;
    const report = await checkFile(
      target.uri.fsPath,
      { ...settings.check, mode: options.mode ?? settings.check.mode, order: options.order, elementErrors: true },
      { ...settings.limits, debug: debugging !== null },
      {
        signal: stopper.signal,
        onDebuggerListening: (address) => debugging?.attach(address),
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
    ).finally(() => {
      job.signal.removeEventListener('abort', stopAll);
      debugging?.dispose();
    });
    services.store.setFileReport(target.uri, report);
    if (target.only?.length !== 0) {
      services.output.info(`\n${formatFile(report, { color: false, settings: VSCODE_SETTINGS, showPath: workspacePath })}`);
      services.dashboards.publishCheck(report);
    }
    reports.push(report);
  }
  return reports;
}
