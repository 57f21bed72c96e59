"""GradLens Python runner: evaluates the functions of a Python problem file for the TypeScript engine.

JSON-RPC 2.0 over stdio with LSP-style Content-Length framing. Float64 arrays travel as base64 of
little-endian bytes, index lists as base64 of little-endian int32. The engine (criteria, verdicts,
localization) stays in TypeScript; this process only evaluates, in bulk: one request such as
"f at x +- eps*e_i for these i" runs every evaluation in-process and answers once.

Methods:
  load {file, memoryMb?}          import the file (its folder importable), list its problems
  evaluate {problem, plan}         run one evaluation plan (see evaluate() below)
No dependencies but NumPy. Whatever user code prints goes to stderr, never into the protocol stream.
"""
import ast
import base64
import copy
import inspect
import json
import math
import numbers
import os
import sys
import textwrap
import traceback

NUMPY_MISSING_EXIT = 3

# The protocol owns the real stdout; user prints (fd 1 and sys.stdout) go to stderr.
_protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr
_protocol_in = sys.stdin.buffer

try:
    import numpy as np
except ImportError as error:  # pragma: no cover - exercised with an interpreter without NumPy
    sys.stderr.write("gradlens-runner: numpy missing: %s\n" % error)
    sys.stderr.flush()
    os._exit(NUMPY_MISSING_EXIT)

try:
    import faulthandler
    import signal

    # On a time limit the host sends SIGUSR1 first: the stacks show where user code hangs.
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=False)
except Exception:  # pragma: no cover - platforms without SIGUSR1
    pass

def _exit_with_parent():
    """The parent may be SIGKILLed (a time limit, a cancelled run) while user code loops: leave with it."""
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="gradlens-parent-watch", daemon=True).start()


_exit_with_parent()

RUNNER_FILE = os.path.abspath(__file__)
SCALAR_KEYS = ("params", "f", "grad", "hvp")
LAYER_KEYS = ("inputs", "forward", "backward")

USER_ERROR = -32001  # user code raised: data has function, exception, location, traceback
TENSOR_ERROR = -32002  # user code returned something malformed: data has message
LOAD_ERROR = -32003  # the file could not be imported: data has message, location
ARGUMENT_WRITTEN = -32005  # user code changed the point it was handed: data has function, index, before, after (or removed)


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        Exception.__init__(self, message)
        self.code = code
        self.data = data


# ---------------------------------------------------------------- transport

def read_message():
    length = None
    while True:
        line = _protocol_in.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        return None
    body = b""
    while len(body) < length:
        chunk = _protocol_in.read(length - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body.decode("utf-8"))


def write_message(message):
    body = json.dumps(message, allow_nan=False).encode("utf-8")
    _protocol_out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def encode(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f8").tobytes()).decode("ascii")


def decode(text):
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(np.float64)


def decode_indices(text):
    return np.frombuffer(base64.b64decode(text), dtype="<i4").astype(np.int64)


# ---------------------------------------------------------------- locations

_user_root = None


def _is_user_file(filename):
    if not filename or filename.startswith("<"):
        return False
    absolute = os.path.abspath(filename)
    if absolute == RUNNER_FILE or _user_root is None:
        return False
    if os.sep + "site-packages" + os.sep in absolute or os.sep + "dist-packages" + os.sep in absolute:
        return False
    return absolute == _user_root or absolute.startswith(os.path.dirname(_user_root) + os.sep)


def user_location(tb):
    """file:line of the innermost frame in the user's files (the problem file or modules beside it)."""
    found = None
    for frame in traceback.extract_tb(tb):
        if _is_user_file(frame.filename):
            found = (os.path.abspath(frame.filename), frame.lineno, frame.name)
    return found


def user_traceback(error):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if os.path.abspath(frame.filename) != RUNNER_FILE]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "Traceback (most recent call last):\n" + "".join(lines)


def user_error(function, error, element=None, site=None):
    """`site` (file, line): where to point when the traceback has no frame in the user's files (a torch
    error about a custom Function's backward points at that backward)."""
    location = user_location(error.__traceback__) or site
    data = {
        "function": function,
        "type": type(error).__name__,
        "message": str(error),
        "file": location[0] if location else None,
        "line": location[1] if location else None,
        "traceback": user_traceback(error),
    }
    if element is not None:  # (flat index, delta): built only when needed, not per evaluation
        data["element"] = {"index": element[0], "delta": element[1]}
    return RpcError(USER_ERROR, "%s raised %s: %s" % (function, type(error).__name__, error), data)


def tensor_error(message, element=None, non_finite=False):
    data = {"message": message}
    if non_finite:  # a NaN or infinity where a finite number belongs: an optimizer run has diverged
        data["nonFinite"] = True
    if element is not None:  # (flat index, delta): built only when needed, not per evaluation
        data["element"] = {"index": element[0], "delta": element[1]}
    return RpcError(TENSOR_ERROR, message, data)


# ---------------------------------------------------------------- problems

def _shape_text(shape):
    return "[" + ",".join(str(extent) for extent in shape) + "]"


