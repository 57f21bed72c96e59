"""Elementwise activation layers, checked through their backward pass: the Python twin of
../activations.grad.ts, written with the optional gradlens helper (typed dicts for editor help).

A layer has inputs, forward(inputs) and backward(inputs, dy), where dy (the upstream gradient) has
the shape of forward's output and backward returns dL/dinputs for L = sum(dy * forward(inputs)).
GradLens picks a random dy and compares backward against finite differences of
sum(dy * forward(inputs)), element by element of x.

    tanh:     y = tanh(x),            dx = dy * (1 - y^2)
    sigmoid:  y = 1 / (1 + e^(-x)),   dx = dy * y * (1 - y)

    gradlens check examples/python/activations_grad.py
"""
import numpy as np

from gradlens import Grads, Params, layer


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _starting_point() -> Params:
    return {"x": np.array([
        [-1.5, -0.5, 0.25],
        [0.8, -1.0, 1.2],
    ])}


def _tanh_forward(inputs: Params) -> np.ndarray:
    return np.tanh(inputs["x"])


def _tanh_backward(inputs: Params, dy: np.ndarray) -> Grads:
    y = np.tanh(inputs["x"])
    return {"x": dy * (1 - y * y)}


# Correct tanh layer.
tanhLayer = layer(
    description="tanh",
    inputs=_starting_point(),
    forward=_tanh_forward,
    backward=_tanh_backward,
)


def _tanh_backward_sign_error(inputs: Params, dy: np.ndarray) -> Grads:
    y = np.tanh(inputs["x"])
    dx = dy * (1 - y * y)
    dx[1, 2] = dy[1, 2] * (y[1, 2] * y[1, 2] - 1)  # BUG: sign flipped, should be (1 - y * y)
    return {"x": dx}


# BUG: a sign error in a single element. Element [1,2] gets -dy * (1 - y^2) (think of a hand-unrolled
# or special-cased loop where one line was typed as (y^2 - 1)). Only x[1,2] fails; the other five
# elements are right, which is exactly what an element-by-element check is for: an aggregate norm of
# the error would not say where to look.
# FIX: dx[1, 2] = dy[1, 2] * (1 - y^2) like every other element.
tanhLayerSignError = layer(
    description="BUG: tanh backward with a flipped sign at element [1,2]",
    inputs=_starting_point(),
    forward=_tanh_forward,
    backward=_tanh_backward_sign_error,
)


def _sigmoid_forward(inputs: Params) -> np.ndarray:
    return sigmoid(inputs["x"])


def _sigmoid_backward(inputs: Params, dy: np.ndarray) -> Grads:
    y = sigmoid(inputs["x"])
    return {"x": dy * y * (1 - y)}


# Correct sigmoid layer: the derivative is written in terms of the output y.
sigmoidLayer = layer(
    description="sigmoid",
    inputs=_starting_point(),
    forward=_sigmoid_forward,
    backward=_sigmoid_backward,
)


def _sigmoid_backward_wrong_derivative(inputs: Params, dy: np.ndarray) -> Grads:
    x = inputs["x"]
    return {"x": dy * x * (1 - x)}  # BUG: should be y * (1 - y) with y = sigmoid(x)


# BUG: sigma'(x) = sigma(x) (1 - sigma(x)) = y (1 - y) is a formula in the OUTPUT y; this version plugs
# in the input instead, dx = dy * x (1 - x). It is wrong at every element here (x (1 - x) = y (1 - y)
# only where x = y or x = 1 - y), so all six elements x[0,0] ... x[1,2] fail.
# FIX: compute y = sigmoid(x) and use dy * y * (1 - y).
sigmoidLayerWrongDerivative = layer(
    description="BUG: sigmoid backward uses x(1 - x) instead of y(1 - y)",
    inputs=_starting_point(),
    forward=_sigmoid_forward,
    backward=_sigmoid_backward_wrong_derivative,
)
