/**
 * 2-D test surfaces as problems: params `{ x: [x, y] }` (one tensor of
 * length 2, so optimizer trajectories are plain 2-vectors), exact f, grad
 * and Hessian-vector product from the surface's closed-form derivatives.
 */
import type { Problem } from '../problem';
import { OptionReader } from './options';
import type { BuiltinProblem, CriticalPoint } from './types';

export type Point2 = { x: number[] };

export interface Surface {
  f(x: number, y: number): number;
  grad(x: number, y: number): [number, number];
  /** The Hessian's entries [f_xx, f_xy, f_yy]. */
  hessian(x: number, y: number): [number, number, number];
}

/** The problem of a surface, starting at `start`. */
export function surfaceProblem(surface: Surface, start: readonly number[], description: string): Problem<Point2> {
  return {
    description,
    params: { x: start.slice() },
    f: (p) => surface.f(p.x[0], p.x[1]),
    grad: (p) => ({ x: surface.grad(p.x[0], p.x[1]) }),
    hvp(p, v) {
      const [xx, xy, yy] = surface.hessian(p.x[0], p.x[1]);
      return { x: [xx * v.x[0] + xy * v.x[1], xy * v.x[0] + yy * v.x[1]] };
    },
  };
}

/** A built-in 2-D surface; `create({ start: [x, y] })` starts elsewhere. `minima` are the critical points of kind minimum. */
export function defineSurface(spec: {
  name: string;
  description: string;
  /** The problem's own description, e.g. 'Rosenbrock, a=1, b=100'. */
  title: string;
  surface: Surface;
  bounds: { x: [number, number]; y: [number, number] };
  start: number[];
  criticalPoints: CriticalPoint[];
}): BuiltinProblem {
  const { name, description, title, surface, bounds, start, criticalPoints } = spec;
  return {
    name,
    description,
    dimension: 2,
    bounds,
    start,
    minima: criticalPoints.filter((c) => c.kind === 'minimum').map((c) => c.point),
    criticalPoints,
    create(options) {
      const reader = new OptionReader(name, options);
      reader.seed(); // accepted for uniformity; a surface has nothing random
      const from = reader.vector('start', start, 2);
      reader.done();
      return surfaceProblem(surface, from, title);
    },
  };
}
