"""The benchmark problem of bench/python.ts: a cheap NumPy loss over n = 10,000 parameters.

    f(w) = 1/n * sum_i (w_i^3 + 2 w_i),   df/dw_i = (3 w_i^2 + 2) / n

w^3 is written w * w * w: NumPy's power() costs about six times as much, and the benchmark is about
the cost of the check around a cheap f, not about f. bench/problems/cubic_torch_gradcheck.py is the
same function in torch, cubic_bare_loop.py the plain loop over this one.
"""
import numpy as np

N = 10000
# Seeded uniform in [-1, 1): every run checks the same point.
START = np.random.default_rng(0).uniform(-1.0, 1.0, N)


def cubic_mean(p):
    w = p["w"]
    return float(np.sum(w * w * w + 2 * w)) / N


def cubic_mean_gradient(p):
    w = p["w"]
    return {"w": (3 * w * w + 2) / N}


cubic = {"params": {"w": START.copy()}, "f": cubic_mean, "grad": cubic_mean_gradient}
