"""The baseline of bench/python.ts: the central-difference loop a user writes by hand (CS231n's
eval_numerical_gradient) over the same NumPy f, in a fresh interpreter: 2n + 1 evaluations of f, the
point perturbed in place, and one evaluation of grad. Prints JSON: the loop's seconds, whether every
element passed torch's allclose criterion and the largest |analytic - numeric|, which the caller compares
with GradLens's: the same check, computed the same way.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cubic_grad import N, cubic  # noqa: E402

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3

started = time.perf_counter()
p = {"w": cubic["params"]["w"].copy()}
x = p["w"]
f = cubic["f"]
f(p)  # at the point itself: the 1 of 2n + 1 (GradLens uses it to tell kinks)
numeric = np.empty(N)
for i in range(N):
    old = x[i]
    x[i] = old + EPS
    plus = f(p)
    x[i] = old - EPS
    minus = f(p)
    x[i] = old
    numeric[i] = (plus - minus) / (2 * EPS)
analytic = cubic["grad"](p)["w"]
seconds = time.perf_counter() - started
error = np.abs(analytic - numeric)
passed = bool(np.all(error <= ATOL + RTOL * np.abs(numeric)))
print(json.dumps({"seconds": seconds, "evaluations": 2 * N + 1, "passed": passed, "maxAbsError": float(error.max())}))
