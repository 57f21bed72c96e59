/**
 * The Hessian of a scalar problem at a flat point, and Hessian-vector
 * products without forming it.
 *
 * With the problem's hvp the Hessian is exact: column j is hvp(x, e_j).
 * Without it, column j is the central difference of grad,
 * (grad(x + h e_j) - grad(x - h e_j)) / 2h with h = step * max(1, |x_j|).
 * Either way the result is symmetrized, ½(H + Hᵀ); the defect before that
 * measures the consistency of the user's code: a true Hessian is symmetric
 * (Schwarz), so a large defect means hvp is not the derivative of grad, or
 * grad is not the gradient of any function.
 */
import { Random } from '../random';
import { dot } from '../vector';
import type { ScalarDefinition } from '../problem';
import { formatNumber } from '../format';
import { asObjective } from '../definitions';
import { type Objective, at, startingPoint } from '../objective';
import { describeElement } from '../tensor';

export type HessianSource = 'hvp' | 'finite-difference';

export interface HessianOptions {
  /** 'auto' uses the problem's hvp when it has one, else finite differences of grad. */
  source: 'auto' | HessianSource;
  /** Relative finite-difference step: element j moves by step * max(1, |x_j|); a direction v by step * max(1, max|x|). */
  step: number;
  /**
   * A symmetry defect above symmetryTolerance * max|H_ij| (plus the
   * rounding noise of the differences) marks grad or hvp as inconsistent.
   */
  symmetryTolerance: number;
}

export const DEFAULT_HESSIAN_OPTIONS: Readonly<HessianOptions> = Object.freeze({
  source: 'auto',
  step: 1e-5,
  symmetryTolerance: 1e-6,
});

/** Rounding error of a difference of gradients, in units of machine epsilon times their magnitude (as in gradcheck). */
const ROUNDING_FACTOR = 64;

export interface SymmetryReport {
  /** max |H_ij - H_ji| before symmetrizing (for products: |u·Hw - w·Hu| for random u, w). */
  defect: number;
  /** The defect relative to max|H_ij| (for products: to the size of u·Hw); 0 when both are 0. */
  relativeDefect: number;
  /** The defect allowed: symmetryTolerance * scale plus the estimated rounding noise. */
  allowed: number;
  /** The most asymmetric pair: H[row, column] and H[column, row] (dense Hessians only). */
  worst: { row: string; column: string; upper: number; lower: number } | null;
  consistent: boolean;
  /** Which user function is inconsistent and why, when not consistent. */
  warning: string | null;
}

export interface HessianResult {
  source: HessianSource;
  /** Element names of the rows and columns (`W[0,1]`). */
  names: string[];
  /** The symmetrized Hessian ½(H + Hᵀ), row by row. */
  matrix: number[][];
  symmetry: SymmetryReport;
}

/** The source to use, with the problem's hvp when that is it. */
function resolveSource(objective: Objective, requested: HessianOptions['source']): { source: HessianSource; hvp: NonNullable<Objective['hvp']> | null } {
  const hvp = objective.hvp;
  if (requested === 'hvp' && hvp === null) throw new Error(`${objective.name} has no hvp: use finite differences of grad`);
  const source = requested === 'auto' ? (hvp !== null ? 'hvp' : 'finite-difference') : requested;
  return { source, hvp: source === 'hvp' ? hvp : null };
}

function inconsistencyWarning(source: HessianSource, detail: string): string {
  return source === 'hvp'
    ? `hvp is inconsistent: the Hessian it gives is not symmetric (${detail}), so hvp is not the derivative of grad (check it with order 2)`
    : `grad is inconsistent: its Jacobian is not symmetric (${detail}): either grad is not the gradient of any function (check it with gradcheck), or a kink (a ReLU at 0, say) lies within the finite-difference step of this point`;
}

/**
 * The Hessian at `values` (flat, in the order of params; default the
 * problem's params): n hvp calls, or 2n grad calls without hvp.
 * User errors throw UserCodeError or TensorError naming the call and the point.
 */
