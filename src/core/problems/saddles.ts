/**
 * Saddle points: the hyperbolic paraboloid x² − y² (a nondegenerate saddle,
 * Hessian diag(2, −2)) and the monkey saddle x³ − 3xy² (Hilbert &
 * Cohn-Vossen 1932, "Anschauliche Geometrie"), whose Hessian vanishes at the
 * origin too.
 */
import { type Surface, defineSurface } from './surface';

export const saddleSurface: Surface = {
  f: (x, y) => x * x - y * y,
  grad: (x, y) => [2 * x, -2 * y],
  hessian: () => [2, 0, -2],
};

export const monkeySaddleSurface: Surface = {
  f: (x, y) => x ** 3 - 3 * x * y * y,
  grad: (x, y) => [3 * x * x - 3 * y * y, -6 * x * y],
  hessian: (x, y) => [6 * x, -6 * y, -6 * x],
};

export const saddle = defineSurface({
  name: 'saddle',
  title: 'saddle x² − y²',
  description:
    'x² − y²: the origin is a minimum along x and a maximum along y. Started just off it, gradient descent first slides toward the saddle ' +
    'and escapes only as the tiny y offset grows geometrically: saddles slow optimization down far more often than they stop it.',
  surface: saddleSurface,
  bounds: { x: [-1.5, 1.5], y: [-1.5, 1.5] },
  start: [1, 1e-3],
  criticalPoints: [{ point: [0, 0], kind: 'saddle' }],
});

export const monkeySaddle = defineSurface({
  name: 'monkey-saddle',
  title: 'monkey saddle x³ − 3xy²',
  description:
    'x³ − 3xy²: three valleys descend from the origin, where the gradient and the Hessian both vanish, so the second-derivative test says nothing ' +
    'and Newton has no curvature to use; near it gradient steps shrink quadratically and descent crawls.',
  surface: monkeySaddleSurface,
  bounds: { x: [-1.5, 1.5], y: [-1.5, 1.5] },
  start: [1, 0.1],
  criticalPoints: [{ point: [0, 0], kind: 'degenerate' }],
});