class Problem(object):
    """A problem in GradLens's own convention: params/f/grad[/hvp] or inputs/forward(inputs)/backward(inputs, dy)."""

    # A check reports a function that writes into its argument (as the TypeScript engine does): in the user's own
    # training loop, sorting or normalizing the parameters in place would corrupt them. Course code is taken as it is.
    reports_writes = True

    def __init__(self, name, kind, value):
        self._begin(name, kind, value, "params" if kind == "scalar" else "inputs")
        tensors = self.get(self.tensors_label)
        if not isinstance(tensors, dict):
            raise ValueError("%s: %s is %s, expected a dict of NumPy arrays or floats" % (name, self.tensors_label, type(tensors).__name__))
        entries = []
        for key, tensor in tensors.items():
            if not isinstance(key, str):
                raise ValueError("%s: %s has the key %r, expected names (str)" % (name, self.tensors_label, key))
            scalar = isinstance(tensor, (int, float)) and not isinstance(tensor, bool)
            try:
                array = np.asarray(tensor, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError("%s: %s[%r] is %s, expected a NumPy array or a float" % (name, self.tensors_label, key, type(tensor).__name__))
            entries.append((key, array, scalar))
        self._lay_out(entries)
        if kind == "scalar" and not callable(self.get("grad")):
            raise ValueError("%s: missing grad" % name)
        self.second_order = kind == "scalar" and self.get("hvp") is not None

    def _begin(self, name, kind, value, tensors_label):
        """What every problem of the runner has before its tensors are laid out."""
        self.name = name
        self.kind = kind
        self.value = value
        self.is_dict = isinstance(value, dict)
        self.tensors_label = tensors_label
        # Set once a function was caught writing into its arguments: from then on perturbed() hands out copies too.
        self.writes_arguments = False
        # Whether this plan reports such writes (a check's plans, for problems that report_writes).
        self.report_writes = False
        # The arrays last sent for this problem under each plan key (see plan_array).
        self.sent = {}
        self.functions = {}
        # How errors name the user's functions (course code: by their own names, affine_forward).
        self.function_names = {}
        self.second_order = False
        self.warnings = []
        self.nondeterminism_hint = None
        # Gradients returned in another shape of the right size (note_reshaped), and how many were sent.
        self.reshaped = []
        self.reshaped_sent = 0

    def _lay_out(self, entries):
        """The flat point of (name, float64 array, is a float) entries, in their order."""
        self.layout = []
        flat = []
        offset = 0
        for key, array, scalar in entries:
            if not np.all(np.isfinite(array)):
                raise ValueError("%s: %s[%r] has non-finite values" % (self.name, self.tensors_label, key))
            self.layout.append({"name": key, "shape": list(array.shape), "size": int(array.size), "offset": offset, "scalar": scalar})
            flat.append(array.ravel())
            offset += int(array.size)
        self.size = offset
        self.values = np.concatenate(flat) if flat else np.zeros(0)
        # What tree() cuts out of a flat point, without dict lookups: (name, start, end, shape or None for a float).
        self.slices = [(spec["name"], spec["offset"], spec["offset"] + spec["size"], None if spec["scalar"] else tuple(spec["shape"])) for spec in self.layout]

    def get(self, key):
        return self.value.get(key) if self.is_dict else getattr(self.value, key, None)

    def function(self, key):
        """The user's function, read once (as the TypeScript engine reads a problem's functions once)."""
        fn = self.functions.get(key)
        if fn is None:
            fn = self.get(key)
            if not callable(fn):
                raise tensor_error("%s: %s is not callable" % (self.name, key))
            self.functions[key] = fn
        return fn

    def tree(self, x, fresh=True):
        """The point as the user's functions get it: fresh arrays, so that user code may change them without
        changing the point, or with fresh=False views into x, for perturbed(), which checks that x stayed unchanged."""
        tree = {}
        for name, start, end, shape in self.slices:
            if shape is None:
                tree[name] = float(x[start])
            else:
                part = x[start:end] if len(shape) == 1 else x[start:end].reshape(shape)
                tree[name] = part.copy() if fresh else part
        return tree

    def require_unchanged(self, key, tree, x):
        """Raises ARGUMENT_WRITTEN when the arrays (or dict) handed to key's function no longer hold the point x."""
        if not self.report_writes:
            return
        for name, start, end, shape in self.slices:
            if name not in tree:
                raise RpcError(ARGUMENT_WRITTEN, "%s removed %s from its argument" % (key, name), {"function": key, "removed": name})
            now = np.asarray(tree[name], dtype=np.float64).ravel() if shape is not None else np.asarray([tree[name]], dtype=np.float64)
            if now.size != end - start:
                raise RpcError(ARGUMENT_WRITTEN, "%s replaced %s in its argument" % (key, name), {"function": key, "removed": name})
            differs = np.flatnonzero(now != x[start:end])
            if differs.size:
                k = int(differs[0])
                raise RpcError(ARGUMENT_WRITTEN, "%s changed its argument" % key, {"function": key, "index": start + k, "before": float(x[start + k]), "after": float(now[k])})

    def read_like(self, result, label, element=None, key=None):
        """Flattens a gradient-like dict matched to the layout by name. A tensor of another shape but the same size
        is read row-major and noted (note_reshaped), for the check to say what its values are worth; key names the
        function that returned it, for the place of the note."""
        if not isinstance(result, dict):
            raise tensor_error("%s is %s, expected a dict with the keys of %s" % (label, type(result).__name__, self.tensors_label), element)
        out = np.empty(self.size)
        names = set()
        for spec in self.layout:
            name = spec["name"]
            names.add(name)
            if name not in result:
                raise tensor_error("%s has no %s, expected one of shape %s like %s.%s" % (label, name, _shape_text(spec["shape"]), self.tensors_label, name), element)
            value = result[name]
            try:
                if isinstance(value, (str, bytes)):  # np.asarray would read "1.5" as a number
                    raise TypeError()
                array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise tensor_error("%s.%s is %s, expected numbers" % (label, name, type(value).__name__), element)
            if list(array.shape) != spec["shape"]:
                if array.size != spec["size"]:
                    raise tensor_error("%s.%s has shape %s, expected %s like %s.%s" % (label, name, _shape_text(array.shape), _shape_text(spec["shape"]), self.tensors_label, name), element)
                self.note_reshaped("%s.%s" % (label, name), name, array.shape, spec["shape"], key)
            out[spec["offset"]:spec["offset"] + spec["size"]] = array.ravel()
        for key in result:
            if key not in names:
                raise tensor_error("%s has %s, which %s does not have" % (label, key, self.tensors_label), element)
        finite = np.isfinite(out)
        if not finite.all():
            flat = int(np.argmin(finite))
            text = "NaN" if np.isnan(out[flat]) else "Infinity" if out[flat] > 0 else "-Infinity"  # as the TS engine prints them
            raise tensor_error("%s is %s, expected a finite number" % (self.element_label(label, flat), text), element, non_finite=True)
        return out

    def note_reshaped(self, label, name, found, expected, key):
        """A gradient tensor of the right size in another shape, noted once per label; evaluate() sends new notes with
        its reply (the engine judges them when the check ends: see ShapeMismatch in src/core/objective.ts)."""
        if any(note["label"] == label for note in self.reshaped):
            return
        function = self.functions.get(key) if key is not None else None
        site = _site(function, True) if function is not None else None
        self.reshaped.append({"label": label, "like": "%s.%s" % (self.tensors_label, name), "tensor": name, "found": list(found), "expected": list(expected),
                              "file": site[0] if site else None, "line": site[1] if site else None})

    def element_label(self, label, flat):
        """`grad(p).W[2,3]` for the flat position of element (2,3) of W, `grad(p).b` for a float parameter (the TS engine's names)."""
        for spec in self.layout:
            if flat < spec["offset"] + spec["size"]:
                index = np.unravel_index(flat - spec["offset"], spec["shape"]) if spec["shape"] else ()
                return "%s.%s%s" % (label, spec["name"], "[%s]" % ",".join(str(int(i)) for i in index) if index else "")
        raise IndexError(flat)

    # -- evaluations; `element` (flat index, delta) names the perturbed element for error messages

    def call(self, key, args, element=None, keywords=None):
        fn = self.function(key)
        try:
            return fn(*args) if keywords is None else fn(*args, **keywords)
        except MemoryError:
            raise
        except (Exception, SystemExit) as error:  # sys.exit() in user code is its error, not the runner's end
            raise user_error(self.function_names.get(key, key), error, element)

    # `tree`, in f, grad_dot, forward and forward_dot: the point as views made already (perturbed() makes
    # them once per plan), else a dict made from x.

    def f(self, x, batch, element=None, fresh=True, tree=None):
        own = tree is None and fresh
        if tree is None:
            tree = self.tree(x, fresh)
        if batch is None:
            value = scalar_value(self.call("f", (tree,), element), "f(p)", element)
        else:
            value = scalar_value(self.call("f", (tree, list(batch)), element), "f(p, batch)", element)
        if own:
            self.require_unchanged("f", tree, x)
        return value

    def grad(self, x, batch, element=None):
        tree = self.tree(x)
        args = [tree] + ([list(batch)] if batch is not None else [])
        gradient = self.read_like(self.call("grad", args, element), "grad(p, batch)" if batch is not None else "grad(p)", None, "grad")
        self.require_unchanged("grad", tree, x)
        return gradient

    def value_and_grad(self, x, batch):
        """f then grad at one point: an optimizer step (course code computes both in one call)."""
        return self.f(x, batch), self.grad(x, batch)

    def grad_dot(self, x, v, element=None, fresh=True, tree=None):
        return sequential_dot(v, self.read_like(self.call("grad", (self.tree(x, fresh) if tree is None else tree,), element), "grad(p)", element, "grad"))

    def hvp(self, x, v):
        tree = self.tree(x)
        product = self.read_like(self.call("hvp", [tree, self.tree(v)]), "hvp(p, v)", None, "hvp")
        self.require_unchanged("hvp", tree, x)
        return product

    def forward(self, x, element=None, fresh=True, tree=None):
        own = tree is None and fresh
        if tree is None:
            tree = self.tree(x, fresh)
        result = self.call("forward", (tree,), element)
        try:
            out = np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError):
            raise tensor_error("forward(inputs) returned %s, expected a number or an array" % type(result).__name__, element)
        if own:
            self.require_unchanged("forward", tree, x)
        return out

    def forward_dot(self, x, v, shape, element=None, fresh=True, tree=None):
        out = self.forward(x, element, fresh, tree)
        if list(out.shape) != list(shape):
            raise tensor_error("forward(inputs) returned shape %s, but %s at the unperturbed inputs" % (_shape_text(out.shape), _shape_text(shape)), element)
        return sequential_dot(v, out.ravel())

    def backward(self, x, v, shape):
        grad_output = float(v[0]) if len(shape) == 0 else v.reshape(shape).copy()
        tree = self.tree(x)
        gradient = self.read_like(self.call("backward", [tree, grad_output]), "backward(inputs, gradOutput)", None, "backward")
        self.require_unchanged("backward", tree, x)
        return gradient


