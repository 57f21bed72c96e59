// Host-test fixture: does not compile (the runner reports file:line:column, nothing is checked).
export const broken = {
  params: { x: [1] },
  f: (p: { x: number[] }) => p.x[0] +,
  grad: () => ({ x: [1] }),
};
