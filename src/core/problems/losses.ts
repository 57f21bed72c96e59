/** Numerically stable pieces of the classification losses. */

/** σ(z) = 1 / (1 + e^−z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) = max(z, 0) + log1p(e^−|z|). */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** −log softmax(scores)[label] = logsumexp(scores) − scores[label], and the probabilities softmax(scores). */
export function softmaxCrossEntropy(scores: readonly number[], label: number): { loss: number; probs: number[] } {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, e) => a + e, 0);
  return { loss: max + Math.log(total) - scores[label], probs: exps.map((e) => e / total) };
}
