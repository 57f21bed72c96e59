"""PyTorch problems for the GradLens runner, imported only when a problem file uses torch.

Three kinds, recognized by their keys (plain dicts, as the NumPy kinds):

  {"fn": MyFn.apply, "inputs": {...} or (...)}       the torch.autograd.gradcheck(fn, inputs) contract: the
      inputs with requires_grad=True are checked through vector-Jacobian products of what autograd computes
      (the user's backward), the others are constants. To the engine a layer (forward/backward), with a
      second-order check of the backward (gradgradcheck: d(u . J^T v)/dx by double backward).
  {"module": net, "inputs": {...}, "loss"?: callable}  every parameter with requires_grad (named by
      named_parameters()) and every input with requires_grad, the loss loss(net(*inputs)) or a fixed random
      projection of the output. To the engine a scalar problem, with hvp by double backward.
  {"params": {name: tensor}, "f": f, "grad"?: grad, "hvp"?: hvp}  a scalar problem over torch tensors: the
      user's grad (autograd of f without one), the user's hvp (double backward of f without one).

Everything is evaluated in float64 on the CPU: tensors of lower precision are upcast (with a warning: at
eps 1e-6 their differences are rounding noise, and torch's own gradcheck fails on them), GPU tensors come
to the CPU (with a note). The runner module (`runner`) provides the protocol's errors and the NumPy
problems' validation of gradient dicts.
"""
import copy
import inspect
import re

import numpy as np
import torch

_LOW_PRECISION = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32"}
_BACKWARD_ERROR = re.compile(r"[Ff]unction (\w+)Backward returned")


def is_tensor(value):
    return isinstance(value, torch.Tensor)


def _numpy(value):
    """A tensor as a float64 NumPy array (a copy, detached); other values as they are."""
    if is_tensor(value):
        return value.detach().to("cpu", torch.float64).numpy()
    return value


def _probe(size, seed=0):
    """A fixed probe with entries +-U[1,2), as the engine's probes: never tiny, so no error hides behind a small weight."""
    random = np.random.RandomState(seed)
    signs = np.where(random.uniform(size=size) < 0.5, -1.0, 1.0)
    return torch.from_numpy(signs * (1.0 + random.uniform(size=size)))


