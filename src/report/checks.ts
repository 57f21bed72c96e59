/** Check reports as text: the terminal's report, and the phrases every edge shares. */
import { REPORT_PRECISION, formatNumber } from '../core/format';
import type { ErrorReport } from '../core/errors';
import type { CheckResult, ElementReport, Verdict } from '../core/gradcheck';
import type { FileReport, ProblemReport } from '../runner/reports';
import { type PathShown, type SettingWords, displayPath, errorText } from './errors';

export interface Style {
  color: boolean;
  /** How settings are named (CLI flags, VS Code settings). */
  settings: SettingWords;
  /** How paths are shown; default relative to the working directory when inside it. */
  showPath?: PathShown;
}

const COLORS: Record<Verdict, string> = {
  pass: '32',
  kink: '33',
  skipped: '90',
  fail: '31',
  nondeterministic: '35',
  error: '31',
};

const MARKS: Record<Verdict, string> = {
  pass: '✓',
  kink: '~',
  skipped: '-',
  fail: '✗',
  nondeterministic: '?',
  error: '!',
};

function paint(style: Style, code: string, text: string): string {
  return style.color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/**
 * An error (as `render` writes it) or skip reason to show after the problem's
 * name: without the name it may start with itself ("w: missing grad").
 */
export function reasonText(report: Pick<CheckResult, 'name' | 'error' | 'note'>, render: (error: ErrorReport) => string): string {
  const reason = report.error ? render(report.error) : report.note ?? '';
  return reason.startsWith(`${report.name}: `) ? reason.slice(report.name.length + 2) : reason;
}

/** Numbers in reports: up to six significant digits, three in exponent form. */
export function reportNumber(value: number): string {
  return formatNumber(value, REPORT_PRECISION);
}

function evaluationSummary(report: ProblemReport): string {
  return Object.entries(report.evaluations)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

/**
 * Which tensors are wrong, for a failing check: `x 20/20 wrong, gamma 0/5, beta 0/5` (elements checked
 * one by one; sparse mode's samples). Null in fast mode and when nothing was checked one by one.
 */
export function tensorSummary(report: Pick<CheckResult, 'mode' | 'tensors' | 'checked'>): string | null {
  if (report.mode === 'fast' || report.checked === 0) return null;
  return report.tensors
    .map(({ name, checked, failed, kinks }) => {
      if (checked === 0) return `${name} not sampled`;
      const atKinks = kinks > 0 ? ` (${kinks === failed ? 'all' : kinks} at kinks)` : '';
      return `${name} ${failed}/${checked}${failed > 0 ? ' wrong' : ''}${atKinks}`;
    })
    .join(', ');
}

/** `max abs 3e-9, max rel 1e-7`, saying when elements with a gradient of about 0 were judged by abs error alone. */
export function errorFigures(report: Pick<CheckResult, 'maxAbsError' | 'maxRelError' | 'checked' | 'zeroGradients'>): string {
  const abs = `max abs ${reportNumber(report.maxAbsError)}`;
  if (report.zeroGradients === 0) return `${abs}, max rel ${reportNumber(report.maxRelError)}`;
  if (report.zeroGradients === report.checked) return `${abs} (every gradient ≈ 0: judged by abs error, rel error means nothing there)`;
  return `${abs}, max rel ${reportNumber(report.maxRelError)} (${report.zeroGradients} with gradient ≈ 0 judged by abs error alone)`;
}

function elementLine(element: ElementReport): string {
  const tag = element.passed ? 'ok' : element.kink ? 'kink' : 'FAIL';
  return [
    element.element.padEnd(14),
    `analytic ${reportNumber(element.analytic)}`.padEnd(22),
    `numeric ${reportNumber(element.numeric)}`.padEnd(21),
    `abs ${reportNumber(element.absError)}`.padEnd(14),
    `rel ${reportNumber(element.relError)}`.padEnd(14),
    tag,
  ].join(' ');
}

export function formatProblem(report: ProblemReport, style: Style): string {
  const verdict = paint(style, COLORS[report.verdict], `${MARKS[report.verdict]} ${report.verdict.padEnd(6)}`);
  const order = report.order === 2 ? ' (order 2)' : '';
  const lines: string[] = [];
  if (report.verdict === 'error' || report.verdict === 'skipped') {
    lines.push(`  ${verdict} ${report.name}${order}: ${reasonText(report, (error) => errorText(error, style.settings, style.showPath))}`);
    for (const warning of report.warnings) lines.push(`      warning: ${warning}`);
    return lines.join('\n');
  }
  const figures = `${errorFigures(report)}; ${evaluationSummary(report)}`;
  lines.push(`  ${verdict} ${report.name}${order}  ${figures}`);
  for (const warning of report.warnings) lines.push(`      warning: ${warning}`);
  if (report.verdict === 'nondeterministic' && report.error) lines.push(`      ${errorText(report.error, style.settings, style.showPath)}`);
  if (report.verdict === 'fail' || report.verdict === 'kink') {
    const byTensor = tensorSummary(report);
    if (byTensor) lines.push(`      ${byTensor}`);
    const shown = report.worst.filter((element) => !element.passed).slice(0, 5);
    for (const element of shown) {
      lines.push(`      ${elementLine(element)}`);
      for (const output of element.outputs ?? []) lines.push(`        d ${output.element}: analytic ${reportNumber(output.analytic)}, numeric ${reportNumber(output.numeric)}`);
    }
    if (report.failed > shown.length) lines.push(`      … ${report.failed - shown.length} more failing of ${report.checked} checked`);
    for (const projection of report.projections.filter((entry) => !entry.passed)) {
      lines.push(`      random direction: analytic ${reportNumber(projection.analytic)}, numeric ${reportNumber(projection.numeric)}, abs ${reportNumber(projection.absError)}`);
    }
    if (report.note) lines.push(`      ${report.note}`);
  }
  return lines.join('\n');
}

export function formatFile(report: FileReport, style: Style): string {
  const lines = [paint(style, '1', (style.showPath ?? displayPath)(report.file))];
  if (report.loadError) lines.push(`  ${paint(style, COLORS.error, '! error')} ${errorText(report.loadError, style.settings, style.showPath)}`);
  for (const problem of report.problems) lines.push(formatProblem(problem, style));
  if (!report.loadError && report.problems.length === 0) lines.push('  no problems found (exports with params/f/grad or inputs/forward/backward)');
  return lines.join('\n');
}

export function formatSummary(problems: ProblemReport[], loadErrors: number): string {
  const counts = new Map<Verdict, number>();
  for (const problem of problems) counts.set(problem.verdict, (counts.get(problem.verdict) ?? 0) + 1);
  const parts = (['pass', 'kink', 'fail', 'nondeterministic', 'error', 'skipped'] as const)
    .filter((verdict) => counts.has(verdict))
    .map((verdict) => `${counts.get(verdict)} ${verdict === 'pass' ? 'passed' : verdict === 'fail' ? 'failed' : verdict}`);
  if (loadErrors > 0) parts.push(`${loadErrors} file${loadErrors > 1 ? 's' : ''} not loaded`);
  return `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${parts.join(', ') || 'none'}`;
}