def scalar_value(result, label, element=None):
    if isinstance(result, float):  # what f returns most often (NumPy's float64 included): nothing to convert
        return float(result)
    if isinstance(result, bool) or result is None:
        raise tensor_error("%s returned %r, expected a finite number" % (label, result), element)
    try:
        if isinstance(result, (str, bytes)):  # np.asarray would read "1.5" as a number
            raise TypeError()
        array = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise tensor_error("%s returned %s, expected a finite number" % (label, type(result).__name__), element)
    if array.shape != ():
        raise tensor_error("%s returned an array of shape %s, expected a finite number" % (label, _shape_text(array.shape)), element)
    return float(array)


def sequential_dot(a, b):
    """Left-to-right sum of products, as the TypeScript engine's dot (bit for bit)."""
    total = 0.0
    for x, y in zip(np.asarray(a).tolist(), np.asarray(b).tolist()):
        total += x * y
    return total


# ---------------------------------------------------------------- course code as it is

# Course code (CS231n, EECS498) checked without wrappers. Three conventions:
#   layer pairs   {"forward": affine_forward, "backward": affine_backward, "inputs": {...}}: forward(**inputs)
#                 returns (out, cache) or (out1, ..., outK, cache), backward(dout1, ..., doutK, cache) the
#                 gradients of the checked inputs in their order (dx, dw, db). To the engine a layer.
#   losses        {"loss": svm_loss_naive, "inputs": {...}, "wrt": ["W"]}: loss(**inputs) returns (loss, dW),
#                 or (loss, (dW, db)) for several names in wrt. To the engine a scalar problem.
#   models        {"model": net, "inputs": {"X": X, "y": y}}: net.loss(**inputs) returns (loss, grads), grads
#                 keyed like net.params. To the engine a scalar problem over net.params.
# Float arrays are checked (wrt chooses among them), everything else is a constant, as torch treats
# non-differentiable inputs: ints, floats, dicts (conv_param, bn_param), integer and boolean arrays.

# The resolution near 1 of the floating-point types that are checked in float64, for the warning that says why.
_RESOLUTION_NEAR_ONE = {"float16": 9.8e-4, "bfloat16": 7.8e-3, "float32": 1.2e-7}
_IMMUTABLE = (numbers.Number, str, bytes, type(None))


def low_precision_warning(names, dtype, checker):
    """Why arrays of `dtype` are checked in float64: in their own precision, differences at eps 1e-6 are rounding noise."""
    one = len(names) == 1
    return ("%s %s %s: checked in float64. At eps 1e-6 the differences of %s values are rounding noise (its resolution near 1 is %g), "
            "so %s would fail on %s even for a right gradient"
            % (", ".join(names), "is" if one else "are", dtype, dtype, _RESOLUTION_NEAR_ONE[dtype], checker, "it" if one else "them"))


def _count(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def _described(value):
    """What a value is, for messages: `an array of shape [4,5] (float64)`, `a dict`, `None`."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return "an array of shape %s (%s)" % (_shape_text(value.shape), value.dtype)
    if isinstance(value, (tuple, list)):
        return "a %s of %d" % (type(value).__name__, len(value))
    name = type(value).__name__
    return "%s %s" % ("an" if name[0] in "aeiouAEIOU" else "a", name)


def _from_torch(value):
    """A torch tensor, told without importing torch (a file that made one has imported it)."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _numeric(value):
    """A torch tensor as a NumPy array (EECS498's code is in torch), anything else as it is."""
    return value.detach().cpu().numpy() if _from_torch(value) else value


def _like(values, template):
    """A float64 array handed to user code in the form of `template`: a torch tensor for torch code."""
    if _from_torch(template):
        import torch

        return torch.from_numpy(values)
    return values


def _floating_array(label, value):
    """(float64 copy, dtype name, given as a torch tensor) when value is a floating-point array, NumPy's or torch's;
    None for everything else (a constant). Complex arrays are refused."""
    if isinstance(value, np.ndarray):
        kind, dtype = value.dtype.kind, value.dtype.name
    elif _from_torch(value):
        kind = "c" if value.is_complex() else "f" if value.is_floating_point() else "i"
        dtype = str(value.dtype).replace("torch.", "")
    else:
        return None
    if kind == "c":
        raise ValueError("%s is %s: complex arrays are not supported (GradLens checks real ones)" % (label, dtype))
    if kind != "f":
        return None
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=np.float64), dtype, False
    return value.detach().cpu().double().numpy().copy(), dtype, True


