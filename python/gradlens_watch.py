"""Watch a real PyTorch training run: gradlens.watch(optimizer) records what the optimizer does, step by step.

Each recorded step gives one record in the schema of GradLens's own optimizer runs (StepRecord in
src/core/optim/train.ts, docs/optimizers.md#telemetry): gradient, update and velocity norms, the
update/parameter ratio overall and per named parameter, and the per-dimension effective learning rate
of the adaptive rules, summarized overall and per parameter, read from param_groups and optimizer.state
with the exact formulas of torch's own code (docs/optimizers.md#watching-your-own-training).

Records go to the VS Code dashboard when the script runs in a terminal of VS Code with GradLens (the
extension sets GRADLENS_WATCH_SOCKET), else to a JSON Lines log, gradlens-runs/<name>-<time>.jsonl beside
the script (or under GRADLENS_LOG_DIR). A background thread writes them, at most ~30 times a second; the
training loop never waits for it: beyond a bounded buffer records are dropped, and the drops counted.

Needs only the standard library and torch (the script's own).
"""
import atexit
import json
import math
import os
import socket
import sys
import threading
import time
import weakref

import torch

SOCKET_VARIABLE = "GRADLENS_WATCH_SOCKET"
LOG_DIR_VARIABLE = "GRADLENS_LOG_DIR"
# Version 2: rate summaries are their histograms' counts (_summary).
LOG_VERSION = 2
FLUSH_SECONDS = 1 / 30
BUFFER_LIMIT = 2000
SEND_TIMEOUT_SECONDS = 5.0
# How long close() waits for the last records to go out (at exit too).
CLOSE_SECONDS = 2.0
# The summaries of src/core/optim/telemetry.ts: exact min and max, 32 log- or linear-spaced bins of at most
# 1,024 evenly strided elements (the host reads the quartiles off them).
HISTOGRAM_BINS = 32
SAMPLE_LIMIT = 1024
# Parameters below PACKED_SIZE elements are recorded together, copied into packs of up to PACK_SIZE elements per
# parameter group: every torch call costs microseconds whatever its size, and a record makes some twenty per pack,
# so a model's biases and norms would otherwise cost as much as its weights (bench:watch). Where a record computes
# a vector of its own (Adam's update), it does so WINDOW_SIZE elements at a time: its scratch memory stays that
# small however large the model's tensors.
PACKED_SIZE = 16384
PACK_SIZE = 65536
WINDOW_SIZE = 1 << 20
# State that is one number per parameter even where the parameter is one number too (the rest is shaped like the
# parameter, and packed by concatenation).
_SCALAR_STATE = ("step", "mu_product")
_TORCH_MAJOR = int(torch.__version__.split(".")[0])


def _number(value):
    """A float for JSON: None when not finite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------------------ summaries


def _bins(values, low, high, logarithmic, count):
    positions = torch.log(values) if logarithmic else values
    width = (high - low) / count
    # Truncation, as telemetry.ts: positions are >= low, the top edge goes into the last bin.
    index = ((positions - low) / width).to(torch.int64).clamp_(0, count - 1)
    return torch.bincount(index, minlength=count).tolist()


def _summary(sample, low, high, bins=HISTOGRAM_BINS):
    """The counts of telemetry.ts's summarize() bins of the strided sample (a float64 tensor) between the exact range
    [low, high]: src/core/run-log.ts turns them into the whole summary (edges, quartiles) with telemetry.ts's code."""
    sampled = sample.numel()
    if sampled == 0:
        return None
    logarithmic = low > 0 and high / low > 10
    lo, hi = (math.log(low), math.log(high)) if logarithmic else (low, high)
    count = min(bins, sampled) if hi > lo else 1
    counts = [sampled] if count == 1 else _bins(sample, lo, hi, logarithmic, count)
    return {"min": _number(low), "max": _number(high), "counts": counts, "sampled": sampled}


def _listed(tensor):
    return None if tensor is None else [_number(x) for x in tensor.reshape(-1).double().tolist()]


