/**
 * A two-layer fully connected network with ReLU and a softmax loss
 * (CS231n assignment 1, "two_layer_net"), backpropagated by hand.
 *
 *   z = X W1 + b1,   h = max(0, z),   scores = h W2 + b2
 *   f = 1/N · Σ_i −log softmax(scores_i)[y_i]
 *
 *   dS  = (softmax(scores) − onehot(y)) / N
 *   dW2 = hᵀ dS,    db2 = Σ_i dS_i
 *   dh  = dS W2ᵀ,   dz  = dh ⊙ [z > 0]
 *   dW1 = Xᵀ dz,    db1 = Σ_i dz_i
 *
 * W1 is square (3 inputs, 3 hidden units) on purpose: then a transposed dW1
 * still has the right shape, so nothing crashes and only a gradient check
 * can tell. At the chosen parameters no pre-activation z is near 0 (the
 * smallest |z| is 0.09), so the loss is smooth there: see
 * relu-kink.grad.ts for what happens at z = 0.
 *
 *   gradlens check examples/two-layer-mlp.grad.ts
 */
import { defineProblem } from 'gradlens';

type Params = { W1: number[][]; b1: number[]; W2: number[][]; b2: number[] };
type Matrix = number[][];

// 4 samples, 3 features, 3 classes.
const X: Matrix = [
  [0.9, -0.4, 0.3],
  [-0.5, 0.8, 0.6],
  [0.3, 0.5, -0.9],
  [-0.7, -0.6, 0.4],
];
const LABELS = [2, 0, 1, 1];
const N = X.length;

function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0].map((_, c) => row.reduce((s, v, k) => s + v * b[k][c], 0)));
}

function transpose(a: Matrix): Matrix {
  return a[0].map((_, c) => a.map((row) => row[c]));
}

function addRow(a: Matrix, row: number[]): Matrix {
  return a.map((r) => r.map((v, c) => v + row[c]));
}

function sumRows(a: Matrix): number[] {
  return a[0].map((_, c) => a.reduce((s, row) => s + row[c], 0));
}

function forward(p: Params): { z: Matrix; h: Matrix; probs: Matrix } {
  const z = addRow(matmul(X, p.W1), p.b1);
  const h = z.map((row) => row.map((v) => Math.max(0, v)));
  const scores = addRow(matmul(h, p.W2), p.b2);
  const probs = scores.map((row) => {
    const max = Math.max(...row);
    const exps = row.map((s) => Math.exp(s - max));
    const total = exps.reduce((a, e) => a + e, 0);
    return exps.map((e) => e / total);
  });
  return { z, h, probs };
}

function loss(p: Params): number {
  const { probs } = forward(p);
  return -probs.reduce((s, row, i) => s + Math.log(row[LABELS[i]]), 0) / N;
}

/** Backpropagation up to dz, shared by the correct and the buggy version. */
function backprop(p: Params): { dz: Matrix; dW2: Matrix; db2: number[] } {
  const { z, h, probs } = forward(p);
  const dS = probs.map((row, i) => row.map((q, c) => (q - (c === LABELS[i] ? 1 : 0)) / N));
  const dh = matmul(dS, transpose(p.W2));
  const dz = dh.map((row, i) => row.map((g, k) => (z[i][k] > 0 ? g : 0)));
  return { dz, dW2: matmul(transpose(h), dS), db2: sumRows(dS) };
}

function startingPoint(): Params {
  return {
    W1: [
      [0.6, -0.3, 0.2],
      [0.4, 0.5, -0.6],
      [-0.2, 0.3, 0.7],
    ],
    b1: [0.2, 0.2, -0.1],
    W2: [
      [0.5, -0.4, 0.2],
      [-0.3, 0.6, 0.1],
      [0.2, 0.3, -0.5],
    ],
    b2: [0.05, -0.1, 0.1],
  };
}

/** Correct: dW1 = Xᵀ dz, of shape (inputs × hidden) like W1. */
export const twoLayerMlp = defineProblem({
  description: 'two-layer MLP (ReLU, softmax loss), 4 samples',
  params: startingPoint(),
  f: loss,
  grad(p) {
    const { dz, dW2, db2 } = backprop(p);
    return { W1: matmul(transpose(X), dz), b1: sumRows(dz), W2: dW2, b2: db2 };
  },
});

/**
 * BUG: transposed weight gradient. dW1 is computed as dzᵀ X (hidden × inputs)
 * instead of Xᵀ dz (inputs × hidden). Because W1 is square the shapes still
 * match, so nothing crashes; the diagonal of a transpose is unchanged, so
 * W1[0,0], W1[1,1] and W1[2,2] even pass, while the six off-diagonal
 * elements W1[0,1], W1[0,2], W1[1,0], W1[1,2], W1[2,0], W1[2,1] fail.
 * FIX: dW1 = Xᵀ dz (the gradient of a weight always has the weight's layout:
 * rows indexed by the layer's inputs, columns by its outputs).
 */
export const twoLayerMlpTransposedDW1 = defineProblem({
  description: 'BUG: dW1 transposed (dzᵀ X instead of Xᵀ dz)',
  params: startingPoint(),
  f: loss,
  grad(p) {
    const { dz, dW2, db2 } = backprop(p);
    return { W1: matmul(transpose(dz), X), b1: sumRows(dz), W2: dW2, b2: db2 }; // BUG: should be matmul(transpose(X), dz)
  },
});
