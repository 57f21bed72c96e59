/**
 * Eigenvalues and eigenvectors of symmetric matrices: all of them with
 * ml-matrix's EigenvalueDecomposition (Householder tridiagonalization and
 * QL, tred2/tql2) for matrices up to a few hundred rows, and the extreme
 * ones of larger operators by Lanczos iteration on matrix-vector products.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../random';
import type { MaybePromise } from '../objective';
import { dot, norm } from '../vector';

/** Above this many rows, form no matrix: use {@link lanczos} on Hessian-vector products. */
export const DENSE_EIGEN_LIMIT = 500;

export interface Eigenpairs {
  /** Ascending. */
  values: number[];
  /** vectors[i] is the unit eigenvector of values[i]. */
  vectors: Float64Array[];
}

/**
 * ml-matrix's tql2 (from JAMA) tests convergence against the largest entry
 * seen so far, which is 0 in a leading zero block; an off-diagonal entry
 * near underflow there overflows its shift to Infinity, and the NaNs that
 * follow run it past the end of the matrix (it throws a TypeError for
 * [[0, 1e-321], [1e-321, -0.1]]). So the matrix is scaled by a power of two
 * (exactly) to max|a_ij| ≈ 1, and entries below ε/n of that are set to 0
 * first: a change of at most ε·max|a_ij| in norm, the size of the
 * decomposition's own rounding.
 */
function decompose(rows: readonly (readonly number[])[]): { values: number[]; vectors: Matrix } {
  const n = rows.length;
  let largest = 0;
  for (const row of rows) {
    if (row.length !== n) throw new RangeError(`symmetricEigen: the matrix has ${n} rows but a row of length ${row.length}`);
    for (const value of row) largest = Math.max(largest, Math.abs(value));
  }
  if (!Number.isFinite(largest)) throw new RangeError('symmetricEigen: the matrix has a non-finite entry');
  if (largest === 0) return { values: new Array<number>(n).fill(0), vectors: Matrix.eye(n, n) };
  const scale = 2 ** Math.round(Math.log2(largest));
  const floor = (Number.EPSILON * largest) / scale / n;
  const scaled = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const value = rows[i][j] / scale;
      scaled.set(i, j, Math.abs(value) < floor ? 0 : value);
    }
  }
  const decomposition = new EigenvalueDecomposition(scaled, { assumeSymmetric: true });
  const raw = decomposition.realEigenvalues;
  const unsorted = decomposition.eigenvectorMatrix;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a] - raw[b]);
  const vectors = new Matrix(n, n);
  order.forEach((from, to) => {
    for (let j = 0; j < n; j++) vectors.set(j, to, unsorted.get(j, from));
  });
  return { values: order.map((i) => raw[i] * scale), vectors };
}

/** All eigenpairs of a symmetric matrix (symmetrize it first, ½(A + Aᵀ): an asymmetric one is not checked, and only one triangle is read). */
export function symmetricEigen(matrix: readonly (readonly number[])[]): Eigenpairs {
  const n = matrix.length;
  if (n === 0) return { values: [], vectors: [] };
  const { values, vectors } = decompose(matrix);
  return { values, vectors: values.map((_, i) => unit(Float64Array.from(vectors.getColumn(i)))) };
}

export interface LanczosOptions {
  /** Eigenvalues wanted at each end of the spectrum. */
  k: number;
  /** Largest Krylov basis; each iteration costs one product. */
  maxIterations: number;
  /** Memory bound: the basis (iterations × n numbers) stays under this many numbers. */
  maxStoredValues: number;
  /** A Ritz pair has converged when its residual ‖Ay - θy‖ ≤ tolerance * max|θ|. */
  tolerance: number;
  /** Seed of the random start vector (and of restarts). */
  seed: number;
}

export const DEFAULT_LANCZOS_OPTIONS: Readonly<LanczosOptions> = Object.freeze({
  k: 6,
  maxIterations: 300,
  maxStoredValues: 30_000_000,
  tolerance: 1e-10,
  seed: 0,
});

export interface RitzPair {
  value: number;
  /** ‖Ay - θy‖ for the unit Ritz vector y: some eigenvalue lies within it of θ (and usually within residual²/gap). */
  residual: number;
  converged: boolean;
}

export interface LanczosResult {
  /** The k lowest and k highest Ritz pairs, ascending, without repeats (all of them when 2k ≥ n). */
  pairs: RitzPair[];
  iterations: number;
  /** Every pair converged. */
  converged: boolean;
  /** The Krylov space filled the whole space (or an invariant subspace with no way out): the pairs are exact. */
  exhausted: boolean;
  /** The unit Ritz vector of pairs[index]. */
  vector(index: number): Float64Array;
}

function unit(v: Float64Array): Float64Array {
  const length = norm(v);
  if (length > 0) for (let i = 0; i < v.length; i++) v[i] /= length;
  return v;
}

/** Removes the components along the (orthonormal) basis, twice ("twice is enough", Parlett/Kahan). */
function orthogonalize(w: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) {
      const c = dot(q, w);
      if (c !== 0) for (let i = 0; i < w.length; i++) w[i] -= c * q[i];
    }
  }
}

/** A seeded random unit vector orthogonal to the basis, or null when the basis spans everything. */
function freshDirection(n: number, random: Random, basis: readonly Float64Array[]): Float64Array | null {
  if (basis.length >= n) return null;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = random.normal();
  const before = norm(v);
  orthogonalize(v, basis);
  return norm(v) <= 1e-8 * before ? null : unit(v);
}

