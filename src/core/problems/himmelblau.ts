/**
 * Himmelblau's function f = (x² + y − 11)² + (x + y² − 7)² (Himmelblau
 * 1972, "Applied Nonlinear Programming"): four minima with f = 0, a local
 * maximum f(−0.270845, −0.923039) ≈ 181.617 and four saddles. The
 * non-integer points were refined by Newton's method to 15 digits.
 */
import { type Surface, defineSurface } from './surface';

export const himmelblauSurface: Surface = {
  f: (x, y) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
  grad(x, y) {
    const u = x * x + y - 11;
    const w = x + y * y - 7;
    return [4 * x * u + 2 * w, 2 * u + 4 * y * w];
  },
  hessian(x, y) {
    const u = x * x + y - 11;
    const w = x + y * y - 7;
    return [4 * u + 8 * x * x + 2, 4 * x + 4 * y, 4 * w + 8 * y * y + 2];
  },
};

export const himmelblau = defineSurface({
  name: 'himmelblau',
  title: 'Himmelblau',
  description:
    "Himmelblau's function: four equally good minima (f = 0), one local maximum and four saddles between them, " +
    'so which minimum an optimizer ends in depends on where it starts and on its momentum: a small picture of a nonconvex landscape.',
  surface: himmelblauSurface,
  bounds: { x: [-5, 5], y: [-5, 5] },
  start: [0, 0],
  criticalPoints: [
    { point: [3, 2], kind: 'minimum' },
    { point: [-2.80511808695274, 3.13131251825057], kind: 'minimum' },
    { point: [-3.77931025337775, -3.28318599128617], kind: 'minimum' },
    { point: [3.58442834033049, -1.8481265269644], kind: 'minimum' },
    { point: [-0.270844590667348, -0.923038556479982], kind: 'maximum' },
    { point: [0.0866775045553963, 2.88425470117478], kind: 'saddle' },
    { point: [-3.07302575076439, -0.0813530442879675], kind: 'saddle' },
    { point: [3.38515418360702, 0.0738518798377493], kind: 'saddle' },
    { point: [-0.12796134673068, -1.95371498024458], kind: 'saddle' },
  ],
});