def _stride(size):
    return max(1, -(-size // SAMPLE_LIMIT))


def _vector_norms(tensors):
    return [torch.linalg.vector_norm(tensor.reshape(-1)) for tensor in tensors]


# Several tensors' norms in one call (what torch.optim's foreach paths use), where the installed torch has it.
_norms = getattr(torch, "_foreach_norm", None) or _vector_norms


# ------------------------------------------------------------------------------------------------ the rules


class _Terms(object):
    """One pack's step, from the rule's state after it (flat vectors, as _Pack gives them): the effective rate (per
    element, a _RateOf, or None), the update as d = -(k*p + a)/(1 - k) from the parameter after the step p (the rule's
    form p = p_before*(1 - k) - a, where a is a tensor or a _Quotient), or measured from a copy, the velocity and the
    accumulator (or None)."""

    __slots__ = ("rate", "a", "k", "update", "velocity", "accumulator")

    def __init__(self, rate=None, a=None, k=0.0, update=None, velocity=None, accumulator=None):
        self.rate, self.a, self.k, self.update, self.velocity, self.accumulator = rate, a, k, update, velocity, accumulator


class _RateOf(object):
    """A rate that decreases with one state tensor, rate = function(source), left uncomputed: its range comes from
    the source's (one pass instead of the five that build the rate), its samples from the source's samples. The
    function works in place on its argument, always a fresh float64 tensor."""

    __slots__ = ("source", "function")

    def __init__(self, source, function):
        self.source, self.function = source, function


class _Quotient(object):
    """a = scale * numerator / (sqrt(source) + offset), left uncomputed: the record evaluates it a window at a time in
    the watch's scratch memory, where the norms of k*p + a and p + a are taken in turn."""

    __slots__ = ("numerator", "source", "offset", "scale")

    def __init__(self, numerator, source, offset, scale):
        self.numerator, self.source, self.offset, self.scale = numerator, source, offset, scale

    def into(self, out, start, stop, base=None, weight=1.0):
        """The unscaled quotient of elements [start, stop) of the flat vectors, or base + weight*quotient, into out."""
        torch.sqrt(self.source[start:stop], out=out).add_(self.offset)
        if base is None:
            return torch.div(self.numerator[start:stop], out, out=out)
        return torch.addcdiv(base, self.numerator[start:stop], out, value=weight, out=out)


def _signed(grad, group):
    return -grad if group.get("maximize", False) else grad


def _step_count(state):
    step = state["step"]
    return float(step.item() if torch.is_tensor(step) else step)


def _sgd(p, grad, state, group, before):
    lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
    g = _signed(grad, group)
    buffer = state.get("momentum_buffer") if momentum != 0 else None
    if buffer is None:
        return _Terms(a=lr * g, k=lr * decay)
    if group["nesterov"]:
        return _Terms(a=lr * g.add(buffer, alpha=momentum), k=lr * decay, velocity=buffer)
    # The buffer already holds the decayed gradient.
    return _Terms(a=lr * buffer, velocity=buffer)


def _adagrad(p, grad, state, group, before):
    step = _step_count(state)
    clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
    rate = clr / state["sum"].sqrt().add_(group["eps"])
    return _Terms(rate=rate, a=rate * _signed(grad, group), k=rate * group["weight_decay"], accumulator=state["sum"])


def _rmsprop(p, grad, state, group, before):
    square = state["square_avg"]
    if group["centered"]:
        average = square.addcmul(state["grad_avg"], state["grad_avg"], value=-1).sqrt_()
    else:
        average = square.sqrt()
    average.add_(group["eps"])
    lr = group["lr"]
    rate = lr / average
    if group["momentum"] > 0:
        buffer = state["momentum_buffer"]
        return _Terms(rate=rate, a=lr * buffer, velocity=buffer, accumulator=square)
    return _Terms(rate=rate, a=rate * _signed(grad, group), k=rate * group["weight_decay"], accumulator=square)


def _adadelta(p, grad, state, group, before):
    # The rate needs the squared-update average from before the step: copied on recorded steps (before_step).
    eps = group["eps"]
    rate = before.add(eps).sqrt_().div_(state["square_avg"].add(eps).sqrt_()).mul_(group["lr"])
    return _Terms(rate=rate, a=rate * _signed(grad, group), k=rate * group["weight_decay"], accumulator=state["square_avg"])


def _adam(decoupled_class):
    def terms(p, grad, state, group, before):
        beta1, beta2 = group["betas"]
        step = _step_count(state)
        step_size = group["lr"] / (1 - beta1 ** step)
        root_correction = math.sqrt(1 - beta2 ** step)
        eps = group["eps"]
        second = state["max_exp_avg_sq"] if group.get("amsgrad", False) else state["exp_avg_sq"]
        # torch's a = step_size * m / (sqrt(v)/sqrt(1 - beta2^t) + eps), as (step_size*root) * m / (sqrt(v) + eps*root).
        decoupled = decoupled_class or group.get("decoupled_weight_decay", False)
        return _Terms(rate=_RateOf(second, lambda v: v.sqrt_().div_(root_correction).add_(eps).reciprocal_().mul_(step_size)),
                      a=_Quotient(state["exp_avg"], second, eps * root_correction, step_size * root_correction),
                      k=group["lr"] * group["weight_decay"] if decoupled else 0.0,
                      velocity=state["exp_avg"], accumulator=second)
    return terms


def _adamax(p, grad, state, group, before):
    beta1, _ = group["betas"]
    rate = (group["lr"] / (1 - beta1 ** _step_count(state))) / state["exp_inf"]
    return _Terms(rate=rate, a=rate * state["exp_avg"], velocity=state["exp_avg"], accumulator=state["exp_inf"])


def _nadam(p, grad, state, group, before):
    beta1, beta2 = group["betas"]
    lr, psi = group["lr"], group["momentum_decay"]
    step = _step_count(state)
    mu = beta1 * (1. - 0.5 * (0.96 ** (step * psi)))
    mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * psi)))
    product = float(state["mu_product"])
    # torch < 2.0 multiplies mu into the next product a second time (pytorch/pytorch#92699): what it applied.
    product_next = product * mu * mu_next if _TORCH_MAJOR < 2 else product * mu_next
    on_grad = lr * (1. - mu) / (1. - product)
    on_momentum = lr * mu_next / (1. - product_next)
    denominator = state["exp_avg_sq"].div(1 - beta2 ** step).sqrt().add_(group["eps"])
    g = _signed(grad, group)
    decoupled = group.get("decoupled_weight_decay", False)
    a = (on_grad * g).add_(state["exp_avg"], alpha=on_momentum).div_(denominator)
    k = lr * group["weight_decay"] if decoupled else (on_grad * group["weight_decay"]) / denominator
    return _Terms(rate=(on_grad + on_momentum) / denominator, a=a, k=k, velocity=state["exp_avg"], accumulator=state["exp_avg_sq"])


