// Benchmark problems: a cheap O(n) loss with its exact gradient, for n from 10 to 1,000,000.
//
//   f(x) = sum_i c_i x_i^2 + sum_{i<n-1} s_i x_i x_{i+1},   s_i = (-1)^i,  c_i = s_i (1 + cos(i) / 2)
//   df/dx_i = 2 c_i x_i + s_i x_{i+1} + s_{i-1} x_{i-1}
//
// at x_i = sin(i). The alternating signs keep the partial sums of f small
// (bounded rather than growing like n), so the rounding error of f, and with
// it the central-difference error, does not grow with n: every element passes
// the default tolerances even at n = 1,000,000.
//
// This file is checked both ways by bench/run.ts: compiled by tsc and required
// in-process, and bundled by the sandboxed worker (`gradlens check`).
import type { Problem } from '../../src/api';

export type CheapParams = { x: Float64Array };

/** The cheap problem over n parameters; deterministic (no randomness). */
export function makeCheap(n: number): Problem<CheapParams> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`makeCheap(${n}): n must be a positive integer`);
  const c = new Float64Array(n);
  const s = new Float64Array(n);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = i % 2 === 0 ? 1 : -1;
    c[i] = s[i] * (1 + 0.5 * Math.cos(i));
    x[i] = Math.sin(i);
  }
  const last = n - 1;
  return {
    description: `sum c_i x_i^2 + sum s_i x_i x_(i+1) over ${n} parameters`,
    params: { x },
    f: ({ x }) => {
      let sum = 0;
      for (let i = 0; i < last; i++) {
        const xi = x[i];
        sum += (c[i] * xi + s[i] * x[i + 1]) * xi;
      }
      return sum + c[last] * x[last] * x[last];
    },
    grad: ({ x }) => {
      const g = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let gi = 2 * c[i] * x[i];
        if (i < last) gi += s[i] * x[i + 1];
        if (i > 0) gi += s[i - 1] * x[i - 1];
        g[i] = gi;
      }
      return { x: g };
    },
  };
}

export const cheap10 = makeCheap(10);
export const cheap100k = makeCheap(100_000);
/** For fast and sparse modes only: a full check would take 2,000,001 evaluations of an O(n) loss. */
export const cheap1m = makeCheap(1_000_000);