def _constant(value):
    """How a constant reaches each call: an array as a read-only view (a write into it raises, and the problem then
    hands out copies), an immutable value as it is, anything else (conv_param, bn_param, into which course code writes
    its running averages) as a fresh deep copy, so that every call sees the same constants."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view, "array"
    if isinstance(value, _IMMUTABLE) or (isinstance(value, tuple) and all(isinstance(item, _IMMUTABLE) for item in value)):
        return value, "same"
    try:
        copy.deepcopy(value)
    except Exception:  # a file, a lock, a generator: shared, as the user's own code shares it
        return value, "same"
    return value, "copy"


def _wrote_into_read_only(error):
    data = error.data or {}
    return error.code == USER_ERROR and data.get("type") == "ValueError" and "read-only" in data.get("message", "")


def _signature(function):
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


def _binding_error(signature, args, keywords):
    """Why a call with these arguments cannot bind to `signature`; None when it can, or the signature is unknown."""
    if signature is None:
        return None
    try:
        signature.bind(*args, **keywords)
    except TypeError as error:
        return str(error)
    return None


def _positional(signature):
    """(names of the positional parameters, fewest a call must pass, whether *args takes more)."""
    names, fewest, variadic = [], 0, False
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            names.append(parameter.name)
            fewest += parameter.default is parameter.empty
        elif parameter.kind == parameter.VAR_POSITIONAL:
            variadic = True
    return names, fewest, variadic


def _function_name(function, fallback):
    """How messages name a user's function: affine_forward, TwoLayerNet.loss, Linear.forward (a lambda by its key)."""
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if not name or "<lambda>" in name:
        return fallback
    return name.rpartition("<locals>.")[2]


def _own_returns(function_node):
    """The return statements of a function, not of the functions and classes defined inside it."""
    found, stack = [], list(ast.iter_child_nodes(function_node))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _site(function, at_return):
    """(file, line) in the user's files of a function's return statement (when it has one) or of its def; None when
    the function is not the user's. What a malformed return value is reported at."""
    function = inspect.unwrap(getattr(function, "__func__", function))
    code = getattr(function, "__code__", None)
    if code is None or not _is_user_file(code.co_filename):
        return None
    line = code.co_firstlineno
    if at_return:
        try:
            source, start = inspect.getsourcelines(function)
            returns = _own_returns(ast.parse(textwrap.dedent("".join(source))).body[0])
            if len(returns) == 1:
                line = start + returns[0].lineno - 1
        except (OSError, TypeError, SyntaxError, IndexError):
            pass  # a lambda inside a larger expression, source not at hand: its first line
    return os.path.abspath(code.co_filename), line


def _located(error, site):
    """The error at `site` unless it has a place already (an exception in user code has its own)."""
    if site is not None and error.data is not None and not error.data.get("file"):
        error.data["file"], error.data["line"] = site
    return error


class CourseProblem(Problem):
    """What the course conventions share: inputs passed as keyword arguments, with the checked ones from the point and
    the constants as _constant passes them; gradients as course code returns them (a tuple in the order of the
    checked inputs, one array, or a dict by name); float32 and float16 arrays upcast with a warning; torch tensors
    (EECS498) given as torch tensors; malformed return values reported at the function's return statement."""

    reports_writes = False

    def __init__(self, name, kind, value, tensors_label, functions):
        self._begin(name, kind, value, tensors_label)
        for key, function in functions.items():
            if not callable(function):
                raise ValueError("%s: %s is %s, expected a function" % (name, key, _described(function)))
        self.functions = functions
        self.function_names = {key: _function_name(function, key) for key, function in functions.items()}
        # (name, value, how it is passed: "array", "same" or "copy"; see _constant), in the order of the inputs.
        self.constants = []
        # Set once user code wrote into a constant array: from then on constants are fresh copies.
        self.copy_constant_arrays = False
        # Checked inputs the user gave as torch tensors: their functions get torch tensors.
        self.torch_names = []
        # What a wrong count of gradients is told: which inputs are checked, and how to check others.
        self.checked_text = ""
        self.count_advice = ""

    def _lay_out_arrays(self, entries, label):
        """Lays out the floating-point arrays of (name, value) entries as the point; the names of the others."""
        checked, others, low = [], [], {}
        for key, value in entries:
            array = _floating_array("%s: %s[%r]" % (self.name, label, key), value)
            if array is None:
                others.append(key)
                continue
            values, dtype, given_as_torch = array
            if dtype in _RESOLUTION_NEAR_ONE:
                low.setdefault(dtype, []).append(key)
            if given_as_torch:
                self.torch_names.append(key)
            checked.append((key, values, False))
        self._lay_out(checked)
        for dtype, names in low.items():
            self.warnings.append(low_precision_warning(names, dtype, "a check in %s" % dtype))
        return others

    def _take_inputs(self, inputs, wrt, key):
        """The checked inputs (those named in wrt, else every float array) and the constants (the rest)."""
        inputs = self._inputs_dict(inputs, key)
        if wrt is None:
            self._lay_out_arrays(inputs.items(), "inputs")
            names = [spec["name"] for spec in self.layout]
            self.checked_text = "%s has %s, %s" % (self.function_names[key], _count(len(names), "float array input"), ", ".join(names))
            self.count_advice = ": one for each, in this order (or name those it returns gradients for in \"wrt\")"
        else:
            names = [wrt] if isinstance(wrt, str) else list(wrt) if isinstance(wrt, (list, tuple)) else None
            if not names or not all(isinstance(entry, str) for entry in names):
                raise ValueError("%s: wrt is %s, expected the names of the inputs to check, e.g. [\"W\"]" % (self.name, _described(wrt)))
            for entry in names:
                if entry not in inputs:
                    raise ValueError("%s: wrt names %s, which inputs does not have (it has %s)" % (self.name, entry, ", ".join(inputs)))
            others = self._lay_out_arrays([(entry, inputs[entry]) for entry in names], "inputs")
            if others:
                raise ValueError("%s: wrt names %s, but inputs[%r] is %s: only float arrays have gradients to check" % (self.name, others[0], others[0], _described(inputs[others[0]])))
            self.checked_text = "wrt names %s, %s" % (_count(len(names), "input"), ", ".join(names))
        if not self.layout:
            raise ValueError("%s: no input of %s is a float array (%s): nothing to check" % (self.name, self.function_names[key], ", ".join(inputs) or "no inputs"))
        checked = {spec["name"] for spec in self.layout}
        self._take_constants([(entry, value) for entry, value in inputs.items() if entry not in checked])

    def _inputs_dict(self, inputs, key):
        """The inputs, which key's function must take as keyword arguments; its call as messages show it."""
        if not isinstance(inputs, dict) or not all(isinstance(entry, str) for entry in inputs):
            raise ValueError("%s: inputs is %s, expected a dict of the arguments of %s by name" % (self.name, _described(inputs), self.function_names[key]))
        why = _binding_error(_signature(self.functions[key]), (), inputs)
        if why is not None:
            raise ValueError("%s: %s%s cannot take the inputs %s as keyword arguments: %s" % (self.name, self.function_names[key], _signature(self.functions[key]), ", ".join(inputs), why))
        self.call_label = "%s(%s)" % (self.function_names[key], ", ".join(inputs))
        return inputs

    def _take_constants(self, entries):
        self.constants = [(entry,) + _constant(value) for entry, value in entries]

    def tree(self, x, fresh=True):
        tree = Problem.tree(self, x, fresh)
        if self.torch_names:
            import torch  # the file gave torch tensors, so torch is imported already

            for name in self.torch_names:
                tree[name] = torch.from_numpy(tree[name])
        return tree

    def arguments(self, tree):
        """The keyword arguments of one call: the checked inputs from `tree`, the constants as _constant passes them."""
        arguments = dict(tree)
        for name, value, passing in self.constants:
            if passing == "copy":
                value = copy.deepcopy(value)
            elif passing == "array" and self.copy_constant_arrays:
                value = value.copy()
            arguments[name] = value
        return arguments

    def call_with_inputs(self, key, tree, element):
        """key's function of the inputs; after a write into a constant array, again on copies (and copies from then on)."""
        try:
            return self.call(key, (), element, self.arguments(tree))
        except RpcError as error:
            if self.copy_constant_arrays or not _wrote_into_read_only(error):
                raise
            self.copy_constant_arrays = True
            return self.call(key, (), element, self.arguments(tree))

    def returned_wrong(self, key, message, element, non_finite=False):
        """A malformed return value of key's function, at its return statement."""
        return _located(tensor_error(message, element, non_finite), _site(self.functions[key], True))

    def read_gradients(self, returned, key, label, element):
        """The gradients key's function returned, matched to the checked inputs: a tuple or list in their order (dx, dw,
        db), one array when one input is checked, or a dict by name; flattened as read_like flattens a dict."""
        names = [spec["name"] for spec in self.layout]
        if isinstance(returned, dict):
            grads = returned
        else:
            given = list(returned) if isinstance(returned, (tuple, list)) else [returned]
            if len(given) != len(names):
                raise self.returned_wrong(key, "%s returned %s, but %s%s" % (label, _count(len(given), "gradient"), self.checked_text, self.count_advice), element)
            for k, (name, gradient) in enumerate(zip(names, given)):
                if gradient is None:
                    shape = _shape_text(self.layout[k]["shape"])
                    raise self.returned_wrong(key, "%s returned None as the gradient of %s (%d of %d), expected an array of shape %s like %s.%s" % (label, name, k + 1, len(names), shape, self.tensors_label, name), element)
            grads = dict(zip(names, given))
        try:
            return self.read_like({name: _numeric(value) for name, value in grads.items()}, label, element, key)
        except RpcError as error:
            raise _located(error, _site(self.functions[key], True))


