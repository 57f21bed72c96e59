"""CS231n's TwoLayerNet (fc_net.py) checked as it is: {"model": net, "inputs": {...}} for any object with
params (a dict of arrays) and loss(X, y) returning (loss, grads) keyed like params. Each evaluation writes
the point into net.params, and the net's own arrays are put back after it; the elements are named by the
keys of params, W1[2,3]. The same network, data and bug as cs231n_two_layer_net_grad.py, which wraps the
layers in GradLens's own convention instead.

    gradlens check examples/python/cs231n_model_grad.py
"""
import numpy as np
from buggy_layers import TwoLayerNetMissingW2Regularization
from fc_net import TwoLayerNet

# 5 "images" of 2x3 pixels, 4 hidden units, 3 classes, L2 regularization 0.1.
_rng = np.random.default_rng(231)
_inputs = {"X": _rng.standard_normal((5, 2, 3)), "y": np.array([0, 2, 1, 1, 0])}

two_layer_net = {"model": TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3, weight_scale=0.5, reg=0.1, seed=7), "inputs": _inputs}
# BUG: the gradient misses reg * W2: every element of W2 is wrong, W1, b1 and b2 are right.
two_layer_net_missing_w2_regularization = {
    "model": TwoLayerNetMissingW2Regularization(input_dim=6, hidden_dim=4, num_classes=3, weight_scale=0.5, reg=0.1, seed=7),
    "inputs": _inputs,
}