export async function computeHessian(
  problem: ScalarDefinition | Objective,
  values?: ArrayLike<number>,
  partialOptions: Partial<HessianOptions> = {},
): Promise<HessianResult> {
  const options: HessianOptions = { ...DEFAULT_HESSIAN_OPTIONS, ...partialOptions };
  const objective = asObjective(problem);
  const x = startingPoint(objective, values);
  const n = objective.layout.size;
  const { source, hvp } = resolveSource(objective, options.source);
  const names = Array.from({ length: n }, (_, i) => describeElement(objective.layout, i));
  // columns[j] = H e_j, i.e. column j (row i of it is ∂grad_i/∂x_j).
  const columns: Float64Array[] = [];
  let noise = 0;
  for (let j = 0; j < n; j++) {
    if (hvp) {
      const unit = new Float64Array(n);
      unit[j] = 1;
      columns.push(await at(`at the point with v = e_${j} (${names[j]})`, () => hvp(x, unit)));
      continue;
    }
    const h = options.step * Math.max(1, Math.abs(x[j]));
    const plus = x.slice();
    const minus = x.slice();
    plus[j] = x[j] + h;
    minus[j] = x[j] - h;
    // The step actually taken, after rounding x_j ± h.
    const width = plus[j] - minus[j];
    const gradPlus = await at(`with ${names[j]} + ${formatNumber(h)} (Hessian column ${j})`, () => objective.gradient(plus, null));
    const gradMinus = await at(`with ${names[j]} - ${formatNumber(h)} (Hessian column ${j})`, () => objective.gradient(minus, null));
    const column = new Float64Array(n);
    let magnitude = 0;
    for (let i = 0; i < n; i++) {
      column[i] = (gradPlus[i] - gradMinus[i]) / width;
      magnitude = Math.max(magnitude, Math.abs(gradPlus[i]) + Math.abs(gradMinus[i]));
    }
    noise = Math.max(noise, (ROUNDING_FACTOR * Number.EPSILON * magnitude) / width);
    columns.push(column);
  }
  let scale = 0;
  let defect = 0;
  let worst: SymmetryReport['worst'] = null;
  const matrix: number[][] = Array.from({ length: n }, () => new Array<number>(n));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const upper = columns[j][i];
      const lower = columns[i][j];
      scale = Math.max(scale, Math.abs(upper), Math.abs(lower));
      const gap = Math.abs(upper - lower);
      if (gap > defect) {
        defect = gap;
        worst = { row: names[i], column: names[j], upper, lower };
      }
      matrix[i][j] = matrix[j][i] = i === j ? upper : (upper + lower) / 2;
    }
  }
  const allowed = options.symmetryTolerance * scale + 2 * noise;
  const consistent = defect <= allowed;
  let warning: string | null = null;
  if (!consistent && worst) {
    const relative = `largest defect ${formatNumber(defect)}, ${formatNumber((100 * defect) / scale)}% of the largest entry`;
    const detail = source === 'hvp'
      ? `hvp(p, e[${worst.column}]) gives H[${worst.row}, ${worst.column}] = ${formatNumber(worst.upper)} but hvp(p, e[${worst.row}]) gives H[${worst.column}, ${worst.row}] = ${formatNumber(worst.lower)}; ${relative}`
      : `∂grad[${worst.row}]/∂${worst.column} = ${formatNumber(worst.upper)} but ∂grad[${worst.column}]/∂${worst.row} = ${formatNumber(worst.lower)}; ${relative}`;
    warning = inconsistencyWarning(source, detail);
  }
  return {
    source,
    names,
    matrix,
    symmetry: { defect, relativeDefect: scale === 0 ? 0 : defect / scale, allowed, worst, consistent, warning },
  };
}

export interface HessianVectorProduct {
  readonly source: HessianSource;
  readonly size: number;
  /** H(x)·v as a new vector. */
  apply(v: Float64Array): Promise<Float64Array>;
  /** Like {@link apply}, with a bound on its rounding error (2-norm; 0 for hvp). */
  applyWithNoise(v: Float64Array): Promise<{ product: Float64Array; noise: number }>;
}

