"""The layers of layers.py checked as CS231n writes them, without wrappers: each problem names a forward, its
backward and the forward's inputs by name. forward(**inputs) returns (out, cache); backward(dout, cache)
returns the gradients of the float array inputs in their order (dx, dw, db). Everything else is a constant,
as torch treats non-differentiable inputs: conv_param, pool_param, bn_param and dropout_param here. Each
layer has a buggy twin from buggy_layers.py, whose wrong elements the check names.

    gradlens check examples/python/cs231n_layers_grad.py
"""
import buggy_layers as buggy
import numpy as np
from layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
)

_rng = np.random.default_rng(231)

# 4 "images" of 2x3 pixels, flattened by affine_forward to 6 features, into 5 units.
affine = {
    "forward": affine_forward,
    "backward": affine_backward,
    "inputs": {"x": _rng.standard_normal((4, 2, 3)), "w": _rng.standard_normal((6, 5)), "b": _rng.standard_normal(5)},
}
# BUG: db averaged over the batch: every element of b is wrong, x and w are right.
affine_db_averaged = {**affine, "backward": buggy.affine_backward_db_averaged}

# Inputs at least 0.1 away from the kink at 0 (see relu_kink_grad.py for a check at a kink).
_x = _rng.standard_normal((3, 4))
relu = {"forward": relu_forward, "backward": relu_backward, "inputs": {"x": np.where(np.abs(_x) < 0.1, 0.5, _x)}}
# BUG: the local gradient without dout: the elements where x > 0 are wrong, the others right.
relu_without_dout = {**relu, "backward": buggy.relu_backward_without_dout}

# Train mode: the batch's statistics. batchnorm_forward writes its running averages into bn_param; every call
# gets a fresh copy of it, so they never change what is checked.
batchnorm = {
    "forward": batchnorm_forward,
    "backward": batchnorm_backward,
    "inputs": {"x": 2 + 3 * _rng.standard_normal((5, 3)), "gamma": _rng.standard_normal(3), "beta": _rng.standard_normal(3), "bn_param": {"mode": "train"}},
}
# BUG: the batch mean and variance taken as constants: every element of x is wrong, gamma and beta are right.
batchnorm_batch_statistics_constant = {**batchnorm, "backward": buggy.batchnorm_backward_batch_statistics_constant}

# With a seed the mask is the same at every call (dropout_forward seeds np.random with it).
dropout = {
    "forward": dropout_forward,
    "backward": dropout_backward,
    "inputs": {"x": _rng.standard_normal((4, 5)), "dropout_param": {"mode": "train", "p": 0.6, "seed": 0}},
}
# BUG: the kept units' gradient not scaled by 1/p: the kept elements are wrong, the dropped ones right.
dropout_unscaled = {**dropout, "backward": buggy.dropout_backward_unscaled}

conv = {
    "forward": conv_forward_naive,
    "backward": conv_backward_naive,
    "inputs": {
        "x": _rng.standard_normal((2, 2, 4, 4)),
        "w": _rng.standard_normal((3, 2, 3, 3)),
        "b": _rng.standard_normal(3),
        "conv_param": {"stride": 1, "pad": 1},
    },
}
# BUG: dw from the first sample only: every element of w is wrong, x and b are right.
conv_first_sample_dw = {**conv, "backward": buggy.conv_backward_naive_first_sample_dw}

max_pool = {
    "forward": max_pool_forward_naive,
    "backward": max_pool_backward_naive,
    "inputs": {"x": _rng.standard_normal((2, 2, 4, 4)), "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 2}},
}
# BUG: the whole window gets the gradient: every element but the maximum of its window is wrong.
max_pool_whole_window = {**max_pool, "backward": buggy.max_pool_backward_naive_whole_window}
