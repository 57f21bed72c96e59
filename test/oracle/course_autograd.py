"""The truth for GradLens's checks of course code as it is (test/unit/course-code.test.ts), from torch autograd and
independent of GradLens's runner and of finite differences:

    python3 course_autograd.py FILE.py

prints {export: {"passed": bool, "wrong": [element names]}} for every layer pair, loss with wrt and model of the
file whose function has a torch re-implementation below (matched by the longest registered prefix of its name, so
that a buggy twin such as svm_loss_naive_without_correct_class is judged against svm_loss_naive). The analytic truth
is autograd's Jacobian (layers) or gradient (losses, models) of the re-implementation; the user's side is what the
user's own backward or loss returns: for a layer its full Jacobian, one backward call per output element (a unit
upstream gradient at that element, zero for the other outputs). An element is wrong when any entry of its Jacobian
column (or its gradient) differs from autograd's by more than atol + rtol |autograd's| (torch's gradcheck criterion,
eps 1e-6, atol 1e-5, rtol 1e-3).
"""
import copy
import importlib.util
import inspect
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ATOL, RTOL = 1e-5, 1e-3
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- re-implementations in torch

def affine(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def relu(x):
    return torch.clamp(x, min=0)


def batchnorm(x, gamma, beta, bn_param):
    mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + bn_param.get("eps", 1e-5)) + beta


def dropout(x, dropout_param):
    # The mask of CS231n's dropout_forward: NumPy's global generator seeded with dropout_param["seed"].
    np.random.seed(dropout_param["seed"])
    p = dropout_param["p"]
    mask = (np.random.rand(*x.shape) < p) / p
    return x * torch.from_numpy(mask)


def conv(x, w, b, conv_param):
    return F.conv2d(x, w, b, stride=conv_param["stride"], padding=conv_param["pad"])


def max_pool(x, pool_param):
    return F.max_pool2d(x, (pool_param["pool_height"], pool_param["pool_width"]), stride=pool_param["stride"])


def rnn_step(x, prev_h, Wx, Wh, b):
    return torch.tanh(x @ Wx + prev_h @ Wh + b)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = (x @ Wx + prev_h @ Wh + b).chunk(4, dim=1)
    next_c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(next_c), next_c


def word_embedding(x, W):
    return W[torch.from_numpy(x)]


def _margins(scores, y):
    labels = torch.from_numpy(y)
    rows = torch.arange(scores.shape[0])
    margins = torch.clamp(scores - scores[rows, labels][:, None] + 1, min=0)
    return margins * (1 - F.one_hot(labels, scores.shape[1]).to(scores.dtype))


def svm_naive(W, X, y, reg):
    return _margins(torch.from_numpy(X) @ W, y).sum() / X.shape[0] + reg * (W * W).sum()


def softmax_naive(W, X, y, reg):
    return F.cross_entropy(torch.from_numpy(X) @ W, torch.from_numpy(y)) + reg * (W * W).sum()


def svm(x, y):
    return _margins(x, y).sum() / x.shape[0]


def softmax(x, y):
    return F.cross_entropy(x, torch.from_numpy(y))


def temporal_softmax(x, y, mask, verbose=False):
    N, T, V = x.shape
    losses = F.cross_entropy(x.reshape(N * T, V), torch.from_numpy(y).reshape(N * T), reduction="none")
    return (losses * torch.from_numpy(mask.reshape(N * T)).to(x.dtype)).sum() / N


def two_layer_net(params, model, X, y):
    hidden = torch.clamp(torch.from_numpy(X).reshape(X.shape[0], -1) @ params["W1"] + params["b1"], min=0)
    loss = F.cross_entropy(hidden @ params["W2"] + params["b2"], torch.from_numpy(y))
    return loss + 0.5 * model.reg * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())


LAYERS = {
    "affine_forward": affine, "relu_forward": relu, "batchnorm_forward": batchnorm, "dropout_forward": dropout,
    "conv_forward_naive": conv, "max_pool_forward_naive": max_pool, "rnn_step_forward": rnn_step,
    "lstm_step_forward": lstm_step, "word_embedding_forward": word_embedding,
}
LOSSES = {
    "svm_loss_naive": svm_naive, "softmax_loss_naive": softmax_naive, "svm_loss": svm, "softmax_loss": softmax,
    "temporal_softmax_loss": temporal_softmax,
}
MODELS = {"TwoLayerNet": two_layer_net}


def registered(registry, name):
    """The re-implementation registered under the longest prefix of name, or None."""
    matches = [key for key in registry if name.startswith(key)]
    return registry[max(matches, key=len)] if matches else None


