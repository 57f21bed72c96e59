"""Batch normalization in training mode (CS231n assignment 2) as a layer with inputs x (N x D),
gamma (D) and beta (D): the Python twin of ../batchnorm.grad.ts. Every column (feature) is normalized
with the mean and variance of the batch:

    mu = 1/N sum_i x_i,   var = 1/N sum_i (x_i - mu)^2,   xhat = (x - mu) / sqrt(var + eps)
    y = gamma * xhat + beta

Backward, with dxhat = dy * gamma (all sums over the batch, per column):

    dbeta = sum_i dy_i,   dgamma = sum_i dy_i * xhat_i
    dx = 1/sqrt(var + eps) * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

The two subtracted terms are there because mu and var are themselves functions of every x_i:
-mean(dxhat) is the path through mu, -xhat * mean(dxhat * xhat) the path through var.

    gradlens check examples/python/batchnorm_grad.py
"""
import numpy as np

BN_EPS = 1e-5


def normalize(x):
    """Per-column normalized input xhat and 1/sqrt(var + eps)."""
    mean = x.mean(axis=0)
    inv_std = 1 / np.sqrt(((x - mean) ** 2).mean(axis=0) + BN_EPS)
    return (x - mean) * inv_std, inv_std


def batchnorm_forward(inputs):
    xhat, _ = normalize(inputs["x"])
    return inputs["gamma"] * xhat + inputs["beta"]


def parameter_gradients(dy, xhat):
    """dgamma = sum_i dy_i * xhat_i and dbeta = sum_i dy_i (the same in both versions below)."""
    return {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}


def _starting_point():
    return {
        "x": np.array([
            [0.5, -0.8],
            [-0.3, 0.4],
            [1.1, 0.1],
            [0.2, -0.2],
        ]),
        "gamma": np.array([1.2, 0.7]),
        "beta": np.array([0.1, -0.3]),
    }


def _backward(inputs, dy):
    xhat, inv_std = normalize(inputs["x"])
    dxhat = dy * inputs["gamma"]
    dx = inv_std * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
    return {"x": dx, **parameter_gradients(dy, xhat)}


# Correct batch-norm backward.
batchNorm = {
    "description": "batch normalization (training mode), N=4, D=2",
    "inputs": _starting_point(),
    "forward": batchnorm_forward,
    "backward": _backward,
}


def _backward_mean_treated_as_constant(inputs, dy):
    xhat, inv_std = normalize(inputs["x"])
    dxhat = dy * inputs["gamma"]
    dx = inv_std * (dxhat - xhat * (dxhat * xhat).mean(axis=0))  # BUG: missing "- dxhat.mean(axis=0)" (the path through mu)
    return {"x": dx, **parameter_gradients(dy, xhat)}


# BUG: the batch mean mu is treated as a constant, so the -mean(dxhat) term (the gradient flowing
# through mu) is missing from dx. A common slip when deriving the backward pass on paper: mu "looks
# like" a statistic, not a function of x. Each dx[i, j] is off by gamma_j * mean_i(dy[i, j]) /
# sqrt(var_j + eps), which is not zero for a generic upstream gradient, so all eight elements
# x[0,0] ... x[3,1] fail; dgamma and dbeta do not involve this term and pass. (The bug hides when the
# upstream gradient has zero column means, which is why a random dy is used.)
# FIX: subtract dxhat.mean(axis=0), as in batchNorm.
batchNormMeanTreatedAsConstant = {
    "description": "BUG: backward ignores that the batch mean depends on x",
    "inputs": _starting_point(),
    "forward": batchnorm_forward,
    "backward": _backward_mean_treated_as_constant,
}
