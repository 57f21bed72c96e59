/**
 * What a built-in problem is: a named, documented factory of regular
 * problems (the same contract as a user's problem file), plus, for 2-D
 * surfaces, what a plot needs (bounds, start, known critical points).
 */
import type { Problem } from '../problem';

/** Options of `create`: `seed` (data and initialization) and per-problem settings such as `condition`. */
export interface BuiltinOptions {
  seed?: number;
  [key: string]: unknown;
}

export type CriticalKind = 'minimum' | 'maximum' | 'saddle' | 'degenerate';

export interface CriticalPoint {
  point: number[];
  /** 'degenerate': the Hessian is singular there, so the second-derivative test says nothing. */
  kind: CriticalKind;
}

export interface BuiltinProblem {
  /** kebab-case, e.g. `monkey-saddle`. */
  name: string;
  /** One or two sentences that teach what the problem shows. */
  description: string;
  /** Number of parameters with the default options. */
  dimension: number;
  create(options?: BuiltinOptions): Problem;
  /** 2-D problems: the plot window, the default starting point and the known minima. */
  bounds?: { x: [number, number]; y: [number, number] };
  start?: number[];
  minima?: number[][];
  /** Known critical points (gradient 0) with their kind, for teaching and tests. */
  criticalPoints?: CriticalPoint[];
}
