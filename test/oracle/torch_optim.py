"""Reference trajectories from torch.optim (the independent oracle for test/unit/torch-oracle.test.ts).

Reads a JSON list of runs on stdin: {"name", "optimizer" (torch class name), "kwargs", "steps",
"problem": "rosenbrock" | "quadratic", "start": [..]}; prints {name: [[params after step 1], ...]}.
Runs in float64 on the CPU.
"""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def loss_fn(problem, x):
    if problem == "rosenbrock":
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    if problem == "quadratic":
        # f = 1/2 x^T diag(1, 10, 100) x + [1, -1, 1] . x
        a = torch.tensor([1.0, 10.0, 100.0])
        b = torch.tensor([1.0, -1.0, 1.0])
        return 0.5 * (a * x * x).sum() + (b * x).sum()
    raise ValueError(problem)


def trajectory(run):
    x = torch.tensor(run["start"], requires_grad=True)
    optimizer = getattr(torch.optim, run["optimizer"])([x], **run["kwargs"])

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(run["problem"], x)
        loss.backward()
        return loss

    points = []
    for _ in range(run["steps"]):
        optimizer.step(closure)
        points.append(x.detach().tolist())
    return points


def main():
    runs = json.load(sys.stdin)
    json.dump({run["name"]: trajectory(run) for run in runs}, sys.stdout)


if __name__ == "__main__":
    main()