class LayerPairProblem(CourseProblem):
    """A course layer pair. v . forward(x) is the sum over the outputs of v_k . out_k (one probe per output, cut from the
    engine's one probe), its gradient backward(v_1, ..., v_K, cache) with the cache of a forward call at the same point:
    one forward call per evaluation of either."""

    def __init__(self, name, value, get):
        CourseProblem.__init__(self, name, "layer", value, "inputs", {"forward": get("forward"), "backward": get("backward")})
        self._take_inputs(get("inputs"), get("wrt"), "forward")
        # How many outputs forward returns before its cache, and how messages show backward's call: set by the first call.
        self.output_count = None
        self.backward_label = None
        dicts = [entry for entry, value, _passing in self.constants if isinstance(value, dict)]
        fix = "give %s a 'seed' (CS231n's dropout_forward seeds np.random with it)" % dicts[0] if dicts else "seed np.random inside it"
        self.nondeterminism_hint = "randomness in %s differs between calls (dropout without a seed?): %s for the check" % (self.function_names["forward"], fix)

    def _learn_outputs(self, count):
        """At the first call: backward must take one upstream gradient per output, then the cache."""
        signature = _signature(self.functions["backward"])
        names = []
        if signature is not None:
            names, fewest, variadic = _positional(signature)
            if count + 1 < fewest or (count + 1 > len(names) and not variadic):
                raise _located(tensor_error(
                    "%s%s takes %s, but %s returned %s and a cache: a backward takes one upstream gradient per output, then the cache"
                    % (self.function_names["backward"], signature, _count(len(names), "argument"), self.call_label, _count(count, "output"))), _site(self.functions["backward"], False))
        if len(names) != count + 1:
            names = ["dout"] if count == 1 else ["dout%d" % (k + 1) for k in range(count)]
            names.append("cache")
        self.backward_label = "%s(%s)" % (self.function_names["backward"], ", ".join(names))
        self.output_count = count

    def run_forward(self, tree, element):
        """forward at the point of `tree`: its outputs as float64 arrays, as returned, and its cache."""
        result = self.call_with_inputs("forward", tree, element)
        if not isinstance(result, (tuple, list)) or len(result) < 2:
            raise self.returned_wrong("forward", "%s returned %s, expected (out, cache): its output and what backward needs" % (self.call_label, _described(result)), element)
        outputs, cache = list(result[:-1]), result[-1]
        if self.output_count is None:
            self._learn_outputs(len(outputs))
        elif len(outputs) != self.output_count:
            raise self.returned_wrong("forward", "%s returned %s and a cache, but %s at the unperturbed inputs" % (self.call_label, _count(len(outputs), "output"), _count(self.output_count, "output")), element)
        arrays = []
        for k, output in enumerate(outputs):
            try:
                if output is None or isinstance(output, (str, bytes, dict)):
                    raise TypeError()
                arrays.append(np.asarray(_numeric(output), dtype=np.float64))
            except (TypeError, ValueError):
                which = "its output" if len(outputs) == 1 else "output %d of %d" % (k + 1, len(outputs))
                raise self.returned_wrong("forward", "%s returned %s as %s, expected an array" % (self.call_label, _described(output), which), element)
        return arrays, outputs, cache

    def forward(self, x, element=None, fresh=True, tree=None):
        arrays, _outputs, _cache = self.run_forward(self.tree(x, fresh) if tree is None else tree, element)
        return arrays[0] if len(arrays) == 1 else np.concatenate([array.ravel() for array in arrays])

    def backward(self, x, v, shape):
        arrays, outputs, cache = self.run_forward(self.tree(x), None)
        size = sum(array.size for array in arrays)
        if size != v.size:
            raise self.returned_wrong("forward", "%s returned %d output elements, but %d at the unperturbed inputs" % (self.call_label, size, v.size), None)
        douts, start = [], 0
        for array, output in zip(arrays, outputs):
            # Each output's part of this request's own probe: course backwards may write into dout (dx = dout; dx[x < 0] = 0).
            douts.append(_like(v[start:start + array.size].reshape(array.shape), output))
            start += array.size
        return self.read_gradients(self.call("backward", douts + [cache]), "backward", self.backward_label, None)


