// Host-test fixture: f never returns; the runner's time limit ends it (set a short gradlens timeout in tests).
export const hangs = {
  params: { x: [1] },
  f: (): number => {
    for (;;) {
      // spins until the runner's time limit
    }
  },
  grad: () => ({ x: [0] }),
};
