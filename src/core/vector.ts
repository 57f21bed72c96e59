/** Float64 vector helpers shared by the engine, the optimizers and the analysis. */

export function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function norm(vector: Float64Array): number {
  return Math.sqrt(dot(vector, vector));
}
