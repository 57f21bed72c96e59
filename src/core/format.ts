/** Numbers as messages and reports show them. */

/** Significant digits: in plain notation between 1e-3 and 1e5, and in exponent notation outside. */
export interface Precision {
  plain: number;
  exponent: number;
}

/** Messages and the dashboard: `0.123`, `1.2e-7`. */
export const MESSAGE_PRECISION: Precision = Object.freeze({ plain: 3, exponent: 2 });
/** Check and run reports, where the digits are the point: `0.166667`, `1.23e-7`. */
export const REPORT_PRECISION: Precision = Object.freeze({ plain: 6, exponent: 3 });

export function formatNumber(value: number, precision: Precision = MESSAGE_PRECISION): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(precision.plain)));
  return value.toExponential(precision.exponent - 1);
}