class LossProblem(CourseProblem):
    """A loss that returns its gradient: loss(**inputs) returns (loss, dW), or (loss, (dW, db)) for several names in wrt.
    f and grad are the two parts of one call; an optimizer step makes one call."""

    def __init__(self, name, value, get):
        CourseProblem.__init__(self, name, "scalar", value, "inputs", {"loss": get("loss")})
        self._take_inputs(get("inputs"), get("wrt"), "loss")
        self.gradients_label = self.call_label
        self._set_hint("seed np.random inside it")

    def _set_hint(self, fix):
        self.nondeterminism_hint = "randomness in %s differs between calls (dropout without a seed?): %s for the check" % (self.function_names["loss"], fix)

    def run_loss(self, tree, element):
        """The loss at the point of `tree`, and its gradients as returned."""
        result = self.call_with_inputs("loss", tree, element)
        if not isinstance(result, (tuple, list)) or len(result) < 2:
            gradients = ["d" + spec["name"] for spec in self.layout]
            expected = gradients[0] if len(gradients) == 1 else "(%s)" % ", ".join(gradients)
            raise self.returned_wrong("loss", "%s returned %s, expected (loss, %s)" % (self.call_label, _described(result), expected), element)
        try:
            value = scalar_value(_numeric(result[0]), "%s[0]" % self.call_label, element)
        except RpcError as error:
            raise _located(error, _site(self.functions["loss"], True))
        if not math.isfinite(value):
            raise self.returned_wrong("loss", "%s returned a loss of %s, expected a finite number" % (self.call_label, value), element, non_finite=True)
        return value, result[1] if len(result) == 2 else result[1:]

    def f(self, x, batch, element=None, fresh=True, tree=None):
        return self.run_loss(self.tree(x, fresh) if tree is None else tree, element)[0]

    def grad(self, x, batch, element=None):
        return self.value_and_grad(x, batch, element)[1]

    def value_and_grad(self, x, batch, element=None):
        value, gradients = self.run_loss(self.tree(x), element)
        return value, self.read_gradients(gradients, "loss", self.gradients_label, element)


class ModelProblem(LossProblem):
    """A model with a params dict (CS231n's TwoLayerNet, FullyConnectedNet, CaptioningRNN; EECS498's in torch):
    model.loss(**inputs) returns (loss, grads), grads keyed like model.params. Each evaluation writes the point into
    model.params and puts the model's own arrays back after it."""

    def __init__(self, name, value, get):
        model = get("model")
        CourseProblem.__init__(self, name, "scalar", value, "params", {"loss": getattr(model, "loss", None)})
        self.function_names["loss"] = "%s.loss" % type(model).__name__
        self.params = getattr(model, "params", None)
        if not isinstance(self.params, dict):
            raise ValueError("%s: model is %s, which has no params dict (a CS231n model keeps its weights in self.params)" % (name, _described(model)))
        self._lay_out_arrays(self.params.items(), "model.params")
        if not self.layout:
            raise ValueError("%s: %s.params has no float array (%s): nothing to check" % (name, type(model).__name__, ", ".join(map(str, self.params)) or "it is empty"))
        self.own_params = {spec["name"]: self.params[spec["name"]] for spec in self.layout}
        self._take_constants(self._inputs_dict(get("inputs"), "loss").items())
        self.gradients_label = "%s[1]" % self.call_label  # the grads dict
        self.checked_text = "%s.params has %s, %s" % (type(model).__name__, _count(len(self.layout), "float array"), ", ".join(self.own_params))
        self._set_hint("seed it (CS231n's FullyConnectedNet takes seed=0)")

    def arguments(self, tree):
        return CourseProblem.arguments(self, {})  # the point goes into model.params, not into the call

    def call_with_inputs(self, key, tree, element):
        self.params.update(tree)
        try:
            return CourseProblem.call_with_inputs(self, key, tree, element)
        finally:
            self.params.update(self.own_params)


def _course_layer(get):
    """Whether a layer export is a course layer pair, affine_forward(x, w, b) -> (out, cache), rather than GradLens's own
    forward(inputs): by the arguments forward takes, and where they cannot tell (relu_forward(x) with inputs {"x": x},
    *args), by what it returns for a copy of the inputs."""
    forward, inputs = get("forward"), get("inputs")
    if not callable(forward) or not isinstance(inputs, dict) or not all(isinstance(key, str) for key in inputs):
        return False
    signature = _signature(forward)
    if signature is not None:
        takes_arguments = _binding_error(signature, (), inputs) is None
        takes_dict = _binding_error(signature, (inputs,), {}) is None
        if takes_arguments != takes_dict:
            return takes_arguments
        if not takes_arguments:
            return True  # neither: the layer pair's own check says why its inputs do not fit
    try:
        result = forward(**copy.deepcopy(inputs))
    except (Exception, SystemExit):  # not a call it takes, or it fails there: the check of a GradLens layer says so
        return False
    return isinstance(result, (tuple, list)) and len(result) >= 2


def classify(name, value):
    if isinstance(value, dict):
        has = lambda key: key in value  # noqa: E731
    else:
        has = lambda key: hasattr(value, key)  # noqa: E731
    # PyTorch: a Function (or any torch callable) with its inputs, or a module with its inputs.
    if has("inputs") and (has("fn") or has("module")):
        if has("fn") and has("module"):
            raise ValueError("%s: has both fn and module; a torch problem checks one of them" % name)
        return "function" if has("fn") else "module"
    # Course code: a model with a params dict and its inputs, or a loss that returns its gradient.
    if has("model") and has("inputs"):
        return "model"
    if has("loss") and (has("inputs") or has("wrt")):
        if has("forward") or has("backward") or has("params"):
            raise ValueError("%s: has loss and forward/backward or params; a problem is a loss that returns its gradient, a layer or a scalar loss" % name)
        if not has("inputs"):
            raise ValueError("%s: missing inputs (the arguments of loss by name)" % name)
        return "loss"
    scalar_hits = sum(1 for key in SCALAR_KEYS if has(key))
    layer_hits = sum(1 for key in LAYER_KEYS if has(key))
    if scalar_hits >= 2 and layer_hits >= 2:
        raise ValueError("%s: has both params/f/grad and inputs/forward/backward; a problem is either a scalar loss or a layer" % name)
    if scalar_hits >= 2:
        # grad may be left out for torch code (autograd of f): the problem's construction decides.
        for key in ("params", "f"):
            if not has(key):
                raise ValueError("%s: missing %s" % (name, key))
        return "scalar"
    if layer_hits >= 2:
        for key in LAYER_KEYS:
            if not has(key):
                raise ValueError("%s: missing %s" % (name, key))
        return "layer"
    return None