interface Ritz {
  values: number[];
  /** Eigenvectors of T: column i belongs to values[i]. */
  vectors: Matrix;
  residuals: number[];
}

function ritz(alpha: readonly number[], beta: readonly number[]): Ritz {
  const s = alpha.length;
  const t: number[][] = Array.from({ length: s }, () => new Array<number>(s).fill(0));
  for (let j = 0; j < s; j++) {
    t[j][j] = alpha[j];
    if (j + 1 < s) t[j][j + 1] = t[j + 1][j] = beta[j];
  }
  const { values, vectors } = decompose(t);
  const coupling = Math.abs(beta[s - 1] ?? 0);
  return { values, vectors, residuals: values.map((_, i) => coupling * Math.abs(vectors.get(s - 1, i))) };
}

/** Indices of the k lowest and k highest of s sorted values. */
function extremeIndices(s: number, k: number): number[] {
  if (2 * k >= s) return Array.from({ length: s }, (_, i) => i);
  return [...Array.from({ length: k }, (_, i) => i), ...Array.from({ length: k }, (_, i) => s - k + i)];
}

/**
 * The k lowest and k highest eigenvalues of a symmetric operator on R^n
 * given only by products v ↦ Av: Lanczos iteration with full
 * reorthogonalization (so no ghost copies), from a seeded random start, and
 * a fresh random direction whenever an invariant subspace is reached (which
 * also finds repeated eigenvalues). Convergence is judged by the residual
 * bounds |β_m s_mi| of the Ritz pairs, checked at geometrically spaced
 * iterations.
 */
export async function lanczos(
  apply: (v: Float64Array, iteration: number) => MaybePromise<Float64Array>,
  n: number,
  partialOptions: Partial<LanczosOptions> = {},
): Promise<LanczosResult> {
  const options: LanczosOptions = { ...DEFAULT_LANCZOS_OPTIONS, ...partialOptions };
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`lanczos: n is ${n}, expected a positive integer`);
  const k = Math.max(1, Math.min(Math.floor(options.k), n));
  const budget = Math.max(2 * k + 2, Math.floor(options.maxStoredValues / n));
  const limit = Math.max(1, Math.min(n, Math.floor(options.maxIterations), budget));
  const random = new Random(options.seed);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = freshDirection(n, random, basis)!;
  let exhausted = false;
  let scale = 0;
  let nextCheck = Math.min(limit, 2 * k + 4);
  let result: Ritz | null = null;
  let converged = false;
  for (let j = 0; j < limit; j++) {
    basis.push(q);
    const product = await apply(q, j);
    if (product.length !== n) throw new RangeError(`lanczos: the product has ${product.length} elements, expected ${n}`);
    const w = Float64Array.from(product);
    const a = dot(q, w);
    alpha.push(a);
    const previous = j > 0 ? basis[j - 1] : null;
    const b0 = j > 0 ? beta[j - 1] : 0;
    for (let i = 0; i < n; i++) w[i] -= a * q[i] + (previous ? b0 * previous[i] : 0);
    orthogonalize(w, basis);
    const b = norm(w);
    scale = Math.max(scale, Math.abs(a) + b + b0);
    const last = j + 1 === limit;
    if (b <= 1e-12 * scale) {
      // An invariant subspace: its Ritz pairs are exact. Go on from a new direction, uncoupled (β = 0).
      beta.push(0);
      const fresh = last ? null : freshDirection(n, random, basis);
      if (fresh === null) {
        exhausted = last ? basis.length === n : true;
        result = ritz(alpha, beta);
        break;
      }
      q = fresh;
    } else {
      beta.push(b);
      if (!last) {
        for (let i = 0; i < n; i++) w[i] /= b;
        q = w;
      }
    }
    if (j + 1 === nextCheck || last) {
      result = ritz(alpha, beta);
      const spectral = Math.max(Math.abs(result.values[0]), Math.abs(result.values[result.values.length - 1]));
      const wanted = extremeIndices(result.values.length, k);
      converged = (result.values.length >= Math.min(n, 2 * k)) && wanted.every((i) => result!.residuals[i] <= options.tolerance * spectral);
      if (converged) break;
      nextCheck = Math.min(limit, Math.ceil((j + 1) * 1.25) + 1);
    }
  }
  const final = result ?? ritz(alpha, beta);
  const spectral = Math.max(Math.abs(final.values[0]), Math.abs(final.values[final.values.length - 1]));
  const wanted = extremeIndices(final.values.length, k);
  const pairs = wanted.map((i) => {
    const residual = exhausted ? 0 : final.residuals[i];
    return { value: final.values[i], residual, converged: residual <= options.tolerance * spectral };
  });
  return {
    pairs,
    iterations: alpha.length,
    converged: pairs.every((pair) => pair.converged),
    exhausted,
    vector(index: number): Float64Array {
      const column = wanted[index];
      if (column === undefined) throw new RangeError(`lanczos: no pair ${index}`);
      const y = new Float64Array(n);
      for (let j = 0; j < alpha.length; j++) {
        const c = final.vectors.get(j, column);
        const qj = basis[j];
        for (let i = 0; i < n; i++) y[i] += c * qj[i];
      }
      return unit(y);
    },
  };
}
