/** Human-readable check reports for the terminal. */
import type { CheckResult, ElementReport, Verdict } from '../core/gradcheck';
import type { FileReport, ProblemReport } from '../runner/runner';

export interface Style {
  color: boolean;
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

/** An error or skip reason to show after the problem's name: without the name it may start with itself ("w: missing grad"). */
export function reasonText(report: Pick<CheckResult, 'name' | 'error' | 'note'>): string {
  const reason = report.error ?? report.note ?? '';
  return reason.startsWith(`${report.name}: `) ? reason.slice(report.name.length + 2) : reason;
}

/** Three significant digits, exponent form for very small or large magnitudes. */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  return value.toExponential(2);
}

function evaluationSummary(report: ProblemReport): string {
  return Object.entries(report.evaluations)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

function elementLine(element: ElementReport): string {
  const tag = element.passed ? 'ok' : element.kink ? 'kink' : 'FAIL';
  return [
    element.element.padEnd(14),
    `analytic ${formatNumber(element.analytic)}`.padEnd(22),
    `numeric ${formatNumber(element.numeric)}`.padEnd(21),
    `abs ${formatNumber(element.absError)}`.padEnd(14),
    `rel ${formatNumber(element.relError)}`.padEnd(14),
    tag,
  ].join(' ');
}

export function formatProblem(report: ProblemReport, style: Style): string {
  const verdict = paint(style, COLORS[report.verdict], `${MARKS[report.verdict]} ${report.verdict.padEnd(6)}`);
  const order = report.order === 2 ? ' (order 2)' : '';
  const lines: string[] = [];
  if (report.verdict === 'error' || report.verdict === 'skipped') {
    lines.push(`  ${verdict} ${report.name}${order}: ${reasonText(report)}`);
    return lines.join('\n');
  }
  const figures = `max abs ${formatNumber(report.maxAbsError)}, max rel ${formatNumber(report.maxRelError)}; ${evaluationSummary(report)}`;
  lines.push(`  ${verdict} ${report.name}${order}  ${figures}`);
  if (report.verdict === 'nondeterministic') lines.push(`      ${report.error}`);
  if (report.verdict === 'fail' || report.verdict === 'kink') {
    const shown = report.worst.filter((element) => !element.passed).slice(0, 5);
    for (const element of shown) lines.push(`      ${elementLine(element)}`);
    if (report.failed > shown.length) lines.push(`      … ${report.failed - shown.length} more failing of ${report.checked} checked`);
    for (const projection of report.projections.filter((entry) => !entry.passed)) {
      lines.push(`      random direction: analytic ${formatNumber(projection.analytic)}, numeric ${formatNumber(projection.numeric)}, abs ${formatNumber(projection.absError)}`);
    }
    if (report.note) lines.push(`      ${report.note}`);
  }
  return lines.join('\n');
}

export function formatFile(report: FileReport, style: Style): string {
  const lines = [paint(style, '1', report.file)];
  if (report.loadError) lines.push(`  ${paint(style, COLORS.error, '! error')} ${report.loadError}`);
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
