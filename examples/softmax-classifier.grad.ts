/**
 * A linear softmax classifier (CS231n assignment 1) on five samples.
 *
 *   scores = X W + b                           (N×C; b is broadcast over the rows)
 *   f      = 1/N · Σ_i −log softmax(scores_i)[y_i]
 *   dS     = (softmax(scores) − onehot(y)) / N
 *   dW     = Xᵀ dS,   db = Σ_i dS_i            (the sum undoes the broadcast)
 *
 *   gradlens check examples/softmax-classifier.grad.ts
 */
import { defineProblem } from 'gradlens';

type Params = { W: number[][]; b: number[] };

// 5 samples, 3 features, 3 classes.
const X: number[][] = [
  [0.8, -0.3, 0.5],
  [-0.4, 0.9, 0.1],
  [0.2, 0.4, -0.7],
  [-0.6, -0.5, 0.3],
  [0.5, 0.7, 0.6],
];
const LABELS = [0, 1, 2, 2, 1];
const N = X.length;
const D = X[0].length;
const C = 3;

/** Row-wise softmax probabilities of the scores X W + b (max subtracted for numerical stability). */
function probabilities(p: Params): number[][] {
  return X.map((x) => {
    const scores = p.b.map((bc, c) => {
      let s = bc;
      for (let j = 0; j < D; j++) s += x[j] * p.W[j][c];
      return s;
    });
    const max = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - max));
    const total = exps.reduce((a, e) => a + e, 0);
    return exps.map((e) => e / total);
  });
}

function crossEntropy(p: Params): number {
  const probs = probabilities(p);
  let loss = 0;
  for (let i = 0; i < N; i++) loss -= Math.log(probs[i][LABELS[i]]);
  return loss / N;
}

/** dL/dscores: (probs − onehot) / N, one row per sample. */
function scoreGradient(p: Params): number[][] {
  return probabilities(p).map((row, i) => row.map((q, c) => (q - (c === LABELS[i] ? 1 : 0)) / N));
}

function weightGradient(dScores: number[][]): number[][] {
  const dW = Array.from({ length: D }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < D; j++) {
      for (let c = 0; c < C; c++) dW[j][c] += X[i][j] * dScores[i][c];
    }
  }
  return dW;
}

function startingPoint(): Params {
  return {
    W: [
      [0.2, -0.1, 0.3],
      [-0.3, 0.4, 0.1],
      [0.1, 0.2, -0.2],
    ],
    b: [0.1, -0.2, 0.05],
  };
}

/** Correct: db sums the score gradient over all samples of the batch. */
export const softmaxClassifier = defineProblem({
  description: 'softmax cross-entropy classifier, 5 samples, 3 classes',
  params: startingPoint(),
  f: crossEntropy,
  grad(p) {
    const dScores = scoreGradient(p);
    const db = new Array<number>(C).fill(0);
    for (const row of dScores) row.forEach((g, c) => (db[c] += g));
    return { W: weightGradient(dScores), b: db };
  },
});

/**
 * BUG: wrong bias broadcast. In the forward pass b is added to every row of
 * X W, so its gradient must sum dScores over all N rows; this version takes
 * only the first row (a typical slip when the code was first written for a
 * single sample). dW is right, every b[c] is wrong: b[0], b[1] and b[2] fail.
 * FIX: db[c] = Σ_i dScores[i][c] (numpy: dscores.sum(axis=0)).
 */
export const softmaxClassifierBiasFromFirstSample = defineProblem({
  description: 'BUG: db from the first sample only instead of summed over the batch',
  params: startingPoint(),
  f: crossEntropy,
  grad(p) {
    const dScores = scoreGradient(p);
    const db = [...dScores[0]]; // BUG: should sum dScores over all rows
    return { W: weightGradient(dScores), b: db };
  },
});
