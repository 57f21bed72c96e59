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

/** The diagnostic message: names the problem, the tensor and index, and the numbers. */
export function problemMessage(report: ProblemReport): string {
  const subject = `${report.name}${report.order === 2 ? ' (order 2)' : ''}`;
  switch (report.verdict) {
    case 'pass':
      return `${subject}: ${what(report)} matches (${errorFigures(report)})`;
    case 'fail': {
      const element = culprit(report);
      const byTensor = tensorSummary(report);
      const count = report.checked > 0 ? `; ${report.failed} of ${report.checked} checked elements fail${byTensor ? ` (${byTensor})` : ''}` : '';
      if (!element) return `${subject}: ${what(report)} is wrong along a random direction${report.note ? ` (${report.note})` : ''}`;
      const outputs = element.outputs?.length ? `; its Jacobian column is wrong at ${element.outputs.map((output) => output.element).join(', ')}` : '';
      return `${subject}: ${what(report)} wrong at ${elementText(element)}${outputs}${count}`;
    }
    case 'kink': {
      const element = culprit(report);
      return `${subject}: non-differentiable point${element ? ` at ${elementText(element)}` : ''}; the one-sided differences bracket the analytic value`;
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
  text: string;
  tooltip: string;
}

/** The status bar's summary of a finished check. */
export function lastVerdictOf(reports: readonly FileReport[]): LastVerdict {
  const problems = reports.flatMap((report) => report.problems);
  const loadErrors = reports.filter((report) => report.loadError);
  const summary = formatSummary(problems, loadErrors.length);
  const failing = problems.find((problem) => !problem.passed);
  const ok = loadErrors.length === 0 && failing === undefined && problems.length > 0;
  if (ok) return { ok, text: problems.length === 1 ? verdictTitle(problems[0]) : `${problems.length} passed`, tooltip: summary };
  const loadError = loadErrors[0]?.loadError;
  if (loadError && !failing) return { ok, text: 'file not loaded', tooltip: errorSentence(loadError) };
  if (!failing) return { ok, text: 'no problems found', tooltip: summary };
  const element = culprit(failing);
  return { ok, text: `${failing.name} ${element ? element.element : failing.verdict}`, tooltip: summary };
}
