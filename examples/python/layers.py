"""Layer functions in the style of the CS231n assignments (cs231n/layers.py): each forward returns its
output and a cache, each backward takes the upstream gradient and that cache. A helper module beside
cs231n_two_layer_net_grad.py, imported by it: GradLens makes the problem file's folder importable, as
when the file is run as a script.
"""
import numpy as np


def affine_forward(x, w, b):
    """out = x w + b, with x of shape (N, d_1, ..., d_k) flattened to rows of D = d_1 * ... * d_k."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """dx = dout w^T (in x's shape), dw = x^T dout, db = sum over the batch of dout."""
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    """The upstream gradient where the input was positive (ReLU'(0) taken as 0)."""
    return dout * (cache > 0)


def softmax_loss(x, y):
    """Mean cross-entropy of the class scores x (N, C) for labels y, and its gradient
    (softmax(x) - onehot(y)) / N."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return loss, dx / n
