"""Second order: checking Hessian-vector products (for Newton and Newton-CG methods, trust regions,
curvature estimates). The Python twin of ../second-order.grad.ts.

A problem may have hvp(p, v), the product H(p) v of the Hessian of f with a vector v of the structure
of params. --order 2 checks it the way torch.autograd.gradgradcheck does: for a fixed random u it
compares hvp(p, u) with finite differences of u . grad(p), element by element. An element i fails
when row i of H u is wrong.

All gradients here are correct, so the default (order 1) check passes for every problem; only
--order 2 catches the two buggy Hessian-vector products:

    gradlens check examples/python/second_order_grad.py
    gradlens check examples/python/second_order_grad.py --order 2
"""
import numpy as np

# ---------------------------------------------------------------------------------------------------
# The Rosenbrock function in 4 dimensions (the classic valley, with a gentler B = 10 instead of 100 so
# the numbers stay moderate):
#
#   f(x) = sum_{i<3} B (x_{i+1} - x_i^2)^2 + (A - x_i)^2
#
# Its Hessian is symmetric and tridiagonal:
#   H[i][i]   = [i<3] (12 B x_i^2 - 4 B x_{i+1} + 2) + [i>0] 2 B
#   H[i][i+1] = H[i+1][i] = -4 B x_i
# ---------------------------------------------------------------------------------------------------

A = 1.0
B = 10.0
ROSENBROCK_START = [0.5, 0.8, -0.3, 0.6]


def rosenbrock_value(p):
    x = p["x"]
    return float(np.sum(B * (x[1:] - x[:-1] ** 2) ** 2 + (A - x[:-1]) ** 2))


def rosenbrock_gradient(p):
    x = p["x"]
    valley = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] += -4 * B * x[:-1] * valley - 2 * (A - x[:-1])
    g[1:] += 2 * B * valley
    return {"x": g}


def rosenbrock_diagonal_product(x, v):
    """diag(H) * v."""
    diagonal = np.zeros_like(x)
    diagonal[:-1] += 12 * B * x[:-1] ** 2 - 4 * B * x[1:] + 2
    diagonal[1:] += 2 * B
    return diagonal * v


def _rosenbrock_hvp(p, v):
    x, vx = p["x"], v["x"]
    out = rosenbrock_diagonal_product(x, vx)
    coupling = -4 * B * x[:-1]  # H[i][i+1] = H[i+1][i]
    out[:-1] += coupling * vx[1:]
    out[1:] += coupling * vx[:-1]
    return {"x": out}


# Correct: H v with both off-diagonal entries of every coupled pair.
rosenbrock = {
    "description": "Rosenbrock function in 4-D with its Hessian-vector product",
    "params": {"x": np.array(ROSENBROCK_START)},
    "f": rosenbrock_value,
    "grad": rosenbrock_gradient,
    "hvp": _rosenbrock_hvp,
}


def _rosenbrock_hvp_upper_triangle_only(p, v):
    x, vx = p["x"], v["x"]
    out = rosenbrock_diagonal_product(x, vx)
    out[:-1] += -4 * B * x[:-1] * vx[1:]
    # BUG: missing out[1:] += -4 * B * x[:-1] * vx[:-1]
    return {"x": out}


# BUG: the Hessian-vector product only uses the upper triangle. For each coupled pair it adds
# H[i][i+1] v[i+1] to row i but forgets the symmetric term H[i+1][i] v[i] in row i+1 (the code was
# written with the matrix H[i][j], j >= i, in mind). Row 0 is complete, rows 1, 2, 3 each miss
# -4 B x[i-1] v[i-1] (non-zero, since no x is 0), so x[1], x[2] and x[3] fail at order 2 and x[0]
# passes.
# FIX: add the coupling to both rows: out[1:] += coupling * vx[:-1].
rosenbrockHvpUpperTriangleOnly = {
    "description": "BUG: hvp uses only the upper triangle of the symmetric Hessian",
    "params": {"x": np.array(ROSENBROCK_START)},
    "f": rosenbrock_value,
    "grad": rosenbrock_gradient,
    "hvp": _rosenbrock_hvp_upper_triangle_only,
}

# ---------------------------------------------------------------------------------------------------
# L2-regularized logistic regression (labels 0/1), only w regularized:
#
#   s_i = x_i.w + b,   f = 1/N sum_i [log(1 + e^{s_i}) - y_i s_i] + lambda/2 |w|^2
#   df/dw = 1/N sum_i (sigma(s_i) - y_i) x_i + lambda w,   df/db = 1/N sum_i (sigma(s_i) - y_i)
#   H v  = 1/N sum_i sigma(s_i)(1 - sigma(s_i)) (x_i.v_w + v_b) [x_i; 1] + [lambda v_w; 0]
# ---------------------------------------------------------------------------------------------------

LAMBDA = 0.1
FEATURES = np.array([
    [0.7, -0.2, 0.4],
    [-0.5, 0.6, 0.1],
    [0.3, 0.8, -0.6],
    [-0.9, -0.3, 0.5],
    [0.4, -0.7, -0.2],
    [-0.1, 0.5, 0.9],
])
TARGETS = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
M = len(FEATURES)


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


def softplus(s):
    """log(1 + e^s) without overflow for large |s|."""
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))


def logistic_value(p):
    s = FEATURES @ p["w"] + p["b"]
    return float(np.mean(softplus(s) - TARGETS * s) + LAMBDA / 2 * (p["w"] @ p["w"]))


def logistic_gradient(p):
    error = (sigmoid(FEATURES @ p["w"] + p["b"]) - TARGETS) / M
    return {"w": FEATURES.T @ error + LAMBDA * p["w"], "b": float(error.sum())}


def data_curvature(p, v):
    """The data term of H v: 1/N sum_i sigma'(s_i) (x_i.v_w + v_b) [x_i; 1]."""
    q = sigmoid(FEATURES @ p["w"] + p["b"])
    r = q * (1 - q) * (FEATURES @ v["w"] + v["b"]) / M
    return {"w": FEATURES.T @ r, "b": float(r.sum())}


def _logistic_start():
    return {"w": np.array([0.3, -0.5, 0.2]), "b": 0.1}


def _logistic_hvp(p, v):
    curvature = data_curvature(p, v)
    return {"w": curvature["w"] + LAMBDA * v["w"], "b": curvature["b"]}


# Correct: data curvature plus the lambda I of the regularizer (on w only).
logisticRegression = {
    "description": "L2-regularized logistic regression with its Hessian-vector product",
    "params": _logistic_start(),
    "f": logistic_value,
    "grad": logistic_gradient,
    "hvp": _logistic_hvp,
}

# BUG: the Hessian-vector product forgets the regularizer. grad includes lambda w, so the Hessian
# includes lambda I on the w block, and H v must include lambda v_w. Without it every w element is off
# by lambda u_j (u the random probe, |u_j| >= 1), so w[0], w[1] and w[2] fail at order 2; b is not
# regularized, its row has no lambda term, and it passes.
# FIX: add LAMBDA * v["w"] to the w part, as in logisticRegression.
logisticRegressionHvpMissingL2 = {
    "description": "BUG: hvp without the lambda v term of the L2 regularizer",
    "params": _logistic_start(),
    "f": logistic_value,
    "grad": logistic_gradient,
    "hvp": data_curvature,  # BUG: should add LAMBDA * v["w"] to the w part
}