def _radam(p, grad, state, group, before):
    beta1, beta2 = group["betas"]
    step = _step_count(state)
    correction1, correction2 = 1 - beta1 ** step, 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * step * (beta2 ** step) / correction2
    lr = group["lr"]
    if rho > 5.:
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        rate = (lr * rect / correction1) * (math.sqrt(correction2) / state["exp_avg_sq"].sqrt().add_(group["eps"]))
    else:
        rate = torch.full_like(p, lr / correction1)
    decoupled = group.get("decoupled_weight_decay", False)
    return _Terms(rate=rate, a=rate * state["exp_avg"], k=lr * group["weight_decay"] if decoupled else 0.0,
                  velocity=state["exp_avg"], accumulator=state["exp_avg_sq"])


def _measured(p, grad, state, group, before):
    return _Terms(update=p.detach() - before)


class _Pack(object):
    """Parameters recorded together (src/core/optim/telemetry.ts's per-tensor statistics, taken per member): a large
    parameter alone (its own tensors, no copy), or small ones of one group and step concatenated.

    `samples` indexes the pack's flat vector: first every member's share of the overall strided sample (global
    positions divisible by the overall stride), then each member's own strided sample; `split` cuts it so.
    `windows` cut the flat vector into pieces of at most WINDOW_SIZE elements: (start, stop, members, lengths), the
    members (by position in the pack) with a piece in the window and their pieces' lengths."""

    __slots__ = ("members", "lengths", "starts", "samples", "split", "length_tensor", "windows")

    def __init__(self, members, offsets, stride):
        # members: (index, name, parameter) in the order of the optimizer's parameters.
        self.members = members
        self.lengths = [parameter.numel() for _, _, parameter in members]
        self.starts = [sum(self.lengths[:k]) for k in range(len(members))]
        overall, own = [], []
        for (index, _, _), start, size in zip(members, self.starts, self.lengths):
            first = start + (-offsets[index]) % stride
            overall.append(torch.arange(first, max(first, start + size), stride))
            own.append(torch.arange(start, start + size, _stride(size)))
        self.samples = torch.cat(overall + own)
        self.split = [sum(piece.numel() for piece in overall)] + [piece.numel() for piece in own]
        self.length_tensor = torch.tensor(self.lengths)
        self.windows, pieces, start, used = [], [], 0, 0
        for member, size in enumerate(self.lengths):
            taken = 0
            while taken < size:
                length = min(size - taken, WINDOW_SIZE - used)
                pieces.append((member, length))
                taken, used = taken + length, used + length
                if used == WINDOW_SIZE:
                    self.windows.append(self._window(start, pieces))
                    pieces, start, used = [], start + used, 0
        if pieces:
            self.windows.append(self._window(start, pieces))

    @staticmethod
    def _window(start, pieces):
        lengths = [length for _, length in pieces]
        return (start, start + sum(lengths), [member for member, _ in pieces], lengths)

    def flat(self, tensors):
        """The members' tensors as one flat vector: a view of a lone member's."""
        return tensors[0].reshape(-1) if len(tensors) == 1 else torch.cat([tensor.reshape(-1) for tensor in tensors])

    def state(self, optimizer):
        """The members' state, flat like flat()'s vectors (the rules work elementwise)."""
        states = [optimizer.state[parameter] for _, _, parameter in self.members]
        shape = self.members[0][2].shape
        return {key: self.flat([state[key] for state in states]) if torch.is_tensor(value) and key not in _SCALAR_STATE and value.shape == shape else value
                for key, value in states[0].items()}

    def ends(self, values):
        """Each member's largest values, then its smallest: [max_1..max_n, min_1..min_n]. One aminmax per member up to
        eight (segment_reduce costs as much as a dozen of them), then two segment_reduce calls for all."""
        if len(self.members) <= 8:
            ranges = [torch.aminmax(part) for part in values.split_with_sizes(self.lengths)]
            return torch.stack([high for _, high in ranges] + [low for low, _ in ranges])
        return torch.cat([torch.segment_reduce(values, "max", lengths=self.length_tensor), torch.segment_reduce(values, "min", lengths=self.length_tensor)])

    def norms(self, values):
        """Each member's norm (0-dimensional tensors), by vector_norm: Debian's torch has the reference BLAS, whose dot
        is five times slower."""
        return _norms(values.split_with_sizes(self.lengths))

    def segment(self, values, member):
        return values[self.starts[member]:self.starts[member] + self.lengths[member]]


