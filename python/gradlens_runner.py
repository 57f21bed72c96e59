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
import json
import math
import numbers
import os
import sys
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
    def __init__(self, name, kind, value):
        self.name = name
        self.kind = kind
        self.value = value
        self.is_dict = isinstance(value, dict)
        tensors = self.get("params" if kind == "scalar" else "inputs")
        self.tensors_label = "params" if kind == "scalar" else "inputs"
        if not isinstance(tensors, dict):
            raise ValueError("%s: %s is %s, expected a dict of NumPy arrays or floats" % (name, self.tensors_label, type(tensors).__name__))
        self.layout = []
        flat = []
        offset = 0
        for key, tensor in tensors.items():
            if not isinstance(key, str):
                raise ValueError("%s: %s has the key %r, expected names (str)" % (name, self.tensors_label, key))
            scalar = isinstance(tensor, (int, float)) and not isinstance(tensor, bool)
            try:
                array = np.asarray(tensor, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError("%s: %s[%r] is %s, expected a NumPy array or a float" % (name, self.tensors_label, key, type(tensor).__name__))
            if not np.all(np.isfinite(array)):
                raise ValueError("%s: %s[%r] has non-finite values" % (name, self.tensors_label, key))
            self.layout.append({"name": key, "shape": list(array.shape), "size": int(array.size), "offset": offset, "scalar": scalar})
            flat.append(array.ravel())
            offset += int(array.size)
        self.size = offset
        self.values = np.concatenate(flat) if flat else np.zeros(0)
        # What tree() cuts out of a flat point, without dict lookups: (name, start, end, shape or None for a float).
        self.slices = [(spec["name"], spec["offset"], spec["offset"] + spec["size"], None if spec["scalar"] else tuple(spec["shape"])) for spec in self.layout]
        # Set once a function was caught writing into its arguments: from then on perturbed() hands out copies too.
        self.writes_arguments = False
        # The arrays last sent for this problem under each plan key (see plan_array).
        self.sent = {}
        self.functions = {}
        if kind == "scalar" and not callable(self.get("grad")):
            raise ValueError("%s: missing grad" % name)
        self.second_order = kind == "scalar" and self.get("hvp") is not None
        self.warnings = []
        self.nondeterminism_hint = None

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

    def read_like(self, result, label, element=None):
        """Flattens a gradient-like dict matched to the layout by name."""
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
                raise tensor_error("%s.%s has shape %s, expected %s like %s.%s" % (label, name, _shape_text(array.shape), _shape_text(spec["shape"]), self.tensors_label, name), element)
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

    def element_label(self, label, flat):
        """`grad(p).W[2,3]` for the flat position of element (2,3) of W, `grad(p).b` for a float parameter (the TS engine's names)."""
        for spec in self.layout:
            if flat < spec["offset"] + spec["size"]:
                index = np.unravel_index(flat - spec["offset"], spec["shape"]) if spec["shape"] else ()
                return "%s.%s%s" % (label, spec["name"], "[%s]" % ",".join(str(int(i)) for i in index) if index else "")
        raise IndexError(flat)

    # -- evaluations; `element` (flat index, delta) names the perturbed element for error messages

    def call(self, key, args, element=None):
        fn = self.function(key)
        try:
            return fn(*args)
        except MemoryError:
            raise
        except (Exception, SystemExit) as error:  # sys.exit() in user code is its error, not the runner's end
            raise user_error(key, error, element)

    # `tree`, in f, grad_dot, forward and forward_dot: the point as views made already (perturbed() makes
    # them once per plan), else a dict made from x.

    def f(self, x, batch, element=None, fresh=True, tree=None):
        if tree is None:
            tree = self.tree(x, fresh)
        if batch is None:
            return scalar_value(self.call("f", (tree,), element), "f(p)", element)
        return scalar_value(self.call("f", (tree, list(batch)), element), "f(p, batch)", element)

    def grad(self, x, batch, element=None):
        args = [self.tree(x)] + ([list(batch)] if batch is not None else [])
        return self.read_like(self.call("grad", args, element), "grad(p, batch)" if batch is not None else "grad(p)")

    def grad_dot(self, x, v, element=None, fresh=True, tree=None):
        return sequential_dot(v, self.read_like(self.call("grad", (self.tree(x, fresh) if tree is None else tree,), element), "grad(p)", element))

    def hvp(self, x, v):
        return self.read_like(self.call("hvp", [self.tree(x), self.tree(v)]), "hvp(p, v)")

    def forward(self, x, element=None, fresh=True, tree=None):
        result = self.call("forward", (self.tree(x, fresh) if tree is None else tree,), element)
        try:
            return np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError):
            raise tensor_error("forward(inputs) returned %s, expected a number or an array" % type(result).__name__, element)

    def forward_dot(self, x, v, shape, element=None, fresh=True, tree=None):
        out = self.forward(x, element, fresh, tree)
        if list(out.shape) != list(shape):
            raise tensor_error("forward(inputs) returned shape %s, but %s at the unperturbed inputs" % (_shape_text(out.shape), _shape_text(shape)), element)
        return sequential_dot(v, out.ravel())

    def backward(self, x, v, shape):
        grad_output = float(v[0]) if len(shape) == 0 else v.reshape(shape).copy()
        return self.read_like(self.call("backward", [self.tree(x), grad_output]), "backward(inputs, gradOutput)")


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
            looks = "layer" if "module" not in keys and any(key in keys for key in LAYER_KEYS + ("fn",)) else "scalar"
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
        problem.writes_arguments = True
        return perturbed(problem, plan)
    return {"plus": encode(plus), "minus": encode(minus)}


def evaluate(params):
    problem = PROBLEMS.get(params["problem"])
    if problem is None:
        raise RpcError(-32602, "no problem named %s" % params["problem"])
    plan = params["plan"]
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
        x = plan_array(problem, plan, "x")
        batch = plan.get("batch")
        return {"values": encode([problem.f(x, batch)]), "grad": encode(problem.grad(x, batch))}
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
