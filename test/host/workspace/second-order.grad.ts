// Host-test fixture: a problem with hvp (its second-order child item exists); both orders pass.
type P = { x: number[] };

// f(x) = x0² x1 + x1³, grad = [2 x0 x1, x0² + 3 x1²], H = [[2 x1, 2 x0], [2 x0, 6 x1]]
export const cubic = {
  params: { x: [0.5, -1.5] },
  f: (p: P) => p.x[0] ** 2 * p.x[1] + p.x[1] ** 3,
  grad: (p: P) => ({ x: [2 * p.x[0] * p.x[1], p.x[0] ** 2 + 3 * p.x[1] ** 2] }),
  hvp: (p: P, v: P) => ({ x: [2 * p.x[1] * v.x[0] + 2 * p.x[0] * v.x[1], 2 * p.x[0] * v.x[0] + 6 * p.x[1] * v.x[1]] }),
};
