"""Optional type hints for GradLens problem files: editor help, nothing else.

A problem file needs nothing from this module. GradLens finds problems by their shape: every
module-level dict (or object) with params/f/grad[/hvp][/data] or inputs/forward/backward. `problem()`
and `layer()` only build such plain dicts, with the keys spelled right and the argument types
documented, so that an editor can complete and check them:

    from gradlens import Grads, Params, problem

    def loss(p: Params) -> float: ...
    def gradient(p: Params) -> Grads: ...

    quadratic = problem(params={"w": np.zeros(3)}, f=loss, grad=gradient)

When GradLens runs a file, this module is importable as `gradlens` (the runner lives beside it). To
run the file with plain Python too, put this folder on PYTHONPATH or copy the file next to yours.
No dependency but NumPy; Python 3.8 or later.
"""
from typing import Any, Callable, Dict, List, Optional, TypedDict, Union

import numpy as np

__all__ = [
    "Batch", "Data", "GradFunction", "Grads", "HvpFunction", "Layer", "LossFunction", "Params",
    "Problem", "Scalar", "Tensor", "layer", "problem",
]

Tensor = Union[np.ndarray, float]
"""One parameter: a float64 array of any shape (0-d included) or a float."""

Params = Dict[str, Any]
"""A problem's parameters (or a layer's inputs) by name: each an array, or a float for a float
parameter (typed Any so that array code such as p["W"].T type-checks). GradLens hands every call
fresh copies."""

Grads = Dict[str, Tensor]
"""A gradient: the keys of the params (any order), each of its tensor's shape (a float parameter's
gradient may be a float or a 0-d array)."""

Batch = List[int]
"""The sample indices of a mini-batch, for problems that declare data={"size": N}."""

Scalar = Union[float, np.floating, np.ndarray]
"""What f may return: a float, a NumPy scalar or a 0-d array."""

LossFunction = Union[Callable[[Params], Scalar], Callable[[Params, Batch], Scalar]]
"""f(p), or f(p, batch) for problems with data (then also called without a batch: the full batch)."""

GradFunction = Union[Callable[[Params], Grads], Callable[[Params, Batch], Grads]]
"""grad(p), or grad(p, batch) for problems with data, like f."""

HvpFunction = Callable[[Params, Params], Grads]
"""hvp(p, v): the Hessian of f at p times v, where v has the structure of p."""


class Data(TypedDict):
    """A problem over N samples: f and grad take a batch of their indices."""

    size: int


class _ProblemKeys(TypedDict):
    params: Params
    f: LossFunction
    grad: GradFunction


class Problem(_ProblemKeys, total=False):
    """A scalar loss with its gradient, checked against central differences of f."""

    hvp: HvpFunction
    data: Data
    description: str


class _LayerKeys(TypedDict):
    inputs: Params
    forward: Callable[[Params], Any]
    backward: Callable[[Params, Any], Grads]


class Layer(_LayerKeys, total=False):
    """A vector-valued function checked through its backward pass: backward(inputs, dy) must be the
    gradient of sum(dy * forward(inputs)) with respect to the inputs, for any dy of forward's shape."""

    description: str


def problem(
    *,
    params: Params,
    f: LossFunction,
    grad: GradFunction,
    hvp: Optional[HvpFunction] = None,
    data: Optional[Data] = None,
    description: Optional[str] = None,
) -> Problem:
    """A scalar-loss problem as the plain dict GradLens reads; the optional keys only when given."""
    spec: Problem = {"params": params, "f": f, "grad": grad}
    if hvp is not None:
        spec["hvp"] = hvp
    if data is not None:
        spec["data"] = data
    if description is not None:
        spec["description"] = description
    return spec


def layer(
    *,
    inputs: Params,
    forward: Callable[[Params], Any],
    backward: Callable[[Params, Any], Grads],
    description: Optional[str] = None,
) -> Layer:
    """A layer as the plain dict GradLens reads. forward returns a float or an array; backward gets
    the upstream gradient dy of that shape and returns the gradient of each input."""
    spec: Layer = {"inputs": inputs, "forward": forward, "backward": backward}
    if description is not None:
        spec["description"] = description
    return spec
