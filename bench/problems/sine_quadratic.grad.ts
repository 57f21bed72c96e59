// The --jobs benchmark (bench/jobs.ts) in TypeScript: f(x) = ½Σx² + Σ sin x over n = 10,000
// parameters, grad = x + cos x, at a fixed point. Each f costs O(n), so a full check (2n + 2
// evaluations of f) costs O(n²).
const N = 10_000;
const start = Array.from({ length: N }, (_, i) => Math.sin(1 + i) * 2);

export const sineQuadratic = {
  params: { x: start },
  f: (p: { x: number[] }) => {
    let sum = 0;
    for (const value of p.x) sum += 0.5 * value * value + Math.sin(value);
    return sum;
  },
  grad: (p: { x: number[] }) => ({ x: p.x.map((value) => value + Math.cos(value)) }),
};
