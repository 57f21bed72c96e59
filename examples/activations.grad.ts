/**
 * Elementwise activation layers, checked through their backward pass.
 *
 * A layer exports `inputs`, `forward(inputs)` and `backward(inputs, dy)`,
 * where dy (the upstream gradient) has the shape of forward's output and
 * backward returns dL/dinputs for L = Σ dy ⊙ forward(inputs). GradLens picks
 * a random dy and compares backward against finite differences of
 * dy · forward(inputs), element by element of x.
 *
 *   tanh:     y = tanh(x),          dx = dy ⊙ (1 − y²)
 *   sigmoid:  y = 1 / (1 + e^(−x)), dx = dy ⊙ y ⊙ (1 − y)
 *
 *   gradlens check examples/activations.grad.ts
 */
import { defineLayer } from 'gradlens';

type Inputs = { x: number[][] };

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

function startingPoint(): Inputs {
  return {
    x: [
      [-1.5, -0.5, 0.25],
      [0.8, -1.0, 1.2],
    ],
  };
}

/** Correct tanh layer. */
export const tanhLayer = defineLayer({
  description: 'tanh',
  inputs: startingPoint(),
  forward: ({ x }) => x.map((row) => row.map(Math.tanh)),
  backward({ x }, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    return {
      x: x.map((row, i) =>
        row.map((v, j) => {
          const y = Math.tanh(v);
          return dy[i][j] * (1 - y * y);
        }),
      ),
    };
  },
});

/**
 * BUG: a sign error in a single element. Element [1,2] gets −dy·(1 − y²)
 * (think of a hand-unrolled or special-cased loop where one line was typed
 * as (y² − 1)). Only x[1,2] fails; the other five elements are right, which
 * is exactly what an element-by-element check is for: an aggregate norm of
 * the error would not say where to look.
 * FIX: dx[1][2] = dy[1][2] · (1 − y²) like every other element.
 */
export const tanhLayerSignError = defineLayer({
  description: 'BUG: tanh backward with a flipped sign at element [1,2]',
  inputs: startingPoint(),
  forward: ({ x }) => x.map((row) => row.map(Math.tanh)),
  backward({ x }, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    return {
      x: x.map((row, i) =>
        row.map((v, j) => {
          const y = Math.tanh(v);
          if (i === 1 && j === 2) return dy[i][j] * (y * y - 1); // BUG: sign flipped, should be (1 - y * y)
          return dy[i][j] * (1 - y * y);
        }),
      ),
    };
  },
});

/** Correct sigmoid layer: the derivative is written in terms of the output y. */
export const sigmoidLayer = defineLayer({
  description: 'sigmoid',
  inputs: startingPoint(),
  forward: ({ x }) => x.map((row) => row.map(sigmoid)),
  backward({ x }, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    return {
      x: x.map((row, i) =>
        row.map((v, j) => {
          const y = sigmoid(v);
          return dy[i][j] * y * (1 - y);
        }),
      ),
    };
  },
});

/**
 * BUG: σ'(x) = σ(x)(1 − σ(x)) = y(1 − y) is a formula in the OUTPUT y; this
 * version plugs in the input instead, dx = dy · x(1 − x). It is wrong at every
 * element here (x(1 − x) = y(1 − y) only where x = y or x = 1 − y), so all
 * six elements x[0,0] … x[1,2] fail.
 * FIX: compute y = sigmoid(x) and use dy · y · (1 − y).
 */
export const sigmoidLayerWrongDerivative = defineLayer({
  description: 'BUG: sigmoid backward uses x(1 - x) instead of y(1 - y)',
  inputs: startingPoint(),
  forward: ({ x }) => x.map((row) => row.map(sigmoid)),
  backward({ x }, gradOutput) {
    const dy = gradOutput; // typed like forward's output
    return { x: x.map((row, i) => row.map((v, j) => dy[i][j] * v * (1 - v))) }; // BUG: should be y * (1 - y) with y = sigmoid(v)
  },
});
