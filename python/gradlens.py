"""Optional type hints for GradLens problem files: editor help, nothing else.

A problem file needs nothing from this module. GradLens finds problems by their shape: every
module-level dict (or object) with params/f/grad[/hvp][/data] or inputs/forward/backward. `problem()`
and `layer()` only build such plain dicts, with the keys spelled right and the argument types
documented, so that an editor can complete and check them:

    from gradlens import Grads, Params, problem

    def loss(p: Params) -> float: ...
    def gradient(p: Params) -> Grads: ...

    quadratic = problem(params={"w": np.zeros(3)}, f=loss, grad=gradient)

PyTorch code has two more kinds, `function()` (a custom autograd Function or any torch callable with
its inputs, as torch.autograd.gradcheck takes them) and `module()` (an nn.Module's parameters under a
loss); a scalar problem may hold torch tensors and leave grad (and hvp) to autograd.

Course code (CS231n, EECS498) is checked as it is written, in three more kinds: `layer_pair()` (a
forward returning (out, cache) and its backward), `loss_with_gradient()` (a loss returning (loss, dW))
and `model_with_params()` (an object with params and loss(X, y) -> (loss, grads)):

    affine = layer_pair(forward=affine_forward, backward=affine_backward, inputs={"x": x, "w": w, "b": b})

A real training script can be watched, its optimizer's steps streamed to the dashboard (or a log):

    watch = gradlens.watch(optimizer, model=model, name="mnist-adamw")   # hooks optimizer.step()
    for x, y in loader:
        ...; optimizer.step()
        watch.log(loss=loss.item())

When GradLens runs a file, this module is importable as `gradlens` (the runner lives beside it), and so it
is in VS Code's terminals. To run the file with plain Python elsewhere, put this folder on PYTHONPATH or
copy gradlens.py and gradlens_watch.py next to yours. No dependency but NumPy for problem files (torch only
in the files that use it; watch() needs only torch); Python 3.8 or later.
"""
from typing import Any, Callable, Dict, List, Optional, TypedDict, Union

try:
    import numpy as np
except ImportError:  # a torch training script that watches its optimizer may have no NumPy
    np = None

__all__ = [
    "Batch", "Data", "FunctionProblem", "GradFunction", "Grads", "HvpFunction", "Layer", "LayerPair", "LossFunction",
    "LossWithGradient", "ModelWithParams", "ModuleProblem", "Params", "Problem", "Scalar", "Tensor", "function", "layer",
    "layer_pair", "loss_with_gradient", "model_with_params", "module", "problem", "watch",
]

Tensor = Union["np.ndarray", float]
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

Scalar = Union[float, "np.floating", "np.ndarray"]
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
    grad: Optional[GradFunction] = None,
    hvp: Optional[HvpFunction] = None,
    data: Optional[Data] = None,
    description: Optional[str] = None,
) -> Problem:
    """A scalar-loss problem as the plain dict GradLens reads; the optional keys only when given (grad
    may be left out only when params are torch tensors: autograd of f is then the analytic side)."""
    spec: Problem = {"params": params, "f": f}  # type: ignore[typeddict-item]
    if grad is not None:
        spec["grad"] = grad
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


class _FunctionKeys(TypedDict):
    fn: Callable[..., Any]
    inputs: Any


class FunctionProblem(_FunctionKeys, total=False):
    """A torch callable checked as torch.autograd.gradcheck(fn, inputs) checks it: the inputs with
    requires_grad=True through vector-Jacobian products of what autograd computes (your backward), the
    other inputs constants. inputs: a dict (its keys name the elements, x[1,2]; the values are passed
    positionally in the dict's order) or a tuple (named input0, input1, ...)."""

    description: str


class _ModuleKeys(TypedDict):
    module: Any
    inputs: Any


class ModuleProblem(_ModuleKeys, total=False):
    """An nn.Module's parameters that require grad (named as named_parameters() names them, fc1.weight)
    and its inputs that require grad, under loss(module(*inputs)), by default a fixed random projection
    of the output. The module is checked in the mode you left it in (train() or eval())."""

    loss: Callable[[Any], Any]
    description: str


def function(*, fn: Callable[..., Any], inputs: Any, description: Optional[str] = None) -> FunctionProblem:
    """A custom autograd Function (MyFunction.apply) or any torch callable, with its inputs."""
    spec: FunctionProblem = {"fn": fn, "inputs": inputs}
    if description is not None:
        spec["description"] = description
    return spec


