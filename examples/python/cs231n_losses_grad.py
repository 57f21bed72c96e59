"""Losses that return their gradient, checked as CS231n writes them: loss(**inputs) returns (loss, dW), and
"wrt" names the inputs it returns gradients for. Every other input is a constant: the data X, the labels y,
the regularization strength reg. Each loss has a buggy twin from buggy_layers.py.

    gradlens check examples/python/cs231n_losses_grad.py
"""
import buggy_layers as buggy
import numpy as np
from layers import softmax_loss, svm_loss
from linear_classifiers import softmax_loss_naive, svm_loss_naive

_rng = np.random.default_rng(0)
# 6 samples of 5 features, 4 classes; W at the scale of a trained model, so that margins are far from the hinge.
_data = {"W": 0.5 * _rng.standard_normal((5, 4)), "X": _rng.standard_normal((6, 5)), "y": np.array([0, 3, 1, 1, 2, 3]), "reg": 0.1}

svm_naive = {"loss": svm_loss_naive, "inputs": _data, "wrt": ["W"]}
# BUG: the correct class gets no gradient: W[:, c] is wrong for every class c that is a label (all four here).
svm_naive_without_correct_class = {**svm_naive, "loss": buggy.svm_loss_naive_without_correct_class}

softmax_naive = {"loss": softmax_loss_naive, "inputs": _data, "wrt": ["W"]}
# BUG: the gradient not averaged over the samples: every element of W is wrong.
softmax_naive_not_averaged = {**softmax_naive, "loss": buggy.softmax_loss_naive_not_averaged}

_scores = {"x": 2 * _rng.standard_normal((6, 4)), "y": np.array([0, 3, 1, 1, 2, 3])}
softmax = {"loss": softmax_loss, "inputs": _scores, "wrt": ["x"]}
# BUG: no -1 at the correct class: exactly the elements x[n, y[n]] are wrong.
softmax_without_correct_class = {**softmax, "loss": buggy.softmax_loss_without_correct_class}

svm = {"loss": svm_loss, "inputs": _scores, "wrt": ["x"]}
