/**
 * Beale's function f = Σᵢ₌₁³ (cᵢ − x + x·yⁱ)², c = (1.5, 2.25, 2.625)
 * (Beale 1958, "On an iterative method for finding a local minimum of a
 * function of more than one variable"); minimum f(3, 0.5) = 0. Its saddles
 * (0, 1) (f = 14.203125) and near (0.1005, −2.6445) were found by Newton's
 * method from a grid over [-4.5, 4.5]² and are checked in the tests.
 */
import { type Surface, defineSurface } from './surface';

const C = [1.5, 2.25, 2.625];

/** Sums a term per i = 1..3 of tᵢ = cᵢ − x + x·yⁱ and its derivatives. */
function sum(x: number, y: number, term: (i: number, t: number, tx: number, ty: number, tyy: number) => number): number {
  let total = 0;
  for (let i = 1; i <= 3; i++) {
    const t = C[i - 1] - x + x * y ** i;
    // ∂t/∂x = yⁱ − 1, ∂t/∂y = i·x·yⁱ⁻¹, ∂²t/∂y² = i(i−1)·x·yⁱ⁻², ∂²t/∂x∂y = i·yⁱ⁻¹
    total += term(i, t, y ** i - 1, i * x * y ** (i - 1), i === 1 ? 0 : i * (i - 1) * x * y ** (i - 2));
  }
  return total;
}

export const bealeSurface: Surface = {
  f: (x, y) => sum(x, y, (_i, t) => t * t),
  grad: (x, y) => [sum(x, y, (_i, t, tx) => 2 * t * tx), sum(x, y, (_i, t, _tx, ty) => 2 * t * ty)],
  hessian: (x, y) => [
    sum(x, y, (_i, _t, tx) => 2 * tx * tx),
    sum(x, y, (i, t, tx, ty) => 2 * (tx * ty + t * i * y ** (i - 1))),
    sum(x, y, (_i, t, _tx, ty, tyy) => 2 * (ty * ty + t * tyy)),
  ],
};

export const beale = defineSurface({
  name: 'beale',
  title: 'Beale',
  description:
    "Beale's function: the minimum f(3, 0.5) = 0 sits in a narrow curved basin between flat plateaus and walls where f reaches 10⁵, " +
    'so the gradient varies by orders of magnitude across the plot; a fixed step size overshoots on the walls and stalls on the plateaus, which adaptive methods (Adam, RMSprop) even out.',
  surface: bealeSurface,
  bounds: { x: [-4.5, 4.5], y: [-4.5, 4.5] },
  start: [1, 1.5],
  criticalPoints: [
    { point: [3, 0.5], kind: 'minimum' },
    { point: [0, 1], kind: 'saddle' },
    { point: [0.100537937324158, -2.64451358502312], kind: 'saddle' },
  ],
});
