/** Numbers as the dashboard shows them. */
export { formatNumber } from '../../src/core/format';

/** Six significant digits, like the CLI's check report (analytic against numeric values). */
export function formatPrecise(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  return value.toExponential(2);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Number(seconds.toPrecision(3))} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}
