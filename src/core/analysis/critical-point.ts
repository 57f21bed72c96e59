/**
 * Critical-point analysis of a scalar problem: is the gradient zero, and
 * what does the Hessian say there (the second-derivative test)?
 *
 *  - all eigenvalues positive: a local minimum; all negative: a maximum;
 *  - both signs: a saddle point, left along the eigenvector of the most
 *    negative eigenvalue, where the loss falls like ½λα²;
 *  - a zero eigenvalue and one sign only: degenerate, the test says nothing.
 *
 * The "minimum ratio" is the fraction of positive eigenvalues (1 at a
 * minimum). Small problems get the whole spectrum from the dense Hessian;
 * large ones the extremes by Lanczos on Hessian-vector products, which
 * decide the classification as well (a minimum iff the lowest eigenvalue is
 * positive, and so on).
 */
import type { ScalarDefinition } from '../problem';
import { dot } from '../vector';
import { DENSE_EIGEN_LIMIT, DEFAULT_LANCZOS_OPTIONS, lanczos, symmetricEigen } from './eigen';
import {
  DEFAULT_HESSIAN_OPTIONS,
  type HessianOptions,
  type HessianSource,
  type SymmetryReport,
  computeHessian,
  hessianVectorProduct,
  productSymmetry,
} from './hessian';
import { formatNumber } from '../format';
import { asObjective } from '../definitions';
import { type Evaluations, type Objective, at, evaluationsSince, startingPoint } from '../objective';
import { type NamedShape, describeElement, namedShapes } from '../tensor';

export type Classification = 'minimum' | 'maximum' | 'saddle' | 'degenerate';

export interface CriticalPointOptions extends HessianOptions {
  /** A point is critical when ‖grad‖₂ ≤ this; null: 1e-6 * max(1, |f|). */
  gradientTolerance: number | null;
  /** Eigenvalues with |λ| ≤ zeroTolerance * max|λ| count as zero. */
  zeroTolerance: number;
  /** Up to this many parameters the Hessian is formed and fully decomposed; above, Lanczos finds the extremes. */
  denseLimit: number;
  /** Lanczos: eigenvalues wanted at each end of the spectrum. */
  k: number;
  /** Lanczos: largest Krylov basis (one Hessian-vector product each). */
  maxIterations: number;
  /** Lanczos: relative residual at which a Ritz pair has converged. */
  lanczosTolerance: number;
  /** Seed of the Lanczos start vector and of the symmetry probes. */
  seed: number;
  /** Steps along the escape direction, as multiples of max(1, ‖x‖). */
  escapeSteps: number[];
  /** How many of the escape direction's largest elements are listed by name. */
  escapeElements: number;
}

export const DEFAULT_CRITICAL_POINT_OPTIONS: Readonly<CriticalPointOptions> = Object.freeze({
  ...DEFAULT_HESSIAN_OPTIONS,
  gradientTolerance: null,
  zeroTolerance: 1e-6,
  denseLimit: DENSE_EIGEN_LIMIT,
  k: DEFAULT_LANCZOS_OPTIONS.k,
  maxIterations: DEFAULT_LANCZOS_OPTIONS.maxIterations,
  lanczosTolerance: DEFAULT_LANCZOS_OPTIONS.tolerance,
  seed: 0,
  escapeSteps: [1e-3, 1e-2, 1e-1],
  escapeElements: 20,
});

export interface NamedValue {
  /** `W[0,1]` */
  element: string;
  value: number;
}

export interface EscapeStep {
  /** α: the distance moved along the unit direction. */
  step: number;
  /** +1 or -1: which way along the direction did better. */
  sign: number;
  /** f(x + sign·α·v) - f(x): negative when the loss falls. */
  lossChange: number;
  /** The quadratic model's change ½λα². */
  predicted: number;
}

export interface EscapeDirection {
  /** The most negative eigenvalue λ. */
  eigenvalue: number;
  /** Its unit eigenvector, flat in the order of params, signed so that its largest element is positive. */
  direction: number[];
  /** The direction's largest elements by magnitude, by name. */
  elements: NamedValue[];
  steps: EscapeStep[];
}

export interface SpectrumReport {
  /** 'dense': every eigenvalue of the formed Hessian; 'lanczos': the extremes only. */
  method: 'dense' | 'lanczos';
  /** Ascending: all eigenvalues, or the k lowest and k highest. */
  eigenvalues: number[];
  complete: boolean;
  /** Lanczos: every reported eigenvalue converged (always true for dense). */
  converged: boolean;
  /** Lanczos iterations (Hessian-vector products), or null for dense. */
  iterations: number | null;
  /** Among the reported eigenvalues (for an incomplete spectrum: at least that many). */
  negative: number;
  zero: number;
  positive: number;
  /** |λ| at or below this counts as zero: zeroTolerance * max|λ|. */
  zeroThreshold: number;
}

