// Host-test fixture: one correct scalar problem (passes).
import { defineProblem } from 'gradlens';

export const quadratic = defineProblem({
  params: { w: [1, -3, 0.5] },
  // f(w) = Σ w_i² + w_0 w_1
  f: (p) => p.w.reduce((sum, v) => sum + v * v, 0) + p.w[0] * p.w[1],
  grad: (p) => ({ w: [2 * p.w[0] + p.w[1], 2 * p.w[1] + p.w[0], 2 * p.w[2]] }),
});
