"""Linear regression with a mean-squared-error loss: the Python twin of ../linear-regression.grad.ts.

    f(w, b) = 1/m * sum_{i in batch} (x_i.w + b - y_i)^2       (m = batch size)
    df/dw   = 2/m * sum r_i x_i,   df/db = 2/m * sum r_i       (r_i = x_i.w + b - y_i)
    H       = 2/m * [X 1]^T [X 1]   (constant: the loss is quadratic)

The data set is tiny and generated deterministically below, with the TypeScript twin's generator, so
both check the same numbers. "data": {"size": N} declares that f and grad accept a mini-batch (a list
of sample indices); called without one they use the full batch.

    gradlens check examples/python/linear_regression_grad.py
    gradlens check examples/python/linear_regression_grad.py --order 2        # checks hvp too
    gradlens check examples/python/linear_regression_grad.py --batch-size 3   # on a seeded mini-batch
"""
import numpy as np

N = 8
D = 3
TRUE_W = [0.5, -0.3, 0.8]
TRUE_B = 0.1


def _seeded_uniform(seed):
    """A 32-bit linear congruential generator with the Numerical Recipes constants, exactly as in the
    TypeScript twin: numbers in [0, 1) that look random but are the same on every run. Never use an
    unseeded generator in a gradient check: the loss must be the same function at every call."""
    state = seed % 2**32

    def next_uniform():
        nonlocal state
        state = (state * 1664525 + 1013904223) % 2**32
        return state / 2**32

    return next_uniform


def _synthetic_data():
    """x_i uniform in [-1, 1)^3, y_i = x_i.TRUE_W + TRUE_B + small noise: the twin's floats, bit for bit."""
    next_uniform = _seeded_uniform(231)
    rows, targets = [], []
    for _ in range(N):
        x = [2 * next_uniform() - 1 for _ in range(D)]
        y = 0.0
        for xj, wj in zip(x, TRUE_W):  # left to right like the twin's dot (sum() compensates on Python >= 3.12)
            y += xj * wj
        targets.append(y + TRUE_B + 0.05 * (2 * next_uniform() - 1))
        rows.append(x)
    return np.array(rows), np.array(targets)


X, Y = _synthetic_data()


def _samples(batch):
    return np.arange(N) if batch is None else np.asarray(batch)


def _residuals(p, samples):
    return X[samples] @ p["w"] + p["b"] - Y[samples]


def mean_squared_error(p, batch=None):
    r = _residuals(p, _samples(batch))
    return float(r @ r) / len(r)


def mean_squared_error_gradient(p, batch=None):
    samples = _samples(batch)
    r = _residuals(p, samples)
    m = len(samples)
    return {"w": 2 / m * (X[samples].T @ r), "b": 2 / m * float(r.sum())}


def _starting_point():
    # Away from the least-squares solution, so every gradient element is clearly non-zero.
    return {"w": np.array([0.2, 0.1, -0.4]), "b": 0.3}


def _hvp(_p, v):
    """H.v = 2/N * [X 1]^T ([X 1] v) over the full batch (hvp takes no batch), without building the
    (D+1)x(D+1) Hessian. It does not depend on the parameters, hence the unused _p."""
    xv = X @ v["w"] + v["b"]
    return {"w": 2 / N * (X.T @ xv), "b": 2 / N * float(xv.sum())}


# Correct: gradient and Hessian-vector product of the mean squared error.
linearRegression = {
    "description": "linear regression, mean squared error over 8 samples (mini-batches supported)",
    "params": _starting_point(),
    "data": {"size": N},
    "f": mean_squared_error,
    "grad": mean_squared_error_gradient,
    "hvp": _hvp,
}


def _gradient_missing_mean(p, batch=None):
    samples = _samples(batch)
    r = _residuals(p, samples)
    return {"w": 2 * (X[samples].T @ r), "b": 2 * float(r.sum())}  # BUG: should be 2 / m * ... (m = len(samples))


# BUG: the gradient sums the per-sample gradients but forgets the 1/m of the mean (m = batch size)
# that f has. Every element comes out m times too large (8 times with the full batch), so all of
# w[0], w[1], w[2] and b fail.
# FIX: divide by len(samples), exactly as f does (see mean_squared_error_gradient).
linearRegressionMissingMean = {
    "description": "BUG: gradient missing the 1/m of the mean",
    "params": _starting_point(),
    "data": {"size": N},
    "f": mean_squared_error,
    "grad": _gradient_missing_mean,
}