class _Rule(object):
    def __init__(self, name, terms, adaptive, copies=None):
        self.name, self.terms, self.adaptive = name, terms, adaptive
        # What must be copied before a recorded step (state the step overwrites), by parameter; None: nothing.
        self.copies = copies


def _copy_acc_delta(p, state):
    return state["acc_delta"].clone() if "acc_delta" in state else torch.zeros_like(p, memory_format=torch.preserve_format)


def _copy_param(p, state):
    return p.detach().clone()


def _rule_of(optimizer):
    """The rule of a torch.optim class (subclasses too: they are assumed to keep its update), else norms only."""
    optim = torch.optim
    known = [
        ("AdamW", _adam(True), True, None), ("Adam", _adam(False), True, None), ("SGD", _sgd, False, None),
        ("Adagrad", _adagrad, True, None), ("RMSprop", _rmsprop, True, None), ("Adadelta", _adadelta, True, _copy_acc_delta),
        ("Adamax", _adamax, True, None), ("NAdam", _nadam, True, None), ("RAdam", _radam, True, None),
    ]
    for name, terms, adaptive, copies in known:
        cls = getattr(optim, name, None)
        if cls is not None and isinstance(optimizer, cls):
            return _Rule(name, terms, adaptive, copies)
    return _Rule(type(optimizer).__name__, _measured, False, _copy_param)


# ------------------------------------------------------------------------------------------------ transport


class _Sender(object):
    """Hands messages to a background thread that writes them in batches (one write per FLUSH_SECONDS at most).
    put() never blocks: beyond BUFFER_LIMIT waiting messages it drops and counts."""

    def __init__(self, write, close, limit=BUFFER_LIMIT, on_read=None, readable=None):
        self._write, self._close, self._limit = write, close, limit
        self._on_read, self._readable = on_read, readable
        self._queue = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self.dropped = 0
        self.failed = None
        self._thread = threading.Thread(target=self._run, name="gradlens-watch", daemon=True)
        self._thread.start()

    def put(self, message, essential=False):
        with self._lock:
            if self.failed is None and (essential or len(self._queue) < self._limit):
                self._queue.append(message)
                return True
            self.dropped += 1
            return False

    def _take(self):
        with self._lock:
            taken, self._queue = self._queue, []
            return taken

    def _run(self):
        while True:
            closing = self._closing
            self._read()
            taken = self._take()
            if taken and self.failed is None:
                try:
                    self._write("".join(json.dumps(message, separators=(",", ":")) + "\n" for message in taken))
                except (OSError, ValueError) as error:
                    self.failed = error
            if closing:
                break
            self._wake.wait(FLUSH_SECONDS)
        try:
            self._close()
        except OSError:
            pass

    def _read(self):
        if self._readable is None or self.failed is not None:
            return
        try:
            for line in self._readable():
                self._on_read(line)
        except (OSError, ValueError):
            pass

    def close(self, timeout=CLOSE_SECONDS):
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)