# ---------------------------------------------------------------- comparison

def element_names(name, shape):
    return ["%s[%s]" % (name, ",".join(str(int(i)) for i in index)) for index in np.ndindex(*shape)] if shape else [name]


def is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def wrong_elements(names, inputs, analytic, truth):
    """Elements of the checked inputs whose column (rows: outputs) has an entry outside the tolerance."""
    wrong = []
    for name, user, true in zip(names, analytic, truth):
        user = np.asarray(user, dtype=np.float64).reshape(-1, inputs[name].size)
        true = true.detach().numpy().reshape(-1, inputs[name].size)
        bad = (np.abs(user - true) > ATOL + RTOL * np.abs(true)).any(axis=0)
        wrong += [label for label, flag in zip(element_names(name, inputs[name].shape), bad) if flag]
    return wrong


def checked_names(inputs, wrt):
    if wrt is not None:
        return [wrt] if isinstance(wrt, str) else list(wrt)
    return [key for key, value in inputs.items() if is_float_array(value)]


def torch_call(function, inputs, names):
    """function of the checked inputs as torch tensors, the other inputs as they are."""
    def call(*tensors):
        arguments = copy.deepcopy(inputs)
        arguments.update(zip(names, tensors))
        return function(**arguments)
    return call


def layer_truth(value, implementation):
    inputs = value["inputs"]
    names = checked_names(inputs, value.get("wrt"))
    call = torch_call(implementation, inputs, names)

    def outputs(*tensors):
        result = call(*tensors)
        return result if isinstance(result, tuple) else (result,)

    leaves = tuple(torch.from_numpy(inputs[name].astype(np.float64)) for name in names)
    jacobians = torch.autograd.functional.jacobian(lambda *xs: torch.cat([o.reshape(-1) for o in outputs(*xs)]), leaves)
    # The user's Jacobian, row by row: backward with a unit upstream gradient at one output element.
    shapes = [tuple(o.shape) for o in outputs(*leaves)]
    rows = [[] for _ in names]
    for k, shape in enumerate(shapes):
        for j in range(int(np.prod(shape))):
            result = value["forward"](**copy.deepcopy(inputs))
            douts = [np.zeros(s) for s in shapes]
            douts[k].reshape(-1)[j] = 1.0
            grads = value["backward"](*douts, result[-1])
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            for row, grad in zip(rows, grads):
                row.append(np.asarray(grad, dtype=np.float64).reshape(-1))
    return wrong_elements(names, inputs, [np.array(row) for row in rows], jacobians)


def loss_truth(value, implementation):
    inputs = value["inputs"]
    names = checked_names(inputs, value.get("wrt"))
    leaves = [torch.from_numpy(inputs[name].astype(np.float64)).requires_grad_() for name in names]
    truth = torch.autograd.grad(torch_call(implementation, inputs, names)(*leaves), leaves)
    result = value["loss"](**copy.deepcopy(inputs))
    grads = result[1] if len(result) == 2 else result[1:]
    grads = grads if isinstance(grads, (tuple, list)) else (grads,)
    return wrong_elements(names, inputs, grads, truth)


def model_truth(value, implementation):
    model, inputs = value["model"], value["inputs"]
    names = [key for key, param in model.params.items() if is_float_array(param)]
    leaves = {name: torch.from_numpy(model.params[name].astype(np.float64)).requires_grad_() for name in names}
    truth = torch.autograd.grad(implementation(leaves, model, **inputs), list(leaves.values()))
    _loss, grads = model.loss(**copy.deepcopy(inputs))
    return wrong_elements(names, model.params, [grads[name] for name in names], truth)


def load(file):
    sys.path[:0] = [os.path.dirname(os.path.abspath(file)), os.path.join(HERE, "..", "..", "python")]
    spec = importlib.util.spec_from_file_location("problems", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    report = {}
    for name, value in vars(load(sys.argv[1])).items():
        if name.startswith("_") or not isinstance(value, dict) or "inputs" not in value:
            continue
        if "forward" in value and "backward" in value:
            implementation, truth = registered(LAYERS, value["forward"].__name__), layer_truth
        elif "loss" in value:
            implementation, truth = registered(LOSSES, value["loss"].__name__), loss_truth
        elif "model" in value and inspect.isclass(type(value["model"])):
            implementation, truth = registered(MODELS, type(value["model"]).__name__), model_truth
        else:
            continue
        if implementation is None:
            continue
        wrong = truth(value, implementation)
        report[name] = {"passed": not wrong, "wrong": wrong}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
