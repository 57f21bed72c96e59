"""A linear softmax classifier (CS231n assignment 1) on five samples: the Python twin of
../softmax-classifier.grad.ts.

    scores = X W + b                           (N x C; b is broadcast over the rows)
    f      = 1/N * sum_i -log softmax(scores_i)[y_i]
    dS     = (softmax(scores) - onehot(y)) / N
    dW     = X^T dS,   db = sum_i dS_i           (the sum undoes the broadcast)

    gradlens check examples/python/softmax_classifier_grad.py
"""
import numpy as np

# 5 samples, 3 features, 3 classes.
X = np.array([
    [0.8, -0.3, 0.5],
    [-0.4, 0.9, 0.1],
    [0.2, 0.4, -0.7],
    [-0.6, -0.5, 0.3],
    [0.5, 0.7, 0.6],
])
LABELS = np.array([0, 1, 2, 2, 1])
N = len(X)


def probabilities(p):
    """Row-wise softmax of the scores X W + b (max subtracted for numerical stability)."""
    scores = X @ p["W"] + p["b"]
    exps = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def cross_entropy(p):
    return float(-np.log(probabilities(p)[np.arange(N), LABELS]).mean())


def score_gradient(p):
    """dL/dscores: (probs - onehot) / N, one row per sample."""
    dscores = probabilities(p)
    dscores[np.arange(N), LABELS] -= 1
    return dscores / N


def _starting_point():
    return {
        "W": np.array([
            [0.2, -0.1, 0.3],
            [-0.3, 0.4, 0.1],
            [0.1, 0.2, -0.2],
        ]),
        "b": np.array([0.1, -0.2, 0.05]),
    }


def _gradient(p):
    dscores = score_gradient(p)
    return {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


# Correct: db sums the score gradient over all samples of the batch.
softmaxClassifier = {
    "description": "softmax cross-entropy classifier, 5 samples, 3 classes",
    "params": _starting_point(),
    "f": cross_entropy,
    "grad": _gradient,
}


def _gradient_bias_from_first_sample(p):
    dscores = score_gradient(p)
    return {"W": X.T @ dscores, "b": dscores[0]}  # BUG: should be dscores.sum(axis=0)


# BUG: wrong bias broadcast. In the forward pass b is added to every row of X W, so its gradient must
# sum dscores over all N rows; this version takes only the first row (a typical slip when the code was
# first written for a single sample). dW is right, every b[c] is wrong: b[0], b[1] and b[2] fail.
# FIX: db = dscores.sum(axis=0).
softmaxClassifierBiasFromFirstSample = {
    "description": "BUG: db from the first sample only instead of summed over the batch",
    "params": _starting_point(),
    "f": cross_entropy,
    "grad": _gradient_bias_from_first_sample,
}
