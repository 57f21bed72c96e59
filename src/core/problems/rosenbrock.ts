/**
 * Rosenbrock's function f = (a − x)² + b(y − x²)², a = 1, b = 100
 * (Rosenbrock 1960, "An automatic method for finding the greatest or least
 * value of a function"); minimum f(a, a²) = f(1, 1) = 0, where the Hessian
 * [[802, −400], [−400, 200]] has eigenvalues ≈ 1001.6 and 0.3994.
 */
import { type Surface, defineSurface } from './surface';

const A = 1;
const B = 100;

export const rosenbrockSurface: Surface = {
  f: (x, y) => (A - x) ** 2 + B * (y - x * x) ** 2,
  grad: (x, y) => [-2 * (A - x) - 4 * B * x * (y - x * x), 2 * B * (y - x * x)],
  hessian: (x, y) => [2 - 4 * B * (y - x * x) + 8 * B * x * x, -4 * B * x, 2 * B],
};

export const rosenbrock = defineSurface({
  name: 'rosenbrock',
  title: 'Rosenbrock, a=1, b=100',
  description:
    "Rosenbrock's banana: the minimum (1, 1) lies in a long, curved, nearly flat valley, about 2500 times more curved across than along near the minimum, " +
    'so a step size small enough for the walls makes gradient descent crawl along the floor; momentum and curvature-aware methods follow the valley.',
  surface: rosenbrockSurface,
  bounds: { x: [-2, 2], y: [-1, 3] },
  start: [-1.5, 2],
  criticalPoints: [{ point: [1, 1], kind: 'minimum' }],
});