export interface CriticalPointReport {
  name: string;
  /** Number of parameters. */
  size: number;
  /** The problem's tensors: the escape direction is flat in this order. */
  layout: NamedShape[];
  loss: number;
  gradientNorm: number;
  /** The gradient element of largest magnitude. */
  largestGradient: NamedValue;
  gradientTolerance: number;
  critical: boolean;
  hessian: {
    source: HessianSource;
    /** Symmetry before symmetrizing (dense), or from two random probes (Lanczos). */
    symmetry: SymmetryReport;
  };
  spectrum: SpectrumReport;
  /** The curvature class: what kind of critical point this is (or would be, when `critical` is false). */
  classification: Classification;
  /** Fraction of positive eigenvalues; null when an incomplete spectrum cannot tell. */
  minimumRatio: number | null;
  /** max|λ| / min|λ|; null when an eigenvalue is zero (infinite) or the spectrum is too incomplete to tell. */
  conditionNumber: number | null;
  /** The same over the non-zero eigenvalues only; null when there are none or it cannot be told. */
  nonZeroConditionNumber: number | null;
  /** Saddles and maxima: how to leave. */
  escape: EscapeDirection | null;
  evaluations: Evaluations;
  /** One sentence for the reader. */
  summary: string;
}

/** -0 as 0, so reports compare and print cleanly. */
function clean(value: number): number {
  return value === 0 ? 0 : value;
}

