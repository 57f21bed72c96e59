"""A two-layer fully connected network with ReLU and a softmax loss (CS231n assignment 1,
"two_layer_net"), backpropagated by hand: the Python twin of ../two-layer-mlp.grad.ts.

    z = X W1 + b1,   h = max(0, z),   scores = h W2 + b2
    f = 1/N * sum_i -log softmax(scores_i)[y_i]

    dS  = (softmax(scores) - onehot(y)) / N
    dW2 = h^T dS,    db2 = sum_i dS_i
    dh  = dS W2^T,   dz  = dh * [z > 0]
    dW1 = X^T dz,    db1 = sum_i dz_i

W1 is square (3 inputs, 3 hidden units) on purpose: then a transposed dW1 still has the right shape,
so nothing crashes and only a gradient check can tell. At the chosen parameters no pre-activation z is
near 0 (the smallest |z| is 0.09), so the loss is smooth there: see relu_kink_grad.py for z = 0.

    gradlens check examples/python/two_layer_mlp_grad.py
"""
import numpy as np

# 4 samples, 3 features, 3 classes.
X = np.array([
    [0.9, -0.4, 0.3],
    [-0.5, 0.8, 0.6],
    [0.3, 0.5, -0.9],
    [-0.7, -0.6, 0.4],
])
LABELS = np.array([2, 0, 1, 1])
N = len(X)


def forward(p):
    z = X @ p["W1"] + p["b1"]
    h = np.maximum(0, z)
    scores = h @ p["W2"] + p["b2"]
    exps = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z, h, exps / exps.sum(axis=1, keepdims=True)


def loss(p):
    _, _, probs = forward(p)
    return float(-np.log(probs[np.arange(N), LABELS]).mean())


def backprop(p):
    """Backpropagation up to dz, shared by the correct and the buggy version."""
    z, h, probs = forward(p)
    dscores = probs.copy()
    dscores[np.arange(N), LABELS] -= 1
    dscores /= N
    dz = (dscores @ p["W2"].T) * (z > 0)
    return dz, h.T @ dscores, dscores.sum(axis=0)


def _starting_point():
    return {
        "W1": np.array([
            [0.6, -0.3, 0.2],
            [0.4, 0.5, -0.6],
            [-0.2, 0.3, 0.7],
        ]),
        "b1": np.array([0.2, 0.2, -0.1]),
        "W2": np.array([
            [0.5, -0.4, 0.2],
            [-0.3, 0.6, 0.1],
            [0.2, 0.3, -0.5],
        ]),
        "b2": np.array([0.05, -0.1, 0.1]),
    }


def _gradient(p):
    dz, dW2, db2 = backprop(p)
    return {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": dW2, "b2": db2}


# Correct: dW1 = X^T dz, of shape (inputs x hidden) like W1.
twoLayerMlp = {
    "description": "two-layer MLP (ReLU, softmax loss), 4 samples",
    "params": _starting_point(),
    "f": loss,
    "grad": _gradient,
}


def _gradient_transposed_dW1(p):
    dz, dW2, db2 = backprop(p)
    return {"W1": dz.T @ X, "b1": dz.sum(axis=0), "W2": dW2, "b2": db2}  # BUG: should be X.T @ dz


# BUG: transposed weight gradient. dW1 is computed as dz^T X (hidden x inputs) instead of X^T dz
# (inputs x hidden). Because W1 is square the shapes still match, so nothing crashes; the diagonal of
# a transpose is unchanged, so W1[0,0], W1[1,1] and W1[2,2] even pass, while the six off-diagonal
# elements W1[0,1], W1[0,2], W1[1,0], W1[1,2], W1[2,0], W1[2,1] fail.
# FIX: dW1 = X.T @ dz (the gradient of a weight always has the weight's layout: rows indexed by the
# layer's inputs, columns by its outputs).
twoLayerMlpTransposedDW1 = {
    "description": "BUG: dW1 transposed (dz^T X instead of X^T dz)",
    "params": _starting_point(),
    "f": loss,
    "grad": _gradient_transposed_dW1,
}