/**
 * Products H(x)·v without forming H: the problem's hvp, or without it the
 * central difference of grad along v, (grad(x + εv) - grad(x - εv)) / 2ε
 * with ε‖v‖ = step * max(1, max|x|): two grad calls per product.
 */
export function hessianVectorProduct(
  problem: ScalarDefinition | Objective,
  values?: ArrayLike<number>,
  partialOptions: Partial<HessianOptions> = {},
): HessianVectorProduct {
  const options: HessianOptions = { ...DEFAULT_HESSIAN_OPTIONS, ...partialOptions };
  const objective = asObjective(problem);
  const x = startingPoint(objective, values);
  const n = objective.layout.size;
  const { source, hvp } = resolveSource(objective, options.source);
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(x[i]));
  const displacement = options.step * Math.max(1, largest);
  let calls = 0;
  const applyWithNoise = async (v: Float64Array): Promise<{ product: Float64Array; noise: number }> => {
    if (v.length !== n) throw new RangeError(`Hessian-vector product: v has ${v.length} elements, expected ${n}`);
    calls++;
    if (hvp) return { product: await at(`at the point (Hessian-vector product ${calls})`, () => hvp(x, v)), noise: 0 };
    const length = Math.sqrt(dot(v, v));
    if (length === 0) return { product: new Float64Array(n), noise: 0 };
    const epsilon = displacement / length;
    const plus = new Float64Array(n);
    const minus = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      plus[i] = x[i] + epsilon * v[i];
      minus[i] = x[i] - epsilon * v[i];
    }
    const where = `moved by ±${formatNumber(displacement)} along a direction (Hessian-vector product ${calls})`;
    const gradPlus = await at(where, () => objective.gradient(plus, null));
    const gradMinus = await at(where, () => objective.gradient(minus, null));
    const product = new Float64Array(n);
    for (let i = 0; i < n; i++) product[i] = (gradPlus[i] - gradMinus[i]) / (2 * epsilon);
    const magnitude = Math.sqrt(dot(gradPlus, gradPlus)) + Math.sqrt(dot(gradMinus, gradMinus));
    return { product, noise: (ROUNDING_FACTOR * Number.EPSILON * magnitude) / (2 * epsilon) };
  };
  return {
    source,
    size: n,
    applyWithNoise,
    apply: async (v) => (await applyWithNoise(v)).product,
  };
}

/**
 * Symmetry of a Hessian seen only through products: u·(Hw) against w·(Hu)
 * for two seeded random directions (two products).
 */
export async function productSymmetry(
  product: HessianVectorProduct,
  seed = 0,
  symmetryTolerance = DEFAULT_HESSIAN_OPTIONS.symmetryTolerance,
): Promise<SymmetryReport> {
  const random = new Random(seed);
  const n = product.size;
  const u = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) u[i] = random.normal();
  for (let i = 0; i < n; i++) w[i] = random.normal();
  const hw = await product.applyWithNoise(w);
  const hu = await product.applyWithNoise(u);
  const upper = dot(u, hw.product);
  const lower = dot(w, hu.product);
  const normU = Math.sqrt(dot(u, u));
  const normW = Math.sqrt(dot(w, w));
  const scale = Math.max(normU * Math.sqrt(dot(hw.product, hw.product)), normW * Math.sqrt(dot(hu.product, hu.product)));
  const defect = Math.abs(upper - lower);
  const allowed = symmetryTolerance * scale + normU * hw.noise + normW * hu.noise;
  const consistent = defect <= allowed;
  const warning = consistent
    ? null
    : inconsistencyWarning(
        product.source,
        `for random directions u, w: u·(Hw) = ${formatNumber(upper)} but w·(Hu) = ${formatNumber(lower)}; defect ${formatNumber((100 * defect) / scale)}% of their size`,
      );
  return { defect, relativeDefect: scale === 0 ? 0 : defect / scale, allowed, worst: null, consistent, warning };
}
