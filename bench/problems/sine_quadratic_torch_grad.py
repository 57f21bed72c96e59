"""The --jobs benchmark (bench/jobs.ts) in torch: f(x) = 1/2 sum x^2 + sum sin x over n = 10,000
parameters at the point of sine_quadratic_grad.py; the gradient is autograd's. sine_quadratic_gradcheck.py
times torch.autograd.gradcheck on the same function."""
import numpy as np
import torch

N = 10000
START = torch.tensor(np.sin(1.0 + np.arange(N)) * 2, dtype=torch.float64)


def sine_quadratic_loss(x):
    return 0.5 * (x * x).sum() + torch.sin(x).sum()


sine_quadratic = {"params": {"x": START.clone()}, "f": lambda p: sine_quadratic_loss(p["x"])}
