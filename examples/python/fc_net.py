"""A two-layer network in the style of the CS231n assignments (cs231n/classifiers/fc_net.py): the weights in
self.params, and loss(X, y) returning the loss and the gradients of every parameter, keyed like
self.params. Built from the layers of layers.py. Checked as it is, with {"model": net, "inputs": ...}, by
cs231n_model_grad.py.
"""
import numpy as np
from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss


class TwoLayerNet(object):
    """affine - relu - affine - softmax, with L2 regularization 0.5 * reg * (|W1|^2 + |W2|^2)."""

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        """The class scores when y is None; else (loss, grads)."""
        hidden, affine1_cache = affine_forward(X, self.params["W1"], self.params["b1"])
        activated, relu_cache = relu_forward(hidden)
        scores, affine2_cache = affine_forward(activated, self.params["W2"], self.params["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
        grads = {}
        dactivated, grads["W2"], grads["b2"] = affine_backward(dscores, affine2_cache)
        _, grads["W1"], grads["b1"] = affine_backward(relu_backward(dactivated, relu_cache), affine1_cache)
        grads["W1"] += self.reg * self.params["W1"]
        grads["W2"] += self.reg * self.params["W2"]
        return loss, grads
