"""The torch side of bench/python.ts: torch.autograd.gradcheck on the function of cubic_grad.py written
with torch, float64, at the same point, with GradLens's (and torch's) eps, atol and rtol. Its default
fast_mode=False builds the full numerical Jacobian: with n inputs and one output, 2n evaluations of
the function, plus the analytic Jacobian by backward. Only gradcheck is timed (not the import of torch).
Prints JSON.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cubic_grad import N, START  # noqa: E402


def cubic_mean(w):
    return (w * w * w + 2 * w).sum() / N


w = torch.tensor(START, dtype=torch.float64, requires_grad=True)
started = time.perf_counter()
passed = torch.autograd.gradcheck(cubic_mean, (w,), eps=1e-6, atol=1e-5, rtol=1e-3)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "passed": bool(passed), "torch": torch.__version__, "threads": torch.get_num_threads()}))
