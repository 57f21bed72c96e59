/**
 * Short texts about a check result, shared by CodeLens, diagnostics, Test
 * Explorer messages and the status bar (pure: unit-tested without VS Code).
 */
import type { ErrorReport } from '../core/errors';
import type { ElementReport } from '../core/gradcheck';
import type { FileReport, ProblemReport } from '../runner/reports';
import { errorFigures, formatSummary, reasonText, reportNumber, tensorSummary } from '../report/checks';
import { type SettingWords, errorMessage } from '../report/errors';

/** How messages shown in VS Code name the settings that govern them. */
export const VSCODE_SETTINGS: SettingWords = Object.freeze({
  timeout: 'setting gradlens.timeoutSeconds',
  memory: 'setting gradlens.memoryLimitMb',
  python: "the Python extension's interpreter or the gradlens.pythonPath setting",
  mode: 'the "Fast check" run profile, or the setting gradlens.check.mode',
});

/** An error in VS Code's words, without its place: diagnostics and test messages point at the place themselves. */
export function errorSentence(error: ErrorReport): string {
  return errorMessage(error, VSCODE_SETTINGS);
}

/** The failing element that matters most (the worst failure, else the worst kink). */
export function culprit(report: ProblemReport): ElementReport | undefined {
  return report.worst.find((element) => !element.passed && !element.kink) ?? report.worst.find((element) => element.kink);
}

function what(report: ProblemReport): string {
  if (report.order === 2) return 'Hessian-vector product';
  return report.kind === 'layer' ? 'backward' : 'gradient';
}

/** One line for a CodeLens or the status bar: `✓ max rel err 3e-9`, `✗ W[2,3] rel 0.5`. */
export function verdictTitle(report: ProblemReport): string {
  const order = report.order === 2 ? ' (2nd order)' : '';
  switch (report.verdict) {
    case 'pass':
      return report.zeroGradients > 0 && report.zeroGradients === report.checked
        ? `✓ max abs err ${reportNumber(report.maxAbsError)} (gradient ≈ 0)${order}`
        : `✓ max rel err ${reportNumber(report.maxRelError)}${order}`;
    case 'fail': {
      const element = culprit(report);
      return element ? `✗ ${element.element} rel ${reportNumber(element.relError)}${order}` : `✗ ${what(report)} wrong along a random direction${order}`;
    }
    case 'kink': {
      const element = culprit(report);
      return `~ kink${element ? ` at ${element.element}` : ''}${order}`;
    }
    case 'nondeterministic':
      return `? f or grad differ between calls${order}`;
    case 'skipped':
      return `– skipped${order}`;
    case 'error':
      return `! error${order}`;
  }
}

function elementText(element: ElementReport): string {
  return `${element.element}: analytic ${reportNumber(element.analytic)}, numeric ${reportNumber(element.numeric)} (abs ${reportNumber(element.absError)}, rel ${reportNumber(element.relError)})`;
}

/** The diagnostic message: names the problem, the tensor and index, and the numbers; then the check's note and warnings. */
export function problemMessage(report: ProblemReport): string {
  const subject = `${report.name}${report.order === 2 ? ' (order 2)' : ''}`;
  // Why a verdict came out as it did: full mode chosen for fast, a reshaped gradient, float32 code.
  const said = (message: string, note = report.note) => [message, ...(note ? [note] : []), ...report.warnings].join('. ');
  switch (report.verdict) {
    case 'pass':
      return said(`${subject}: ${what(report)} matches (${errorFigures(report)})`);
    case 'fail': {
      const element = culprit(report);
      const byTensor = tensorSummary(report);
      const count = report.checked > 0 ? `; ${report.failed} of ${report.checked} checked elements fail${byTensor ? ` (${byTensor})` : ''}` : '';
      if (!element) return said(`${subject}: ${what(report)} is wrong along a random direction${report.note ? ` (${report.note})` : ''}`, null);
      const outputs = element.outputs?.length ? `; its Jacobian column is wrong at ${element.outputs.map((output) => output.element).join(', ')}` : '';
      return said(`${subject}: ${what(report)} wrong at ${elementText(element)}${outputs}${count}`);
    }
    case 'kink': {
      const element = culprit(report);
      return said(`${subject}: non-differentiable point${element ? ` at ${elementText(element)}` : ''}; the one-sided differences bracket the analytic value`);
    }
    case 'nondeterministic':
    case 'error':
      return `${subject}: ${report.error ? reasonText(report, errorSentence) : report.verdict}`;
    case 'skipped':
      return `${subject}: skipped${report.note ? ` (${report.note})` : ''}`;
  }
}