def _socket_sender(path, on_read):
    """A connection to the extension's socket (a Unix domain socket; a named pipe on Windows)."""
    if hasattr(socket, "AF_UNIX") and not path.startswith("\\\\.\\pipe\\"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(2.0)
        connection.connect(path)
        # A dashboard that takes nothing for this long is gone: the sender gives up (and counts what it drops).
        connection.settimeout(SEND_TIMEOUT_SECONDS)
        received = [b""]

        def readable():
            lines = []
            connection.setblocking(False)
            try:
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    received[0] += chunk
            except (BlockingIOError, InterruptedError):
                pass
            finally:
                connection.settimeout(SEND_TIMEOUT_SECONDS)
            *complete, received[0] = received[0].split(b"\n")
            for line in complete:
                lines.append(line.decode("utf-8", "replace"))
            return lines

        def close():
            try:
                connection.shutdown(socket.SHUT_WR)
            finally:
                connection.close()

        return _Sender(lambda text: connection.sendall(text.encode("utf-8")), close, on_read=on_read, readable=readable)
    pipe = open(path, "wb", buffering=0)
    return _Sender(lambda text: pipe.write(text.encode("utf-8")), pipe.close)


def _file_sender(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    log = open(path, "a", encoding="utf-8")

    def write(text):
        # Flushed at once: a killed job leaves every line written so far (and at most one cut-off line).
        log.write(text)
        log.flush()

    return _Sender(write, log.close)


def _script():
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path else None


def _log_path(name, log_dir, started):
    script = _script()
    directory = log_dir or os.environ.get(LOG_DIR_VARIABLE) or os.path.join(os.path.dirname(script) if script else os.getcwd(), "gradlens-runs")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "run"
    path = os.path.join(directory, "%s-%s.jsonl" % (safe, stamp))
    counter = 1
    while os.path.exists(path):
        counter += 1
        path = os.path.join(directory, "%s-%s-%d.jsonl" % (safe, stamp, counter))
    return path


# ------------------------------------------------------------------------------------------------ the watch

_OPEN = weakref.WeakSet()


def _hyperparameters(group):
    values = {}
    for key, value in group.items():
        if key == "params":
            continue
        if isinstance(value, bool) or value is None or isinstance(value, str):
            values[key] = value
        elif isinstance(value, int):
            values[key] = value
        elif isinstance(value, float):
            values[key] = _number(value)
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            values[key] = [_number(v) for v in value]
    return values


class Watch(object):
    """Records optimizer.step() of a training run; see gradlens.watch()."""

    def __init__(self, optimizer, model=None, name=None, every=1, detail=None, log_dir=None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError("gradlens.watch needs a torch.optim optimizer, got %s" % type(optimizer).__name__)
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError("gradlens.watch: every must be a positive integer, got %r" % (every,))
        self.optimizer = optimizer
        self.every = every
        self.rule = _rule_of(optimizer)
        self.started = time.time()
        self._clock = time.perf_counter()
        script = _script()
        self.name = name or (os.path.splitext(os.path.basename(script))[0] if script else "python")
        names = {}
        if model is not None:
            names = {id(parameter): key for key, parameter in model.named_parameters()}
        self._params = []
        for g, group in enumerate(optimizer.param_groups):
            for i, parameter in enumerate(group["params"]):
                self._params.append((names.get(id(parameter), "group%d.param%d" % (g, i)), parameter, g))
        sizes = [parameter.numel() for _, parameter, _ in self._params]
        self._size = sum(sizes)
        self._offsets = [sum(sizes[:k]) for k in range(len(sizes))]
        # Packs by which parameters have a gradient and their step counts (these rarely change).
        self._packs = {}
        # Reused memory for a window of a record's temporaries (Adam's update): fresh allocations each record cost page
        # faults that outweigh the arithmetic.
        self._scratch_size = min(WINDOW_SIZE, self._size)
        self._buffers = {}
        known = [entry[0] for entry in self._params]
        if detail is not None and detail not in known:
            raise ValueError("gradlens.watch: no parameter %s (the parameters are %s)" % (detail, ", ".join(known)))
        self.detail = detail
        # Tensors the dashboard asked for (their rates go with the next recorded step), by request id.
        self._asked = []
        self.step = 0
        self._pending = None
        self._answers = []
        self._before = None
        self._closed = False
        self._failed = False
        self.note = None if self.rule.adaptive or self.rule.name == "SGD" else "effective learning rate not known for %s" % self.rule.name
        socket_path = os.environ.get(SOCKET_VARIABLE)
        self.log_path = None
        self.live = False
        self._sender = None
        if socket_path and log_dir is None:
            try:
                self._sender = _socket_sender(socket_path, self._received)
                self.live = True
            except OSError as error:
                sys.stderr.write("gradlens.watch: cannot reach the GradLens dashboard at %s (%s); logging to a file\n" % (socket_path, error))
        if self._sender is None:
            self.log_path = _log_path(self.name, log_dir, self.started)
            self._sender = _file_sender(self.log_path)
        self._sender.put(self._header(script), essential=True)
        self._original_step = None
        self._hooks = []
        self._attach()
        _OPEN.add(self)

    # -------------------------------------------------------------- hooking step()

    def _attach(self):
        optimizer = self.optimizer
        if hasattr(optimizer, "register_step_post_hook"):
            self._hooks = [
                optimizer.register_step_pre_hook(lambda opt, args, kwargs: self._before_step()),
                optimizer.register_step_post_hook(lambda opt, args, kwargs: self._after_step(None)),
            ]
            return
        original = optimizer.step
        watch = weakref.ref(self)

        def step(*args, **kwargs):
            active = watch()
            if active is not None:
                active._before_step()
            result = original(*args, **kwargs)
            if active is not None:
                active._after_step(result)
            return result

        step.__wrapped__ = original
        step.__doc__ = getattr(original, "__doc__", None)
        self._original_step = original
        optimizer.step = step

    def _detach(self):
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        if self._original_step is not None:
            # The instance attribute goes: the class's step() is what remains.
            self.optimizer.__dict__.pop("step", None)
            self._original_step = None

    def _scratch(self, count, like):
        """count elements of the scratch buffer of `like`'s dtype and device."""
        key = (like.dtype, like.device)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = torch.empty(self._scratch_size, dtype=like.dtype, device=like.device)
        return buffer[:count]

    def _packed(self, stride):
        """The parameters with a gradient as packs: a large one alone, small ones by group, dtype, device, step count
        and the tensors their state holds (the rules read one step count and one set of buffers per pack), up to
        PACK_SIZE elements each."""
        state = self.optimizer.state
        closed, open_ = [], {}
        for index, (name, parameter, group) in enumerate(self._params):
            size = parameter.numel()
            if parameter.grad is None or size == 0:
                continue
            if size >= PACKED_SIZE:
                closed.append([index])
                continue
            own = state[parameter]
            buffers = tuple(field for field, value in own.items() if torch.is_tensor(value) and field not in _SCALAR_STATE)
            key = (group, parameter.dtype, parameter.device, None if "step" not in own else _step_count(own), buffers)
            pack = open_.get(key)
            if pack is not None and pack[1] + size > PACK_SIZE:
                closed.append(pack[0])
                pack = None
            if pack is None:
                pack = open_[key] = [[], 0]
            pack[0].append(index)
            pack[1] += size
        closed.extend(members for members, _ in open_.values())
        key = tuple(tuple(members) for members in sorted(closed))
        packs = self._packs.get(key)
        if packs is None:
            if len(self._packs) > 64:
                self._packs.clear()
            packs = self._packs[key] = [_Pack([(k,) + self._params[k][:2] for k in members], self._offsets, stride) for members in key]
        return packs

    def _recorded(self, step):
        return step == 1 or step % self.every == 0

    def _before_step(self):
        if self._closed or self._failed:
            return
        self._emit_pending()
        self._before = None
        if self.rule.copies is not None and self._recorded(self.step + 1):
            state = self.optimizer.state
            self._before = {id(p): self.rule.copies(p, state[p]) for _, p, _ in self._params if p.grad is not None}

    def _after_step(self, result):
        if self._closed or self._failed:
            return
        self.step += 1
        if not self._recorded(self.step):
            return
        try:
            with torch.no_grad():
                record = self._record()
        except Exception as error:  # noqa: BLE001 -- a failure here must never stop the training
            self._failed = True
            sys.stderr.write("gradlens.watch: stopped recording at step %d: %s: %s\n" % (self.step, type(error).__name__, error))
            return
        finally:
            self._before = None
        if torch.is_tensor(result) and result.numel() == 1:
            record["loss"] = _number(result.item())
        elif isinstance(result, (int, float)) and not isinstance(result, bool):
            record["loss"] = _number(result)
        self._pending = {"type": "step", "seconds": time.perf_counter() - self._clock, "record": record}
        if self._answers:
            self._pending["answers"], self._answers = self._answers, []

    def _emit_pending(self):
        if self.live and self._sender.failed is not None:
            self._continue_in_file()
        if self._pending is not None:
            self._pending["dropped"] = self._sender.dropped
            self._sender.put(self._pending)
            self._pending = None

    def _continue_in_file(self):
        """The dashboard went away (VS Code closed): the rest of the run goes to a log, which says so."""
        failed = self._sender
        self.live = False
        self.log_path = _log_path(self.name, None, self.started)
        self._sender = _file_sender(self.log_path)
        self._sender.dropped = failed.dropped
        header = self._header(_script())
        header["note"] = "; ".join(filter(None, [self.note, "streamed live until step %d, then the dashboard went away (%s)" % (self.step, failed.failed)]))
        self._sender.put(header, essential=True)
        sys.stderr.write("gradlens.watch: the dashboard went away at step %d (%s); the run goes on in %s\n" % (self.step, failed.failed, self.log_path))
        failed.close(timeout=0)

    # -------------------------------------------------------------- records

    def _header(self, script):
        groups = [_hyperparameters(group) for group in self.optimizer.param_groups]
        return {
            "type": "run", "version": LOG_VERSION, "name": self.name, "script": script, "pid": os.getpid(),
            "startedAt": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "optimizer": self.rule.name, "class": type(self.optimizer).__name__, "torch": torch.__version__,
            "hyperparameters": groups[0] if groups else {}, "groups": groups, "every": self.every,
            "tensors": [{"name": name, "shape": list(parameter.shape)} for name, parameter, _ in self._params],
            "adaptive": self.rule.adaptive, "detailTensor": self.detail, "note": self.note,
        }

    def _record(self):
        optimizer = self.optimizer
        groups = optimizer.param_groups
        # Per member: the positions of its norms (|p + a| and |k*p + a| in `norms`, by window) and the factor that turns
        # them into |p_before| and |update|; per pack the gradient's and velocity's in `later`; all read back at once.
        norms, later, layout = [], [], []
        ratio_by_tensor = {name: 0.0 for name, _, _ in self._params}
        rates_by_tensor = {name: None for name, _, _ in self._params} if self.rule.adaptive else None
        low, high, overall = math.inf, -math.inf, []
        asked, self._asked = self._asked, []
        wanted = {self.detail} | {tensor for tensor, _ in asked}
        details = {}
        # Positions in `later` of the packs' velocities (the rest are their gradients).
        velocities = set()
        for pack in self._packed(_stride(self._size)):
            members = pack.members
            count = len(members)
            parameters = [parameter for _, _, parameter in members]
            grad = pack.flat([parameter.grad for parameter in parameters])
            value = pack.flat([parameter.detach() for parameter in parameters])
            before = pack.flat([self._before[id(parameter)] for parameter in parameters]) if self._before else None
            group = groups[self._params[members[0][0]][2]]
            terms = self.rule.terms(value, grad, pack.state(optimizer), group, before)
            if rates_by_tensor is not None:
                # Before the norms below, which work in place in the rule's tensors. Samples are copies (.double() would
                # not copy a float64 tensor; index_select does).
                rate = terms.rate
                decreasing = isinstance(rate, _RateOf)
                # A decreasing rate = function(source): its lowest rates are the largest sources'. One function call for
                # the ends and every sample (each call is a handful of small torch operations).
                source = rate.source if decreasing else rate
                taken = torch.cat([pack.ends(source), source.index_select(0, pack.samples)]).double()
                rates = rate.function(taken) if decreasing else taken
                ends = rates[:2 * count].tolist()
                lows, highs = (ends[:count], ends[count:]) if decreasing else (ends[count:], ends[:count])
                samples = rates[2 * count:].split_with_sizes(pack.split)
                if samples[0].numel():
                    overall.append(samples[0])
                for member, (_, name, _) in enumerate(members):
                    rates_by_tensor[name] = (samples[1 + member], lows[member], highs[member])
                    if name in wanted:
                        segment = pack.segment(source, member)
                        accumulator = None if terms.accumulator is None else pack.segment(terms.accumulator, member)
                        details[name] = (_listed(rate.function(segment.to(torch.float64, copy=True)) if decreasing else segment),
                                         _listed(pack.segment(grad, member)), _listed(accumulator))
                low, high = min([low] + lows), max([high] + highs)
            k = terms.k
            # Per member: the positions of its (|p_before|, |update|) norm pairs in `norms`, one pair per window.
            positions = [[] for _ in members]
            if terms.update is None and isinstance(k, float):
                # p = p_before*(1 - k) - a: |update| = |k*p + a|/(1 - k), |p_before| = |p + a|/(1 - k). In place in u, a
                # window at a time: u = (k*p + a)/gamma, then u + ((1 - k)/gamma)*p = (p + a)/gamma. A tensor a is u
                # (gamma 1); a = c*q, q a _Quotient, is computed into scratch: u = q (gamma c), or, with k, u = p + (c/k)*q
                # in one pass (gamma k).
                a = terms.a
                quotient = isinstance(a, _Quotient)
                gamma = (k if k != 0.0 else a.scale) if quotient else 1.0
                for start, stop, in_window, lengths in pack.windows:
                    window = value[start:stop]
                    if quotient:
                        base, weight = (window, a.scale / k) if k != 0.0 else (None, 1.0)
                        u = a.into(self._scratch(stop - start, value), start, stop, base, weight)
                    else:
                        u = a[start:stop]
                        if k != 0.0:
                            u.add_(window, alpha=k)
                    changes = _norms(u.split_with_sizes(lengths))
                    befores = _norms(u.add_(window, alpha=(1.0 - k) / gamma).split_with_sizes(lengths))
                    for member, before_norm, change_norm in zip(in_window, befores, changes):
                        positions[member].append(len(norms))
                        norms += [before_norm, change_norm]
                factor = abs(gamma) / (1.0 - k)
            else:
                # Measured from a copy, or an elementwise k (L2 decay inside a per-element rate): the update itself.
                if terms.update is not None:
                    d = terms.update
                else:
                    d = (value * k).add_(terms.a).div_(1 - k).neg_()
                for member, (before_norm, change_norm) in enumerate(zip(pack.norms(value - d), pack.norms(d))):
                    positions[member].append(len(norms))
                    norms += [before_norm, change_norm]
                factor = 1.0
            for member, (_, name, _) in enumerate(members):
                layout.append((name, positions[member], factor))
            # The gradient's and the velocity's norms after the loop, in one call for every pack.
            later.append(grad)
            if terms.velocity is not None:
                velocities.add(len(later))
                later.append(terms.velocity)
        measured = torch.stack([*norms, *_norms(later)]).double().tolist() if norms else []
        parameter, change, gradient, velocity = 0.0, 0.0, 0.0, 0.0
        for name, at, factor in layout:
            before_norm = math.hypot(*[measured[index] for index in at]) * factor
            change_norm = math.hypot(*[measured[index + 1] for index in at]) * factor
            parameter, change = parameter + before_norm * before_norm, change + change_norm * change_norm
            ratio_by_tensor[name] = _number(change_norm / (before_norm or 1))
        for index in range(len(later)):
            if index in velocities:
                velocity += measured[len(norms) + index] ** 2
            else:
                gradient += measured[len(norms) + index] ** 2
        update_norm = math.sqrt(change)
        effective = None
        if rates_by_tensor is not None:
            effective = _summary(torch.cat(overall), low, high) if overall else None
            single = len(self._params) == 1
            for name, entry in rates_by_tensor.items():
                if entry is not None:
                    rates_by_tensor[name] = effective if single else _summary(*entry)
        detail = details.get(self.detail)
        answers = []
        for tensor, request in asked:
            found = details.get(tensor)
            answers.append({"requestId": request, "tensor": tensor, "values": found[0], "grad": found[1], "accumulator": found[2]} if found else
                           {"requestId": request, "tensor": tensor, "error": "%s has no gradient at step %d" % (tensor, self.step)})
        self._answers = answers
        lrs = [_number(group["lr"]) for group in groups]
        return {
            "step": self.step, "epoch": 0, "lr": lrs[0] if lrs else None, "lrByGroup": lrs, "loss": None, "fullLoss": None,
            "gradNorm": _number(math.sqrt(gradient)), "updateNorm": _number(update_norm),
            "updateRatio": _number(update_norm / (math.sqrt(parameter) or 1)), "updateRatioByTensor": ratio_by_tensor,
            "velocityNorm": _number(math.sqrt(velocity)) if velocities else None,
            "effectiveLr": effective, "effectiveLrByTensor": rates_by_tensor,
            "effectiveLrDetail": detail[0] if detail else None,
            "gradDetail": detail[1] if detail else None,
            "accumulatorDetail": detail[2] if detail else None,
            "evaluations": 0, "stepSize": None, "warning": self.note if self.step == 1 else None, "params": None,
        }

    # -------------------------------------------------------------- the user's API

    def log(self, loss=None, epoch=None, **scalars):
        """Adds the loss (and other scalars: val_loss=..., accuracy=...) to the latest step's record. A step that
        `every` leaves out keeps no record: its values are not kept either."""
        if self._pending is None:
            return
        record = self._pending["record"]
        if loss is not None:
            record["loss"] = _number(loss.item() if torch.is_tensor(loss) else loss)
        if epoch is not None:
            record["epoch"] = int(epoch)
        if scalars:
            extra = record.setdefault("scalars", {})
            for key, value in scalars.items():
                extra[key] = _number(value.item() if torch.is_tensor(value) else value)

    @property
    def dropped(self):
        """Records dropped because the dashboard did not keep up (never the script's steps)."""
        return self._sender.dropped

    def _received(self, line):
        """A line from the dashboard (the sender's thread): {"type": "detail", "tensor": name, "requestId": n} asks for
        a parameter's every rate, answered with the next recorded step."""
        try:
            message = json.loads(line)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "detail" and isinstance(message.get("requestId"), int):
            # list.append is atomic: the training thread takes the list whole in _record().
            self._asked.append((str(message.get("tensor")), message["requestId"]))

    def close(self):
        """Ends the run: writes the last record and the end of the log, and gives optimizer.step back."""
        if self._closed:
            return
        self._closed = True
        self._detach()
        self._emit_pending()
        self._sender.put({"type": "end", "step": self.step, "seconds": time.perf_counter() - self._clock,
                          "dropped": self._sender.dropped, "failed": self._failed}, essential=True)
        self._sender.close()
        _OPEN.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        where = "live in the dashboard" if self.live else self.log_path
        return "<gradlens.watch %s: %s, step %d, %s>" % (self.name, self.rule.name, self.step, where)


@atexit.register
def _close_all():
    for watch in list(_OPEN):
        watch.close()
