"""The independent side of test/unit/watch.test.ts: trains a small float64 MLP under gradlens.watch and, around
every step, measures what the watch should have recorded, by docs/optimizers.md's formulas from torch's state.

Reads a JSON list of cases on stdin: {"name", "optimizer" (torch class name), "kwargs", "steps", "logDir", and
optionally "widths": the MLP's [inputs, hidden..., outputs] (default [6, 5, 3]), "packing": [PACKED_SIZE,
PACK_SIZE, WINDOW_SIZE] for the watch, "frozenSteps": the last parameter has no gradient on that many first steps (its state
lags the others')};
prints {name: {"log": path, "steps": [{"step", "updateNorm" (measured: the parameters before and after the
step), "gradNorm", "velocityNorm", "ratio": {tensor: ...}, "rates": {tensor: [min, max]}, "detail": [...], "all": every rate, in the parameters' order}]}}.
The rates are written here from the documented formulas (each η with the state it reads), not taken from the
watch; Adadelta's u_{t-1} is copied before the step.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

import gradlens  # noqa: E402
import gradlens_watch  # noqa: E402

torch.set_default_dtype(torch.float64)


DEFAULT_PACKING = (gradlens_watch.PACKED_SIZE, gradlens_watch.PACK_SIZE, gradlens_watch.WINDOW_SIZE)


def documented_rate(name, group, state, before):
    """η per element of one parameter after step t (docs/optimizers.md), or None for SGD and unknown rules."""
    t = float(state["step"]) if "step" in state else None
    lr, eps = group["lr"], group.get("eps")
    if name == "Adagrad":
        return (lr / (1 + (t - 1) * group["lr_decay"])) / (torch.sqrt(state["sum"]) + eps)
    if name == "RMSprop":
        v = state["square_avg"]
        d = torch.sqrt(v - state["grad_avg"] ** 2) + eps if group["centered"] else torch.sqrt(v) + eps
        return lr / d
    if name == "Adadelta":
        return lr * torch.sqrt(before["acc_delta"] + eps) / torch.sqrt(state["square_avg"] + eps)
    if name in ("Adam", "AdamW"):
        b1, b2 = group["betas"]
        v = state["max_exp_avg_sq"] if group["amsgrad"] else state["exp_avg_sq"]
        return (lr / (1 - b1 ** t)) / (torch.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
    if name == "Adamax":
        b1, _ = group["betas"]
        return lr / ((1 - b1 ** t) * state["exp_inf"])
    if name == "NAdam":
        b1, b2 = group["betas"]
        psi = group["momentum_decay"]
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        product = float(state["mu_product"])
        # What PyTorch 1.13 applies (docs/optimizers.md#nadam: it counts mu_t twice in the second product).
        product_next = product * mu * mu_next if torch.__version__.startswith("1.") else product * mu_next
        d = torch.sqrt(state["exp_avg_sq"] / (1 - b2 ** t)) + eps
        return (lr * (1 - mu) / (1 - product) + lr * mu_next / (1 - product_next)) / d
    if name == "RAdam":
        b1, b2 = group["betas"]
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho <= 5:
            return torch.full_like(state["exp_avg"], lr / (1 - b1 ** t))
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return lr * r * math.sqrt(1 - b2 ** t) / ((torch.sqrt(state["exp_avg_sq"]) + eps) * (1 - b1 ** t))
    return None


def velocity(name, group, state):
    if name == "SGD" and group["momentum"] != 0:
        return state["momentum_buffer"]
    if name == "RMSprop" and group["momentum"] > 0:
        return state["momentum_buffer"]
    if name in ("Adam", "AdamW", "Adamax", "NAdam", "RAdam"):
        return state["exp_avg"]
    return None


def run(case):
    torch.manual_seed(0)
    widths = case.get("widths", (6, 5, 3))
    inputs, outputs = widths[0], widths[-1]
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    cls = getattr(torch.optim, case["optimizer"], None)
    if cls is None:
        # A rule GradLens does not know: norms only.
        class SignDescent(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-2):
                super().__init__(params, {"lr": lr})

            @torch.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p.add_(torch.sign(p.grad), alpha=-group["lr"])

        cls = SignDescent
    optimizer = cls(model.parameters(), **case["kwargs"])
    names = [name for name, _ in model.named_parameters()]
    gradlens_watch.PACKED_SIZE, gradlens_watch.PACK_SIZE, gradlens_watch.WINDOW_SIZE = case.get("packing", DEFAULT_PACKING)
    watch = gradlens.watch(optimizer, model=model, name=case["name"], log_dir=case["logDir"], detail=names[0])
    x = torch.randn(16, inputs)
    y = torch.randn(16, outputs)
    steps = []
    for _ in range(case["steps"]):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        if len(steps) < case.get("frozenSteps", 0):
            list(model.parameters())[-1].grad = None
        before = [p.detach().clone() for p in model.parameters()]
        acc = [optimizer.state[p]["acc_delta"].clone() if "acc_delta" in optimizer.state[p] else torch.zeros_like(p) for p in model.parameters()]
        optimizer.step()
        watch.log(loss=loss.item())
        group = optimizer.param_groups[0]
        entry = {"step": len(steps) + 1, "ratio": {}, "rates": {}}
        change = grad = param = vel = 0.0
        has_velocity = False
        for k, (name, p) in enumerate(model.named_parameters()):
            state = optimizer.state[p]
            if p.grad is None:
                # Not stepped: the watch records no rates and a zero ratio for it, and leaves it out of the norms.
                entry["ratio"][name] = 0.0
                continue
            delta = p.detach() - before[k]
            change += float((delta ** 2).sum())
            grad += float((p.grad ** 2).sum())
            param += float((before[k] ** 2).sum())
            entry["ratio"][name] = math.sqrt(float((delta ** 2).sum())) / (math.sqrt(float((before[k] ** 2).sum())) or 1)
            v = velocity(cls.__name__, group, state)
            if v is not None:
                has_velocity = True
                vel += float((v ** 2).sum())
            rate = documented_rate(cls.__name__, group, state, {"acc_delta": acc[k]})
            if rate is not None:
                entry["rates"][name] = [float(rate.min()), float(rate.max())]
                entry.setdefault("all", []).extend(rate.reshape(-1).tolist())
                if k == 0:
                    entry["detail"] = rate.reshape(-1).tolist()
        entry["updateNorm"] = math.sqrt(change)
        entry["gradNorm"] = math.sqrt(grad)
        entry["updateRatio"] = math.sqrt(change) / math.sqrt(param)
        entry["velocityNorm"] = math.sqrt(vel) if has_velocity else None
        entry["loss"] = loss.item()
        steps.append(entry)
    watch.close()
    return {"log": watch.log_path, "steps": steps}


if __name__ == "__main__":
    print(json.dumps({case["name"]: run(case) for case in json.load(sys.stdin)}))
