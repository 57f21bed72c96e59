// Host-test fixture: one scalar problem whose gradient is wrong in exactly one element, w[1] (fails).
type P = { w: number[] };

export const oneWrongElement = {
  params: { w: [1, -3, 0.5] },
  // f(w) = Σ w_i² + w_0 w_1
  f: (p: P) => p.w.reduce((sum, v) => sum + v * v, 0) + p.w[0] * p.w[1],
  // BUG: w[1] misses the + w_0 term (expected 2 w_1 + w_0 = -5, returns -6).
  grad: (p: P) => ({ w: [2 * p.w[0] + p.w[1], 2 * p.w[1], 2 * p.w[2]] }),
};