def module(*, module: Any, inputs: Any, loss: Optional[Callable[[Any], Any]] = None, description: Optional[str] = None) -> ModuleProblem:
    """An nn.Module with its inputs, and optionally the loss of its output."""
    spec: ModuleProblem = {"module": module, "inputs": inputs}
    if loss is not None:
        spec["loss"] = loss
    if description is not None:
        spec["description"] = description
    return spec


class _LayerPairKeys(TypedDict):
    forward: Callable[..., Any]
    backward: Callable[..., Any]
    inputs: Dict[str, Any]


class LayerPair(_LayerPairKeys, total=False):
    """A course layer as it is written: forward(**inputs) returns (out, cache), or (out1, ..., outK, cache) for
    several outputs (lstm_step_forward: next_h, next_c, cache); backward(dout1, ..., doutK, cache) returns the
    gradients of the float array inputs in their order (dx, dw, db), one array when there is one. Every other
    input is a constant (conv_param, bn_param, integer word indices). wrt names the inputs backward returns
    gradients for, when not all float arrays."""

    wrt: List[str]
    description: str


class _LossWithGradientKeys(TypedDict):
    loss: Callable[..., Any]
    inputs: Dict[str, Any]


class LossWithGradient(_LossWithGradientKeys, total=False):
    """A loss that returns its gradient: loss(**inputs) returns (loss, dW), or (loss, (dW, db)) for several names in
    wrt (which defaults to the float array inputs). Every input not in wrt is a constant: the data X, the labels y,
    reg."""

    wrt: List[str]
    description: str


class _ModelWithParamsKeys(TypedDict):
    model: Any
    inputs: Dict[str, Any]


class ModelWithParams(_ModelWithParamsKeys, total=False):
    """A model with its weights in model.params (a dict of arrays) and model.loss(**inputs) returning (loss,
    grads), grads keyed like params: CS231n's TwoLayerNet, FullyConnectedNet, CaptioningRNN. The elements are
    named by the keys of params (W1[2,3])."""

    description: str


def layer_pair(
    *,
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    inputs: Dict[str, Any],
    wrt: Optional[List[str]] = None,
    description: Optional[str] = None,
) -> LayerPair:
    """A course layer pair as the plain dict GradLens reads (affine_forward, affine_backward and their inputs)."""
    spec: LayerPair = {"forward": forward, "backward": backward, "inputs": inputs}
    if wrt is not None:
        spec["wrt"] = wrt
    if description is not None:
        spec["description"] = description
    return spec


def loss_with_gradient(
    *,
    loss: Callable[..., Any],
    inputs: Dict[str, Any],
    wrt: Optional[List[str]] = None,
    description: Optional[str] = None,
) -> LossWithGradient:
    """A loss that returns (loss, gradient), as the plain dict GradLens reads (svm_loss_naive with wrt=["W"])."""
    spec: LossWithGradient = {"loss": loss, "inputs": inputs}
    if wrt is not None:
        spec["wrt"] = wrt
    if description is not None:
        spec["description"] = description
    return spec


def model_with_params(*, model: Any, inputs: Dict[str, Any], description: Optional[str] = None) -> ModelWithParams:
    """A model with a params dict and loss(**inputs) -> (loss, grads), as the plain dict GradLens reads."""
    spec: ModelWithParams = {"model": model, "inputs": inputs}
    if description is not None:
        spec["description"] = description
    return spec


def watch(
    optimizer: Any,
    *,
    model: Any = None,
    name: Optional[str] = None,
    every: int = 1,
    detail: Optional[str] = None,
    log_dir: Optional[str] = None,
) -> Any:
    """Records every `every`-th optimizer.step() of a torch.optim optimizer (step() itself is unchanged):
    gradient, update and velocity norms, update/parameter ratios and the per-dimension effective learning
    rates, per named parameter (names from `model.named_parameters()`, else group0.param3). `detail`: a
    parameter whose every element's rate goes into each record. Records stream to the GradLens dashboard in a
    VS Code terminal, else to gradlens-runs/<name>-<time>.jsonl beside the script (or `log_dir`, or
    $GRADLENS_LOG_DIR). Returns the watch: watch.log(loss=..., val_loss=...) adds scalars to the latest
    step's record; watch.close() ends the run (also done at exit)."""
    from gradlens_watch import Watch

    return Watch(optimizer, model=model, name=name, every=every, detail=detail, log_dir=log_dir)