def _custom_functions(tensors):
    """The custom autograd Functions (their classes) in the graph of `tensors`, for naming them in errors."""
    found, seen = [], set()
    stack = [t.grad_fn for t in tensors if is_tensor(t) and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        cls = getattr(node, "_forward_cls", None)
        if cls is not None and cls not in found:
            found.append(cls)
        stack.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return found


def _definition_site(function):
    """(file, line) where a function is defined, or None."""
    try:
        function = inspect.unwrap(function)
        return inspect.getsourcefile(function), inspect.getsourcelines(function)[1]
    except (TypeError, OSError):
        return None


class TorchProblem(object):
    """What the kinds share: the layout of the checked tensors and their views into a flat point."""

    second_order = True
    data_size = None
    description = None
    # In-place writes into checked tensors are autograd's to report (they break its graph).
    reports_writes = False

    def __init__(self, name, runner):
        self.name = name
        self.runner = runner
        self.warnings = []
        self.writes_arguments = False
        self.sent = {}
        self.nondeterminism_hint = None
        self.reshaped = []
        self.reshaped_sent = 0
        self.report_writes = False

    # -- the checked tensors

    def _checked(self, entries):
        """Lays out (name, tensor) pairs as the flat point: validated, upcast, on the CPU."""
        low = {}
        self.layout, flat, offset = [], [], 0
        for name, tensor in entries:
            if tensor.is_complex():
                raise ValueError("%s: %s is a complex tensor: not supported yet (GradLens checks real tensors)" % (self.name, name))
            if tensor.layout != torch.strided:
                raise ValueError("%s: %s has layout %s: sparse and other non-strided tensors are not supported yet" % (self.name, name, tensor.layout))
            if not tensor.is_floating_point():
                raise ValueError("%s: %s is %s, expected a floating-point tensor" % (self.name, name, tensor.dtype))
            if tensor.device.type != "cpu":
                self.warnings.append("%s is on %s: checked on the CPU" % (name, tensor.device))
            if tensor.dtype in _LOW_PRECISION:
                low.setdefault(tensor.dtype, []).append(name)
            array = _numpy(tensor)
            self.layout.append({"name": name, "shape": list(array.shape), "size": int(array.size), "offset": offset, "scalar": False})
            flat.append(array.ravel())
            offset += int(array.size)
        for dtype, names in low.items():
            self.warnings.append(self.runner.low_precision_warning(names, _LOW_PRECISION[dtype], "torch.autograd.gradcheck"))
        self.size = offset
        self.values = np.concatenate(flat) if flat else np.zeros(0)
        self.slices = [(spec["name"], spec["offset"], spec["offset"] + spec["size"], tuple(spec["shape"])) for spec in self.layout]
        self.tensors_label = "params"

    def element_label(self, label, flat):
        return self.runner.Problem.element_label(self, label, flat)

    def note_reshaped(self, label, name, found, expected, key):
        return self.runner.Problem.note_reshaped(self, label, name, found, expected, None)

    def tree(self, x, fresh=True):
        """The checked tensors at x: fresh float64 tensors, or (fresh=False) views into x that follow it as it is perturbed."""
        tree = {}
        for name, start, end, shape in self.slices:
            part = x[start:end]
            tree[name] = torch.tensor(part.reshape(shape)) if fresh else torch.from_numpy(part).view(shape)
        return tree

    def leaves(self, x):
        """The checked tensors at x as leaves that require grad, in layout order."""
        return {name: torch.tensor(x[start:end].reshape(shape)).requires_grad_() for name, start, end, shape in self.slices}

    def _flat(self, grads, leaves):
        """Gradients by leaf (None: unused, zero, as torch takes it) as one flat float64 vector."""
        out = np.zeros(self.size)
        for (name, start, end, _shape), grad in zip(self.slices, grads):
            if grad is not None:
                out[start:end] = _numpy(grad).ravel()
        return out

    # -- user code

    def _run(self, function, thunk, element=None, graph=()):
        """Runs user code; its exceptions become the runner's user errors. A torch error about a custom
        Function's backward (its gradients' number or shapes) points at that backward's definition."""
        try:
            return thunk()
        except MemoryError:
            raise
        except self.runner.RpcError:
            raise
        except (Exception, SystemExit) as error:
            site = None
            match = _BACKWARD_ERROR.search(str(error))
            if match:
                for cls in _custom_functions(graph):
                    if cls.__name__ == match.group(1):
                        site = _definition_site(cls.backward)
            raise self.runner.user_error(function, error, element, site)

    def _require_finite(self, array, label, element):
        finite = np.isfinite(array)
        if not finite.all():
            flat = int(np.argmin(finite))
            text = "NaN" if np.isnan(array[flat]) else "Infinity" if array[flat] > 0 else "-Infinity"
            raise self.runner.tensor_error("%s[%d] is %s, expected a finite number" % (label, flat, text), element, non_finite=True)

    def _grads(self, outputs, leaves, grad_outputs, function, element, create_graph=False):
        """autograd.grad of `outputs` (weighted by grad_outputs) with respect to the leaves."""
        inputs = list(leaves.values())
        return self._run(function, lambda: torch.autograd.grad(outputs, inputs, grad_outputs, allow_unused=True, create_graph=create_graph), element, outputs)

    def _twice(self, first, leaves, u, element):
        """d(u . first)/d leaves for a first derivative computed with create_graph: double backward."""
        weighted = [(g * part).sum() for g, part in zip(first, self._split(u)) if g is not None and g.requires_grad]
        if not weighted:
            return np.zeros(self.size)
        total = weighted[0]
        for term in weighted[1:]:
            total = total + term
        return self._flat(self._grads([total], leaves, None, "backward", element), leaves)

    def _split(self, flat):
        """A flat vector cut into tensors of the layout."""
        return [torch.from_numpy(np.ascontiguousarray(flat[start:end])).view(shape) for _name, start, end, shape in self.slices]

    def _once_differentiable(self, graph):
        """A custom Function in the graph whose backward is marked @once_differentiable: named in the error."""
        for cls in _custom_functions(graph):
            if hasattr(getattr(cls, "backward", None), "__wrapped__"):
                return cls.__name__
        return None

    def _not_twice_differentiable(self, name):
        return self.runner.tensor_error(
            "backward of %s is not twice differentiable (once_differentiable?): its backward cannot be differentiated, "
            "so there is no second-order check of it" % name)


def _inputs(problem_name, inputs):
    """The inputs of a Function or module: (name, value) in call order; a dict names them, a tuple/list makes input0..."""
    if isinstance(inputs, dict):
        for key in inputs:
            if not isinstance(key, str):
                raise ValueError("%s: inputs has the key %r, expected names (str)" % (problem_name, key))
        return list(inputs.items()), True
    if isinstance(inputs, (tuple, list)):
        return [("input%d" % k, value) for k, value in enumerate(inputs)], False
    if is_tensor(inputs):
        return [("input0", inputs)], False
    raise ValueError("%s: inputs is %s, expected a dict of named inputs or a tuple of them" % (problem_name, type(inputs).__name__))


def _constant(value):
    """An input that is not checked, as the user's code gets it: floating tensors in float64 on the CPU, beside the checked ones."""
    if is_tensor(value) and value.is_floating_point():
        return value.detach().to("cpu", torch.float64)
    if is_tensor(value):
        return value.detach().to("cpu")
    return value


class FunctionProblem(TorchProblem):
    """fn(*inputs), checked through vector-Jacobian products of autograd (the user's backward)."""

    kind = "layer"

    def __init__(self, name, value, runner):
        TorchProblem.__init__(self, name, runner)
        self.fn = value.get("fn")
        if not callable(self.fn):
            raise ValueError("%s: fn is %s, expected a callable such as MyFunction.apply" % (name, type(self.fn).__name__))
        entries, _named = _inputs(name, value.get("inputs"))
        checked = [(k, key, tensor) for k, (key, tensor) in enumerate(entries) if is_tensor(tensor) and tensor.requires_grad]
        if not checked:
            raise ValueError("%s: no input requires grad: set requires_grad=True on the tensors to check (as torch.autograd.gradcheck needs)" % name)
        self._checked([(key, tensor) for _k, key, tensor in checked])
        self.template = [_constant(value) for _key, value in entries]
        self.positions = [k for k, _key, _tensor in checked]
        # Which outputs depend on the checked inputs (learned at the first call with autograd); the others are constants, as in torch.
        self.used = None
        self.nondeterminism_hint = "randomness in fn (torch.rand, dropout) differs between calls: seed it with torch.manual_seed inside fn, or take it out of the check"

    def _arguments(self, tree):
        args = list(self.template)
        for position, name in zip(self.positions, tree):
            args[position] = tree[name]
        return args

    def _outputs(self, result, element):
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        for k, output in enumerate(outputs):
            if not is_tensor(output):
                what = "fn(inputs)" if len(outputs) == 1 and not isinstance(result, (tuple, list)) else "fn(inputs)[%d]" % k
                raise self.runner.tensor_error("%s returned %s, expected a tensor or a tuple of tensors" % (what, type(output).__name__), element)
        return outputs

    def _learn_outputs(self, x, element):
        leaves = self.leaves(x)
        outputs = self._outputs(self._run("forward", lambda: self.fn(*self._arguments(leaves)), element), element)
        self.used = [k for k, output in enumerate(outputs) if output.requires_grad]
        if not self.used:
            raise self.runner.tensor_error("fn(inputs) returned no output that depends on the inputs that require grad", element)

    def forward(self, x, element=None, fresh=True, tree=None):
        if self.used is None:
            self._learn_outputs(x, element)
        tree = self.tree(x, fresh) if tree is None else tree
        with torch.no_grad():
            outputs = self._outputs(self._run("forward", lambda: self.fn(*self._arguments(tree)), element), element)
        if len(outputs) <= max(self.used):
            raise self.runner.tensor_error("fn(inputs) returned %d outputs, but %d at the unperturbed inputs" % (len(outputs), max(self.used) + 1), element)
        if len(self.used) == 1:
            return _numpy(outputs[self.used[0]])  # in its own shape: its elements are named out[i,j]
        return np.concatenate([_numpy(outputs[k]).ravel() for k in self.used])

    def forward_dot(self, x, v, shape, element=None, fresh=True, tree=None):
        out = self.forward(x, element, fresh, tree)
        if out.size != int(np.prod(shape)):
            raise self.runner.tensor_error("fn(inputs) returned %d output elements, but %d at the unperturbed inputs" % (out.size, int(np.prod(shape))), element)
        return float(np.dot(v, out.ravel()))

    def _vjp(self, x, v, element, create_graph=False):
        """J(x)^T v by autograd through the user's code, with the leaves and the graph's outputs."""
        if self.used is None:
            self._learn_outputs(x, element)
        leaves = self.leaves(x)
        outputs = self._outputs(self._run("forward", lambda: self.fn(*self._arguments(leaves)), element), element)
        used = [outputs[k] for k in self.used]
        grad_outputs, start = [], 0
        for output in used:
            grad_outputs.append(torch.from_numpy(np.ascontiguousarray(v[start:start + output.numel()])).view(output.shape).to(output.dtype))
            start += output.numel()
        if create_graph:
            grad_outputs = [g.detach().requires_grad_() for g in grad_outputs]
        return self._grads(used, leaves, grad_outputs, "backward", element, create_graph), leaves, used

    def backward(self, x, v, shape):
        grads, leaves, _used = self._vjp(x, v, None)
        out = self._flat(grads, leaves)
        self._require_finite(out, "backward(inputs, v)", None)
        return out

    def backward_dot(self, x, v, u, shape, element=None, fresh=True, tree=None):
        """u . J(x)^T v: the value the second-order check differences."""
        grads, leaves, _used = self._vjp(x, v, element)
        return float(np.dot(u, self._flat(grads, leaves)))

    def backward_hvp(self, x, v, u, shape):
        """d(u . J(x)^T v)/dx by double backward: gradgradcheck's analytic side."""
        grads, leaves, used = self._vjp(x, v, None, create_graph=True)
        once = self._once_differentiable(used)
        if once is not None:
            raise self._not_twice_differentiable(once)
        return self._twice(grads, leaves, u, None)


class _ScalarTorch(TorchProblem):
    """Scalar torch problems (modules and params/f): f, grad and hvp on the checked tensors."""

    kind = "scalar"

    def loss(self, tree, batch):
        raise NotImplementedError

    def f(self, x, batch, element=None, fresh=True, tree=None):
        tree = self.tree(x, fresh) if tree is None else tree
        with torch.no_grad():
            return self.runner.scalar_value(_numpy(self.loss(tree, batch, element)), self.loss_label(batch), element)

    def _autograd(self, x, batch, element, create_graph=False):
        leaves = self.leaves(x)
        value = self.loss(leaves, batch, element)
        if not is_tensor(value) or not value.requires_grad:
            raise self.runner.tensor_error("%s does not depend on the tensors to check through autograd (detached, or computed outside torch?)" % self.loss_label(batch), element)
        return self._grads([value], leaves, None, "grad", element, create_graph), leaves, value

    def grad(self, x, batch, element=None):
        grads, leaves, _value = self._autograd(x, batch, element)
        out = self._flat(grads, leaves)
        self._require_finite(out, "grad(p)", element)
        return out

    def grad_dot(self, x, v, element=None, fresh=True, tree=None):
        return float(np.dot(v, self.grad(x, None, element)))

    def value_and_grad(self, x, batch):
        return self.runner.Problem.value_and_grad(self, x, batch)

    def hvp(self, x, v):
        grads, leaves, value = self._autograd(x, None, None, create_graph=True)
        once = self._once_differentiable([value])
        if once is not None:
            raise self._not_twice_differentiable(once)
        return self._twice(grads, leaves, v, None)

    def loss_label(self, batch):
        return "f(p, batch)" if batch is not None else "f(p)"


class ModuleProblem(_ScalarTorch):
    """A module's parameters (and inputs) that require grad, under loss(module(*inputs))."""

    def __init__(self, name, value, runner):
        _ScalarTorch.__init__(self, name, runner)
        module = value.get("module")
        if not isinstance(module, torch.nn.Module):
            raise ValueError("%s: module is %s, expected a torch.nn.Module" % (name, type(module).__name__))
        entries, _named = _inputs(name, value.get("inputs"))
        self.loss_fn = value.get("loss")
        if self.loss_fn is not None and not callable(self.loss_fn):
            raise ValueError("%s: loss is %s, expected a callable loss(output) -> scalar tensor" % (name, type(self.loss_fn).__name__))
        parameters = [(key, p) for key, p in module.named_parameters() if p.requires_grad]
        inputs = [(k, key, t) for k, (key, t) in enumerate(entries) if is_tensor(t) and t.requires_grad]
        if not parameters and not inputs:
            raise ValueError("%s: neither a parameter nor an input requires grad: nothing to check" % name)
        self._checked(parameters + [(key, t) for _k, key, t in inputs])
        self.parameter_names = [key for key, _p in parameters]
        self.input_positions = [(k, key) for k, key, _t in inputs]
        try:
            # The user's module stays as it is: the check runs a float64 copy, in the mode the user left it (train() or eval()).
            self.module = copy.deepcopy(module).to("cpu", torch.float64)
        except Exception as error:
            raise ValueError("%s: the module cannot be copied for the check (%s: %s)" % (name, type(error).__name__, error))
        self.template = [_constant(value) for _key, value in entries]
        self.projection = None
        self.nondeterminism_hint = (
            "the module is in train() mode: dropout and other randomness differ between calls; call .eval() on it for the check, or seed it (torch.manual_seed)"
            if module.training else "randomness in the module's forward differs between calls: seed it (torch.manual_seed) for the check")

    def loss_label(self, batch):
        return "loss(module(inputs))" if self.loss_fn is not None else "v.module(inputs)"

    def loss(self, tree, batch, element=None):
        args = list(self.template)
        for position, key in self.input_positions:
            args[position] = tree[key]
        parameters = {key: tree[key] for key in self.parameter_names}
        output = self._run("forward", lambda: torch.nn.utils.stateless.functional_call(self.module, parameters, tuple(args)), element)
        if self.loss_fn is not None:
            value = self._run("f", lambda: self.loss_fn(output), element)
            if is_tensor(value) and value.numel() != 1:
                raise self.runner.tensor_error("loss(module(inputs)) returned a tensor of shape [%s], expected a scalar" % ",".join(str(s) for s in value.shape), element)
            return value
        outputs = [t for t in (output if isinstance(output, (tuple, list)) else [output]) if is_tensor(t) and t.is_floating_point()]
        if not outputs:
            raise self.runner.tensor_error("module(inputs) returned %s, expected a tensor (or give a loss)" % type(output).__name__, element)
        flat = torch.cat([t.reshape(-1).to(torch.float64) for t in outputs])
        if self.projection is None:
            self.projection = _probe(flat.numel())
        elif self.projection.numel() != flat.numel():
            raise self.runner.tensor_error("module(inputs) returned %d elements, but %d at the unperturbed point" % (flat.numel(), self.projection.numel()), element)
        return torch.dot(self.projection, flat)


class ScalarProblem(_ScalarTorch):
    """params (torch tensors), f, and the user's grad and hvp where given (autograd of f where not)."""

    def __init__(self, name, value, get, runner):
        _ScalarTorch.__init__(self, name, runner)
        params = get("params")
        if not isinstance(params, dict):
            raise ValueError("%s: params is %s, expected a dict of tensors" % (name, type(params).__name__))
        entries = []
        for key, tensor in params.items():
            if not is_tensor(tensor):
                tensor = torch.as_tensor(np.asarray(tensor, dtype=np.float64))
            entries.append((key, tensor))
        self._checked(entries)
        self.user_f, self.user_grad, self.user_hvp = get("f"), get("grad"), get("hvp")
        if not callable(self.user_f):
            raise ValueError("%s: f is not callable" % name)
        self.second_order = True
        self.nondeterminism_hint = "randomness in f differs between calls: seed it (torch.manual_seed) inside f for the check"

    def loss(self, tree, batch, element=None):
        args = (tree,) if batch is None else (tree, list(batch))
        return self._run("f", lambda: self.user_f(*args), element)

    def _own(self, name, function, args, label, element):
        """The user's own grad or hvp, its tensors read as the NumPy kinds read theirs."""
        result = self._run(name, lambda: function(*args), element)
        if isinstance(result, dict):
            result = {key: _numpy(value) for key, value in result.items()}
        return self.runner.Problem.read_like(self, result, label, element)

    def grad(self, x, batch, element=None):
        if self.user_grad is None:
            return _ScalarTorch.grad(self, x, batch, element)
        args = [self.tree(x)] + ([list(batch)] if batch is not None else [])
        return self._own("grad", self.user_grad, args, "grad(p, batch)" if batch is not None else "grad(p)", element)

    def grad_dot(self, x, v, element=None, fresh=True, tree=None):
        if self.user_grad is None:
            return _ScalarTorch.grad_dot(self, x, v, element, fresh, tree)
        return float(np.dot(v, self._own("grad", self.user_grad, [self.tree(x)], "grad(p)", element)))

    def hvp(self, x, v):
        if self.user_hvp is None:
            return _ScalarTorch.hvp(self, x, v)
        return self._own("hvp", self.user_hvp, [self.tree(x), self.tree(v)], "hvp(p, v)", None)


def make(name, kind, value, get, runner):
    """The torch problem of an export the runner classified as `kind` ('function', 'module' or 'scalar')."""
    if kind == "function":
        return FunctionProblem(name, value, runner)
    if kind == "module":
        return ModuleProblem(name, value, runner)
    return ScalarProblem(name, value, get, runner)


def uses_torch(params):
    """A params dict with torch tensors: a torch scalar problem."""
    return isinstance(params, dict) and any(is_tensor(value) for value in params.values())