def assignment_lines(source):
    """Line of the first module-level assignment of each name."""
    lines = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in lines:
                    lines[sub.id] = node.lineno
    return lines


PROBLEMS = {}


def _torch_params(params):
    """params holding torch tensors (a file that uses torch has imported it already)."""
    if "torch" not in sys.modules or not isinstance(params, dict):
        return False
    return any(type(value).__module__.split(".")[0] == "torch" for value in params.values())


def make_problem(name, kind, value):
    """The problem of an export classified as `kind`: NumPy's, or PyTorch's (gradlens_torch.py, beside this file)."""
    get = (lambda key: value.get(key)) if isinstance(value, dict) else (lambda key: getattr(value, key, None))
    if kind in ("function", "module") or (kind == "scalar" and _torch_params(get("params"))):
        try:
            import gradlens_torch
        except ImportError as error:
            raise ValueError("%s: PyTorch is needed for this problem and cannot be imported (%s)" % (name, error))
        problem = gradlens_torch.make(name, kind, value, get, sys.modules[__name__])
        problem.get = get
        return problem
    if kind == "model":
        return ModelProblem(name, value, get)
    if kind == "loss":
        return LossProblem(name, value, get)
    if kind == "layer" and _course_layer(get):
        return LayerPairProblem(name, value, get)
    return Problem(name, kind, value)


def load(params):
    global _user_root
    import importlib.util
    import types

    file = os.path.abspath(params["file"])
    _user_root = file
    memory = params.get("memoryMb")
    if memory:
        try:
            import resource

            limit = int(memory) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except Exception:
            pass
    folder = os.path.dirname(file)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_name = os.path.splitext(os.path.basename(file))[0].replace(".", "_")
    try:
        spec = importlib.util.spec_from_file_location(module_name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except SyntaxError as error:
        where = error.filename or file
        raise RpcError(LOAD_ERROR, "syntax error", {
            "message": "SyntaxError: %s" % (error.msg,),
            "file": os.path.abspath(where) if not where.startswith("<") else file,
            "line": error.lineno,
        })
    except MemoryError as error:
        location = user_location(error.__traceback__)
        raise RpcError(LOAD_ERROR, "out of memory", {
            "outOfMemory": True,  # the engine words it with the limit, in the vocabulary of its caller
            "file": location[0] if location else file,
            "line": location[1] if location else None,
        })
    except BaseException as error:  # SystemExit at import counts as a load error too
        location = user_location(error.__traceback__)
        data = {
            "message": "%s: %s" % (type(error).__name__, error),
            "file": location[0] if location else file,
            "line": location[1] if location else None,
            "traceback": user_traceback(error),
        }
        if isinstance(error, ImportError) and getattr(error, "name", None):
            data["missing"] = error.name
        raise RpcError(LOAD_ERROR, "import failed", data)
    with open(file, "rb") as handle:
        lines = assignment_lines(handle.read())
    found = []
    PROBLEMS.clear()
    for name, value in list(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, np.ndarray)):
            continue
        line = lines.get(name)
        try:
            kind = classify(name, value)
            if kind is None:
                continue
            problem = make_problem(name, kind, value)
        except RpcError as error:
            found.append({"name": name, "kind": "invalid", "looksLike": "scalar", "error": str(error), "line": line})
            continue
        except Exception as error:
            keys = value if isinstance(value, dict) else dir(value)
            # A torch module, a model and a loss are scalar problems to the engine, however many layer keys they have.
            scalar_kind = any(key in keys for key in ("module", "model", "loss"))
            looks = "layer" if not scalar_kind and any(key in keys for key in LAYER_KEYS + ("fn",)) else "scalar"
            found.append({"name": name, "kind": "invalid", "looksLike": looks, "error": str(error), "line": line})
            continue
        PROBLEMS[name] = problem
        kind = problem.kind  # what the engine checks: a PyTorch Function is a layer, a module a scalar loss
        data = problem.get("data") if kind == "scalar" else None
        size = None
        if data is not None:
            size = data.get("size") if isinstance(data, dict) else getattr(data, "size", None)
            # NumPy integers count (data={"size": len(X)} may well be one).
            if isinstance(size, numbers.Integral) and not isinstance(size, bool):
                size = int(size)
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                found.append({"name": name, "kind": "invalid", "looksLike": "scalar", "line": line,
                              "error": "%s: data['size'] is %r, expected a positive integer (the number of samples)" % (name, size)})
                del PROBLEMS[name]
                continue
        description = problem.get("description")
        found.append({
            "name": name,
            "kind": kind,
            "line": line,
            "secondOrder": problem.second_order,
            "warnings": problem.warnings,
            "nondeterminismHint": problem.nondeterminism_hint,
            "dataSize": size,
            "description": description if isinstance(description, str) else None,
            "layout": [{"name": spec["name"], "shape": spec["shape"], "scalar": spec["scalar"]} for spec in problem.layout],
            "values": encode(problem.values),
        })
    found.sort(key=lambda entry: entry["line"] if entry["line"] is not None else float("inf"))
    return {"problems": found, "python": sys.version.split()[0], "numpy": np.__version__}


# ---------------------------------------------------------------- plans

def plan_array(problem, plan, key):
    """A float64 array of a plan, always a fresh one: sent under `key`, or, when the plan lists the key in
    "same", the array last sent under it for this problem (a check's point and probe go over once, not
    with each of its bulk plans)."""
    if key in plan:
        problem.sent[key] = decode(plan[key])
    elif key not in plan.get("same", ()) or key not in problem.sent:
        raise RpcError(-32602, "the plan has no %s" % key)
    return problem.sent[key].copy()


