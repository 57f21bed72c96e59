"""torch.autograd.gradcheck and gradgradcheck as the oracle of GradLens's PyTorch checks
(test/unit/torch-problems.test.ts): independent of GradLens's runner, on the same exports.

    python3 torch_gradcheck.py FILE.py [ORDER]

prints {export: {"passed": bool, "wrong": [element names]}} for every Function and module problem of
the file: `passed` is torch's verdict at its defaults (eps 1e-6, atol 1e-5, rtol 1e-3); `wrong` the input
elements (Jacobian columns) with an entry outside atol + rtol |numeric|, from torch's numerical and
analytical Jacobians (torch.autograd.functional.jacobian, which goes through the user's backward). At
ORDER 2 the function checked is the backward itself, x -> J(x)^T v for a fixed random v, as gradgradcheck.
"""
import importlib.util
import json
import sys

import torch
from torch.nn.utils import stateless

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


def load(file):
    spec = importlib.util.spec_from_file_location("problems", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def named_inputs(inputs):
    if isinstance(inputs, dict):
        return list(inputs.items())
    return [("input%d" % k, value) for k, value in enumerate(inputs)]


def element_names(name, tensor):
    if tensor.dim() == 0:
        return [name]
    return ["%s[%s]" % (name, ",".join(str(int(i)) for i in index)) for index in torch.cartesian_prod(*[torch.arange(s) for s in tensor.shape]).reshape(tensor.numel(), -1)]


def as_function(value):
    """The export as (f(*checked) -> tensor(s), checked tensors, their names)."""
    entries = named_inputs(value["inputs"])
    if "fn" in value:
        checked = [(k, key, t) for k, (key, t) in enumerate(entries) if torch.is_tensor(t) and t.requires_grad]
        args = [t for _key, t in entries]

        def fn(*tensors):
            call = list(args)
            for (k, _key, _t), tensor in zip(checked, tensors):
                call[k] = tensor
            return value["fn"](*call)

        return fn, [t for _k, _key, t in checked], [key for _k, key, _t in checked]
    module, loss = value["module"], value.get("loss")
    parameters = [(key, p) for key, p in module.named_parameters() if p.requires_grad]
    inputs = [(k, key, t) for k, (key, t) in enumerate(entries) if torch.is_tensor(t) and t.requires_grad]
    args = [t for _key, t in entries]

    def fn(*tensors):
        given = dict(zip([key for key, _p in parameters], tensors[:len(parameters)]))
        call = list(args)
        for (k, _key, _t), tensor in zip(inputs, tensors[len(parameters):]):
            call[k] = tensor
        return loss(stateless.functional_call(module, given, tuple(call)))

    return fn, [p for _key, p in parameters] + [t for _k, _key, t in inputs], [key for key, _p in parameters] + [key for _k, key, _t in inputs]


def flat_outputs(result, differentiable=True):
    """The outputs that depend on the inputs (torch ignores the others), flat; every floating one with differentiable=False."""
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    return torch.cat([o.reshape(-1) for o in outputs if torch.is_tensor(o) and (o.requires_grad if differentiable else o.is_floating_point())])


def wrong_columns(fn, tensors, names, differentiable=True):
    """Input elements whose Jacobian column has an entry outside torch's tolerance."""
    tensors = [t.detach().clone().requires_grad_() for t in tensors]
    analytic = torch.autograd.functional.jacobian(lambda *xs: flat_outputs(fn(*xs), differentiable), tuple(tensors))
    wrong = []
    for tensor, name, jacobian in zip(tensors, names, analytic):
        jacobian = jacobian.reshape(-1, tensor.numel())
        labels = element_names(name, tensor)
        for i in range(tensor.numel()):
            with torch.no_grad():
                flat = tensor.view(-1)
                original = flat[i].item()
                flat[i] = original + EPS
                plus = flat_outputs_nograd(fn, tensors)
                flat[i] = original - EPS
                minus = flat_outputs_nograd(fn, tensors)
                flat[i] = original
            numeric = (plus - minus) / (2 * EPS)
            if bool(((jacobian[:, i] - numeric).abs() > ATOL + RTOL * numeric.abs()).any()):
                wrong.append(labels[i])
    return wrong


def flat_outputs_nograd(fn, tensors):
    with torch.enable_grad():
        result = fn(*tensors)
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    return torch.cat([o.detach().reshape(-1) for o in outputs if torch.is_tensor(o) and o.is_floating_point()])


def second_order(fn, tensors):
    """The backward as a function of the inputs, x -> J(x)^T v, v fixed (as gradgradcheck, whose v is random)."""
    generator = torch.Generator().manual_seed(0)
    outputs = flat_outputs(fn(*[t.detach().clone().requires_grad_() for t in tensors]))
    v = torch.randn(outputs.shape, generator=generator, dtype=torch.float64)

    def backward(*xs):
        grads = torch.autograd.grad(flat_outputs(fn(*xs)), xs, v, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else torch.zeros_like(x) for g, x in zip(grads, xs))

    return backward


def main():
    module = load(sys.argv[1])
    order = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    report = {}
    for name, value in vars(module).items():
        if not isinstance(value, dict) or "inputs" not in value or not ("fn" in value or "module" in value):
            continue
        fn, tensors, names = as_function(value)
        inputs = tuple(t.detach().clone().requires_grad_() for t in tensors)
        check = torch.autograd.gradcheck if order == 1 else torch.autograd.gradgradcheck
        try:
            passed = bool(check(fn, inputs, eps=EPS, atol=ATOL, rtol=RTOL, raise_exception=False))
        except RuntimeError:
            passed = False
        target = fn if order == 1 else second_order(fn, tensors)
        try:
            # At order 2 a backward that does not depend on x (detached) has a zero Jacobian: still an output.
            wrong = wrong_columns(target, tensors, names, differentiable=order == 1)
        except RuntimeError as error:
            wrong = ["(%s)" % error]
        report[name] = {"passed": passed, "wrong": wrong}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