/** The worst elements, one per line, for test messages and the output channel. */
export function worstLines(report: ProblemReport, limit = 5): string[] {
  return report.worst.filter((element) => !element.passed).slice(0, limit).map((element) => `${element.kink ? 'kink' : 'FAIL'} ${elementText(element)}`);
}

export interface LastVerdict {
  ok: boolean;
  /** An error only the user can fix outside their code (the runner or its interpreter failed): the status bar turns red. */
  needsUser: boolean;
  text: string;
  tooltip: string;
}

/** Errors of the machinery rather than of the user's gradient: the runner process or its interpreter could not do the work. */
function runnerFailure(reports: readonly FileReport[]): ErrorReport | undefined {
  const errors = reports.flatMap((report) => [report.loadError, ...report.problems.map((problem) => problem.error)]);
  return errors.find((error): error is ErrorReport => error?.kind === 'runner' || error?.kind === 'internal');
}

/** The status bar's summary of a finished check. */
export function lastVerdictOf(reports: readonly FileReport[]): LastVerdict {
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError);
  const summary = formatSummary(problems, loadErrors.length);
  const failing = problems.find((problem) => !problem.passed);
  const ok = loadErrors.length === 0 && failing === undefined && problems.length > 0;
  const broken = runnerFailure(reports);
  const needsUser = broken !== undefined;
  if (ok) return { ok, needsUser, text: problems.length === 1 ? verdictTitle(problems[0]) : `${problems.length} passed`, tooltip: summary };
  if (broken) return { ok, needsUser, text: 'runner failed', tooltip: errorSentence(broken) };
  const loadError = loadErrors[0]?.loadError;
  if (loadError && !failing) return { ok, needsUser, text: 'file not loaded', tooltip: errorSentence(loadError) };
  if (!failing) return { ok, needsUser, text: 'no problems found', tooltip: summary };
  const element = culprit(failing);
  return { ok, needsUser, text: `${failing.name} ${element ? element.element : failing.verdict}`, tooltip: summary };
}

/**
 * What a command-started check says in a notification, if anything (VS Code's
 * UX guidelines: notifications only for what needs action). A pass, an empty
 * or a stopped check says nothing: the status bar, the Test Explorer and the
 * Problems panel show it. A runner failure always says so (the user must fix
 * the setup); failed checks and files that did not load say so unless the
 * user turned that off ('repeats': it comes back on every failing run).
 */
export interface CheckNotification {
  kind: 'runnerFailure' | 'failure';
  text: string;
  /** Comes back on every failing run, so it offers "Don't Show Again". */
  repeats: boolean;
}

/** @param describeError an error with its place (the host passes one with workspace-relative paths) */
export function checkNotification(reports: readonly FileReport[], describeError: (error: ErrorReport) => string = errorSentence): CheckNotification | null {
  if (reports.length === 0 || reports.some((report) => report.cancelled)) return null;
  const broken = runnerFailure(reports);
  if (broken) return { kind: 'runnerFailure', text: `GradLens could not run the check: ${describeError(broken)}`, repeats: false };
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError);
  const failing = problems.filter((problem) => !problem.passed && problem.verdict !== 'skipped');
  if (loadErrors.length === 0 && failing.length === 0) return null;
  const text = loadErrors.length === 1 && problems.length === 0
    ? describeError(loadErrors[0].loadError!)
    : failing.length === 1 && loadErrors.length === 0 ? problemMessage(failing[0]) : formatSummary(problems, loadErrors.length);
  return { kind: 'failure', text: `GradLens: ${text}`, repeats: true };
}