def perturbed(problem, plan):
    """fn at x + eps*e_i and x - eps*e_i for every i of `indices`, in one reply.

    The user's functions get views into the perturbed point rather than copies: a copy per evaluation
    costs a good part of a cheap f (4 us against 25 us for the 10,000 parameters of
    bench/problems/cubic_grad.py). A function that writes into its arguments would change the point
    for the evaluations after it. Each element is compared with its value before its own turn (a write
    into an element is caught there, or at the end when its turn is over) and the whole point at the
    end and on an error; after any change the plan runs again on fresh copies, as every later plan of
    the problem does. Writes into the perturbed element itself need no check: the next step
    overwrites it, and an evaluation's own writes are its own business, as with a copy.

    When every tensor is an array, one dict of views serves the whole plan (the views follow x as it
    is perturbed in place; a dict per evaluation costs about 1 us of that cheap f's 25 us). A float
    parameter is a copy, so such problems get a dict per evaluation. A function that rebinds or
    removes a key of the shared dict is caught at the end like a write into the point.
    """
    x = plan_array(problem, plan, "x")
    eps = float(plan["eps"])
    indices = decode_indices(plan["indices"]).tolist()
    fn = plan["fn"]
    batch = plan.get("batch")
    fresh = problem.writes_arguments
    shared = None if fresh or any(shape is None for _, _, _, shape in problem.slices) else problem.tree(x, fresh=False)
    shared_items = list(shared.items()) if shared is not None else []
    if fn == "f":
        value = lambda point, element: problem.f(point, batch, element, fresh, shared)  # noqa: E731
    elif fn == "grad_dot":
        v = plan_array(problem, plan, "v")
        value = lambda point, element: problem.grad_dot(point, v, element, fresh, shared)  # noqa: E731
    elif fn == "backward_dot":
        v, u, shape = plan_array(problem, plan, "v"), plan_array(problem, plan, "u"), plan.get("shape")
        value = lambda point, element: problem.backward_dot(point, v, u, shape, element, fresh, shared)  # noqa: E731
    else:
        v, shape = plan_array(problem, plan, "v"), plan.get("shape")
        value = lambda point, element: problem.forward_dot(point, v, shape, element, fresh, shared)  # noqa: E731
    originals = x.tolist()  # Python floats: x[i] +- eps rounds as in TypeScript, without NumPy scalars

    def disturbed():
        """The evaluations changed the point or the shared dict."""
        if shared is not None and (len(shared) != len(shared_items) or any(shared.get(name) is not view for name, view in shared_items)):
            return True
        return x.tolist() != originals

    plus = [0.0] * len(indices)
    minus = [0.0] * len(indices)
    i, changed = 0, False
    try:
        for k, i in enumerate(indices):
            original = originals[i]
            if x[i] != original:
                changed = True
                break
            x[i] = original + eps
            plus[k] = value(x, (i, eps))
            x[i] = original - eps
            minus[k] = value(x, (i, -eps))
            x[i] = original
    except RpcError:
        x[i] = originals[i]
        if fresh or not disturbed():
            raise
        changed = True  # the error may come from the changed point rather than from the function
    if not fresh and (changed or disturbed()):
        if problem.report_writes:
            # What the function was handed: the shared views (rebound or removed keys included), against the point.
            point = np.asarray(originals)
            problem.require_unchanged(fn.split("_")[0], shared if shared is not None else problem.tree(x, fresh=False), point)
            differs = np.flatnonzero(x != point)
            k = int(differs[0]) if differs.size else 0
            raise RpcError(ARGUMENT_WRITTEN, "%s changed its argument" % fn, {"function": fn.split("_")[0], "index": k, "before": float(point[k]), "after": float(x[k])})
        problem.writes_arguments = True
        return perturbed(problem, plan)
    return {"plus": encode(plus), "minus": encode(minus)}


def evaluate(params):
    problem = PROBLEMS.get(params["problem"])
    if problem is None:
        raise RpcError(-32602, "no problem named %s" % params["problem"])
    plan = params["plan"]
    problem.report_writes = bool(plan.get("writes")) and problem.reports_writes
    reply = _evaluated(problem, plan)
    if len(problem.reshaped) > problem.reshaped_sent:
        reply["reshaped"] = problem.reshaped[problem.reshaped_sent:]
        problem.reshaped_sent = len(problem.reshaped)
    return reply


def _evaluated(problem, plan):
    """The reply to one plan of evaluate()."""
    kind = plan["kind"]
    if kind == "perturbed":
        return perturbed(problem, plan)
    if kind == "f":
        return {"values": encode([problem.f(plan_array(problem, plan, "x"), plan.get("batch"))])}
    if kind == "grad":
        return {"grad": encode(problem.grad(plan_array(problem, plan, "x"), plan.get("batch")))}
    if kind == "losses_or_nan":
        # A contour grid in one exchange; where f raises or returns no finite number the plot has a hole.
        flat = decode(plan["points"])
        values = []
        for point in flat.reshape(-1, problem.size):
            try:
                value = problem.f(point, None)
            except RpcError:
                value = float("nan")
            values.append(value if math.isfinite(value) else float("nan"))
        return {"values": encode(values)}
    if kind == "value_and_grad":
        # One optimizer step's evaluations in one exchange: f then grad at the same point, as the engine calls them.
        value, grad = problem.value_and_grad(plan_array(problem, plan, "x"), plan.get("batch"))
        return {"values": encode([value]), "grad": encode(grad)}
    if kind == "grad_dot":
        return {"value": encode([problem.grad_dot(plan_array(problem, plan, "x"), plan_array(problem, plan, "v"))])}
    if kind == "hvp":
        if not problem.second_order or problem.kind != "scalar":
            raise RpcError(-32602, "%s has no hvp" % problem.name)
        return {"hvp": encode(problem.hvp(plan_array(problem, plan, "x"), plan_array(problem, plan, "v")))}
    if kind == "forward":
        out = problem.forward(plan_array(problem, plan, "x"))
        return {"shape": list(out.shape), "out": encode(out.ravel())}
    if kind == "backward":
        return {"grad": encode(problem.backward(plan_array(problem, plan, "x"), plan_array(problem, plan, "v"), plan["shape"]))}
    if kind == "backward_hvp":
        # The second-order check of a layer's backward (PyTorch Functions): d(u . backward(x, v))/dx.
        if not problem.second_order or problem.kind != "layer":
            raise RpcError(-32602, "%s has no second-order check of its backward" % problem.name)
        x, v, u = plan_array(problem, plan, "x"), plan_array(problem, plan, "v"), plan_array(problem, plan, "u")
        return {"hvp": encode(problem.backward_hvp(x, v, u, plan["shape"]))}
    raise RpcError(-32602, "unknown plan kind %r" % kind)


METHODS = {"load": load, "evaluate": evaluate}


def main():
    while True:
        message = read_message()
        if message is None:
            return
        if "id" not in message:
            continue  # notifications: none are used
        reply = {"jsonrpc": "2.0", "id": message["id"]}
        try:
            method = METHODS.get(message.get("method"))
            if method is None:
                raise RpcError(-32601, "unknown method %s" % message.get("method"))
            reply["result"] = method(message.get("params") or {})
        except RpcError as error:
            reply["error"] = {"code": error.code, "message": str(error), "data": error.data}
        except MemoryError:
            reply["error"] = {"code": -32004, "message": "ran out of memory", "data": None}
        except Exception as error:
            reply["error"] = {"code": -32603, "message": "runner error: %s" % "".join(traceback.format_exception_only(type(error), error)).strip()}
        try:
            write_message(reply)
        except ValueError:
            write_message({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32603, "message": "reply not serializable"}})


if __name__ == "__main__":
    main()
