"""A two-layer net as in the CS231n assignments (TwoLayerNet: affine - relu - affine - softmax, with
L2 regularization), built from the layer functions of layers.py beside this file. Written with the
optional gradlens helper (typed dicts for editor help).

    hidden = relu(X W1 + b1),   scores = hidden W2 + b2
    f = softmax_loss(scores, y) + reg/2 * (|W1|^2 + |W2|^2)
    grad: the layers' backward passes in reverse order, plus reg * W for each weight

    gradlens check examples/python/cs231n_two_layer_net_grad.py
"""
import numpy as np
from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss

from gradlens import Grads, Params, problem

REG = 0.1
# 5 "images" of 2x3 pixels (affine_forward flattens them to 6 features), 4 hidden units, 3 classes.
# Seeded, so every check sees the same numbers; the smallest |pre-activation| is 0.12, far from the
# ReLU kink at 0 (see relu_kink_grad.py).
_rng = np.random.default_rng(231)
X = _rng.standard_normal((5, 2, 3))
Y = np.array([0, 2, 1, 1, 0])


def _starting_point() -> Params:
    init = np.random.default_rng(7)
    return {
        "W1": 0.5 * init.standard_normal((6, 4)),
        "b1": 0.1 * init.standard_normal(4),
        "W2": 0.5 * init.standard_normal((4, 3)),
        "b2": 0.1 * init.standard_normal(3),
    }


def data_loss_and_gradients(p: Params):
    """The softmax loss of the network's scores and its gradients (without regularization), forward
    and backward through the layers as in TwoLayerNet.loss."""
    hidden, affine1_cache = affine_forward(X, p["W1"], p["b1"])
    activated, relu_cache = relu_forward(hidden)
    scores, affine2_cache = affine_forward(activated, p["W2"], p["b2"])
    loss, dscores = softmax_loss(scores, Y)
    dactivated, dW2, db2 = affine_backward(dscores, affine2_cache)
    _, dW1, db1 = affine_backward(relu_backward(dactivated, relu_cache), affine1_cache)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def regularized_loss(p: Params) -> float:
    data_loss, _ = data_loss_and_gradients(p)
    return float(data_loss + 0.5 * REG * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))


def regularized_gradient(p: Params) -> Grads:
    _, grads = data_loss_and_gradients(p)
    grads["W1"] += REG * p["W1"]
    grads["W2"] += REG * p["W2"]
    return grads


# Correct.
twoLayerNet = problem(
    description="CS231n TwoLayerNet: affine - relu - affine - softmax, L2 regularization",
    params=_starting_point(),
    f=regularized_loss,
    grad=regularized_gradient,
)


def _gradient_missing_W2_regularization(p: Params) -> Grads:
    _, grads = data_loss_and_gradients(p)
    grads["W1"] += REG * p["W1"]
    # BUG: missing grads["W2"] += REG * p["W2"]
    return grads


# BUG: the loss has the L2 penalty reg/2 |W2|^2, but the gradient forgets its reg * W2 (it was added
# for W1 only, e.g. when a second layer was pasted in). Every element of W2 is off by exactly
# -reg * W2[i, j], so all twelve elements of W2 fail and W1, b1, b2 pass.
# FIX: grads["W2"] += REG * p["W2"], as in regularized_gradient.
twoLayerNetMissingW2Regularization = problem(
    description="BUG: the gradient misses the L2 term reg * W2",
    params=_starting_point(),
    f=regularized_loss,
    grad=_gradient_missing_W2_regularization,
)
