/** A tiny dense-matrix toolkit (row-major number[][]): enough for the built-in problems. */
import type { Random } from '../random';

export type Matrix = number[][];

export function zeros(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function matVec(a: Matrix, x: readonly number[]): number[] {
  return a.map((row) => dot(row, x));
}

/** Q diag(d) Qᵀ: the symmetric matrix with eigenvalues d along the columns of Q. */
export function fromEigen(q: Matrix, d: readonly number[]): Matrix {
  const n = q.length;
  const a = zeros(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < d.length; k++) sum += q[i][k] * d[k] * q[j][k];
      a[i][j] = sum;
    }
  }
  return a;
}

/** Counter-clockwise rotation of the plane by `angle` radians. */
export function rotation(angle: number): Matrix {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [c, -s],
    [s, c],
  ];
}

/**
 * A uniformly (Haar) distributed random orthogonal matrix: Gram–Schmidt on
 * the columns of a Gaussian matrix, i.e. its QR factor with R's diagonal
 * positive (Mezzadri 2007, "How to generate random matrices from the
 * classical compact groups").
 */
export function randomOrthogonal(n: number, random: Random): Matrix {
  const columns: number[][] = [];
  while (columns.length < n) {
    const v = Array.from({ length: n }, () => random.normal());
    for (const q of columns) {
      const projection = dot(q, v);
      for (let i = 0; i < n; i++) v[i] -= projection * q[i];
    }
    const norm = Math.sqrt(dot(v, v));
    if (norm < 1e-8) continue; // (almost surely never) linearly dependent: draw again
    columns.push(v.map((x) => x / norm));
  }
  return Array.from({ length: n }, (_, i) => columns.map((column) => column[i]));
}
