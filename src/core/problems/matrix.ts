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

/** Eigenvalues of a symmetric matrix, ascending: cyclic Jacobi rotations (Numerical Recipes §11.1). */
export function symmetricEigenvalues(matrix: Matrix): number[] {
  const a = matrix.map((row) => row.slice());
  const n = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        total += a[i][j] * a[i][j];
        if (i !== j) off += a[i][j] * a[i][j];
      }
    }
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        // Rotate in the (p, q) plane so that a[p][q] becomes 0.
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const [kp, kq] = [a[k][p], a[k][q]];
          a[k][p] = c * kp - s * kq;
          a[k][q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const [pk, qk] = [a[p][k], a[q][k]];
          a[p][k] = c * pk - s * qk;
          a[q][k] = s * pk + c * qk;
        }
      }
    }
  }
  return a.map((row, i) => row[i]).sort((x, y) => x - y);
}
