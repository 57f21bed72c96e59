"""The --jobs benchmark (bench/jobs.ts) in NumPy: f(x) = 1/2 sum x^2 + sum sin x over n = 10,000
parameters, grad = x + cos x, at the same point as sine_quadratic.grad.ts."""
import numpy as np

N = 10000
START = np.sin(1.0 + np.arange(N)) * 2


def f(p):
    x = p["x"]
    return float(0.5 * np.dot(x, x) + np.sum(np.sin(x)))


def grad(p):
    x = p["x"]
    return {"x": x + np.cos(x)}


sine_quadratic = {"params": {"x": START.copy()}, "f": f, "grad": grad}
