"""The torch side of bench/jobs.ts: torch.autograd.gradcheck on f(x) = 1/2 sum x^2 + sum sin x of
sine_quadratic_torch_grad.py (float64, GradLens's eps, atol and rtol, fast_mode=False). Prints JSON."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sine_quadratic_torch_grad as problem  # noqa: E402

x = problem.START.clone().requires_grad_(True)
started = time.perf_counter()
passed = torch.autograd.gradcheck(problem.sine_quadratic_loss, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
print(json.dumps({"seconds": time.perf_counter() - started, "passed": bool(passed), "threads": torch.get_num_threads()}))