function formatDirection(direction: readonly number[], elements: readonly NamedValue[]): string {
  if (direction.length <= 4) {
    return `(${direction.map((value) => formatNumber(Math.abs(value) < 1e-12 ? 0 : value)).join(', ')})`;
  }
  // The largest components as a combination of named unit vectors: "0.71·W[0,1] - 0.71·b[2] + …".
  const significant = elements.filter((entry, i) => i === 0 || Math.abs(entry.value) >= 0.01);
  if (significant.length === 1 && Math.abs(significant[0].value - 1) < 5e-4) return significant[0].element;
  const shown = significant.slice(0, 3).map((entry, i) => {
    const sign = entry.value < 0 ? '-' : '+';
    const term = `${formatNumber(Math.abs(entry.value))}·${entry.element}`;
    return i === 0 ? `${entry.value < 0 ? '-' : ''}${term}` : `${sign} ${term}`;
  });
  return `${shown.join(' ')}${significant.length > 3 || elements.length < direction.length ? ' + …' : ''}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

interface Spectrum {
  report: SpectrumReport;
  /** Unit eigenvector of the lowest eigenvalue, computed on demand. */
  lowestVector(): Float64Array;
  symmetry: SymmetryReport;
  source: HessianSource;
}

async function denseSpectrum(objective: Objective, x: Float64Array, options: CriticalPointOptions): Promise<Spectrum> {
  const hessian = await computeHessian(objective, x, options);
  const { values, vectors } = symmetricEigen(hessian.matrix);
  return {
    report: {
      method: 'dense',
      eigenvalues: values.map(clean),
      complete: true,
      converged: true,
      iterations: null,
      negative: 0,
      zero: 0,
      positive: 0,
      zeroThreshold: 0,
    },
    lowestVector: () => vectors[0],
    symmetry: hessian.symmetry,
    source: hessian.source,
  };
}

async function lanczosSpectrum(objective: Objective, x: Float64Array, options: CriticalPointOptions): Promise<Spectrum> {
  const product = hessianVectorProduct(objective, x, options);
  const symmetry = await productSymmetry(product, options.seed, options.symmetryTolerance);
  const result = await lanczos((v) => product.apply(v), objective.layout.size, {
    k: options.k,
    maxIterations: options.maxIterations,
    tolerance: options.lanczosTolerance,
    seed: options.seed,
  });
  const complete = result.pairs.length === objective.layout.size;
  return {
    report: {
      method: 'lanczos',
      eigenvalues: result.pairs.map((pair) => clean(pair.value)),
      complete,
      converged: result.converged,
      iterations: result.iterations,
      negative: 0,
      zero: 0,
      positive: 0,
      zeroThreshold: 0,
    },
    lowestVector: () => result.vector(0),
    symmetry,
    source: product.source,
  };
}

interface Verdict {
  classification: Classification;
  minimumRatio: number | null;
  conditionNumber: number | null;
  nonZeroConditionNumber: number | null;
}

/** Counts signs (filling the report) and classifies by them. */
function classify(spectrum: SpectrumReport, size: number, zeroTolerance: number): Verdict {
  const values = spectrum.eigenvalues;
  const lowest = values[0];
  const highest = values[values.length - 1];
  const largest = Math.max(Math.abs(lowest), Math.abs(highest));
  const threshold = zeroTolerance * largest;
  spectrum.zeroThreshold = threshold;
  spectrum.negative = values.filter((value) => value < -threshold).length;
  spectrum.positive = values.filter((value) => value > threshold).length;
  spectrum.zero = values.length - spectrum.negative - spectrum.positive;
  // The extremes decide the class, complete spectrum or not.
  const hasNegative = lowest < -threshold;
  const hasPositive = highest > threshold;
  const classification: Classification = hasNegative && hasPositive
    ? 'saddle'
    : !hasNegative && !hasPositive
      ? 'degenerate'
      : hasPositive
        ? lowest > threshold ? 'minimum' : 'degenerate'
        : highest < -threshold ? 'maximum' : 'degenerate';
  if (spectrum.complete) {
    let smallestNonZero = Infinity;
    for (const value of values) if (Math.abs(value) > threshold) smallestNonZero = Math.min(smallestNonZero, Math.abs(value));
    const anyNonZero = smallestNonZero < Infinity;
    return {
      classification,
      minimumRatio: spectrum.positive / size,
      // With no zero eigenvalue the smallest |λ| is the smallest non-zero one.
      conditionNumber: spectrum.zero > 0 || !anyNonZero ? null : largest / smallestNonZero,
      nonZeroConditionNumber: anyNonZero ? largest / smallestNonZero : null,
    };
  }
  // Only the extremes are known: the smallest |λ| is among them only when all eigenvalues have one sign.
  const definite = classification === 'minimum' || classification === 'maximum';
  const inner = Math.min(Math.abs(lowest), Math.abs(highest));
  return {
    classification,
    minimumRatio: classification === 'minimum' ? 1 : classification === 'maximum' ? 0 : null,
    conditionNumber: definite ? largest / inner : null,
    nonZeroConditionNumber: definite ? largest / inner : null,
  };
}

async function escapeAlong(
  objective: Objective,
  x: Float64Array,
  loss: number,
  eigenvalue: number,
  vector: Float64Array,
  options: CriticalPointOptions,
): Promise<EscapeDirection> {
  const n = objective.layout.size;
  let pivot = 0;
  for (let i = 1; i < n; i++) if (Math.abs(vector[i]) > Math.abs(vector[pivot])) pivot = i;
  const sign = vector[pivot] < 0 ? -1 : 1;
  const direction = Array.from(vector, (value) => clean(sign * value));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(direction[b]) - Math.abs(direction[a]) || a - b);
  const elements = order.slice(0, Math.max(0, options.escapeElements)).map((i) => ({ element: describeElement(objective.layout, i), value: direction[i] }));
  const scale = Math.max(1, Math.sqrt(dot(x, x)));
  const steps: EscapeStep[] = [];
  for (const multiple of options.escapeSteps) {
    const step = multiple * scale;
    let best: EscapeStep | null = null;
    for (const side of [1, -1]) {
      const moved = new Float64Array(n);
      for (let i = 0; i < n; i++) moved[i] = x[i] + side * step * direction[i];
      const where = `along the escape direction (step ${side < 0 ? '-' : ''}${formatNumber(step)})`;
      const lossChange = (await at(where, () => objective.loss(moved, null))) - loss;
      if (best === null || lossChange < best.lossChange) best = { step, sign: side, lossChange, predicted: 0.5 * eigenvalue * step * step };
    }
    steps.push(best!);
  }
  return { eigenvalue, direction, elements, steps };
}

function summarize(report: Omit<CriticalPointReport, 'summary'>): string {
  const { spectrum, classification, size } = report;
  const counted = spectrum.complete ? `${spectrum.eigenvalues.length}` : `${size}`;
  const atLeast = spectrum.complete ? '' : 'at least ';
  let curvature: string;
  switch (classification) {
    case 'minimum':
      curvature = `all ${counted} eigenvalues positive${report.conditionNumber !== null ? ` (condition number ${formatNumber(report.conditionNumber)})` : ''}`;
      break;
    case 'maximum':
      curvature = `all ${counted} eigenvalues negative`;
      break;
    case 'saddle':
      curvature = `${atLeast}${spectrum.negative} of ${counted} eigenvalues negative${report.minimumRatio !== null ? ` (minimum ratio ${formatNumber(report.minimumRatio)})` : ''}`;
      break;
    default:
      curvature = spectrum.zero === spectrum.eigenvalues.length && spectrum.complete
        ? 'the Hessian is zero, so the second-derivative test is inconclusive'
        : `${atLeast}${spectrum.zero} of ${counted} eigenvalues zero (|λ| ≤ ${formatNumber(spectrum.zeroThreshold)}) and none of the other sign, so the second-derivative test is inconclusive`;
  }
  const parts: string[] = [];
  if (report.critical) {
    const kind = classification === 'degenerate' ? 'degenerate critical point' : classification === 'saddle' ? 'saddle point' : classification;
    parts.push(`${kind}: ${curvature}`);
  } else {
    parts.push(
      `not a critical point: gradient norm ${formatNumber(report.gradientNorm)} > tolerance ${formatNumber(report.gradientTolerance)} ` +
        `(largest ${report.largestGradient.element} = ${formatNumber(report.largestGradient.value)}); curvature there (${classification}): ${curvature}`,
    );
  }
  const escape = report.escape;
  if (escape && escape.steps.length > 0) {
    const last = escape.steps[escape.steps.length - 1];
    const along = formatDirection(escape.direction, escape.elements);
    parts.push(
      last.lossChange < 0
        ? `escape along ${along} lowers the loss by ${formatNumber(-last.lossChange)} at step ${formatNumber(last.step)} (quadratic model ${formatNumber(-last.predicted)})`
        : `escape along ${along} does not lower the loss at step ${formatNumber(last.step)} (change ${formatNumber(last.lossChange)}, quadratic model ${formatNumber(last.predicted)})`,
    );
  }
  if (spectrum.method === 'lanczos') {
    parts.push(`extreme eigenvalues by Lanczos (${plural(spectrum.iterations ?? 0, 'iteration')}${spectrum.converged ? '' : ', not converged: estimates only'})`);
  }
  if (report.hessian.symmetry.warning) parts.push(`warning: ${report.hessian.symmetry.warning}`);
  return parts.join('; ');
}

/**
 * Analyzes the point `values` (flat, in the order of params; default the
 * problem's params): gradient, Hessian spectrum, classification and, at a
 * saddle or maximum, the escape direction. Returns a plain JSON-safe report.
 * Errors in user code throw UserCodeError or TensorError naming the
 * function, the element and the point of the call.
 */
export async function analyzeCriticalPoint(
  problem: ScalarDefinition | Objective,
  values?: ArrayLike<number>,
  partialOptions: Partial<CriticalPointOptions> = {},
): Promise<CriticalPointReport> {
  const options: CriticalPointOptions = { ...DEFAULT_CRITICAL_POINT_OPTIONS, ...partialOptions };
  const objective = asObjective(problem);
  const before = { ...objective.evaluations };
  const x = startingPoint(objective, values);
  const n = objective.layout.size;
  const loss = await at('at the point', () => objective.loss(x, null));
  const gradient = await at('at the point', () => objective.gradient(x, null));
  const gradientNorm = Math.sqrt(dot(gradient, gradient));
  let largest = 0;
  for (let i = 1; i < n; i++) if (Math.abs(gradient[i]) > Math.abs(gradient[largest])) largest = i;
  const gradientTolerance = options.gradientTolerance ?? 1e-6 * Math.max(1, Math.abs(loss));
  const spectrum = n <= options.denseLimit ? await denseSpectrum(objective, x, options) : await lanczosSpectrum(objective, x, options);
  const verdict = classify(spectrum.report, n, options.zeroTolerance);
  const escape = verdict.classification === 'saddle' || verdict.classification === 'maximum'
    ? await escapeAlong(objective, x, loss, spectrum.report.eigenvalues[0], spectrum.lowestVector(), options)
    : null;
  const report: Omit<CriticalPointReport, 'summary'> = {
    name: objective.name,
    layout: namedShapes(objective.layout),
    size: n,
    loss,
    gradientNorm,
    largestGradient: { element: describeElement(objective.layout, largest), value: clean(gradient[largest]) },
    gradientTolerance,
    critical: gradientNorm <= gradientTolerance,
    hessian: { source: spectrum.source, symmetry: spectrum.symmetry },
    spectrum: spectrum.report,
    ...verdict,
    escape,
    evaluations: evaluationsSince(before, objective.evaluations),
  };
  return { ...report, summary: summarize(report) };
}
