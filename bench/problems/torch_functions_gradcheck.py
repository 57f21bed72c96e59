"""The torch side of bench/torch.ts: torch.autograd.gradcheck on one problem of torch_functions_grad.py,
float64, eps, atol and rtol as GradLens's defaults, fast_mode as asked. Times the import of torch and
the problem file, and gradcheck alone. Prints JSON.

    python3 torch_functions_gradcheck.py NAME fast|full
"""
import json
import os
import sys
import time

started = time.perf_counter()
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_functions_grad as problems  # noqa: E402

imported = time.perf_counter()
problem = getattr(problems, sys.argv[1])
inputs = tuple(problem["inputs"].values())
checked = time.perf_counter()
passed = torch.autograd.gradcheck(problem["fn"], inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=sys.argv[2] == "fast")
seconds = time.perf_counter() - checked
print(json.dumps({"seconds": seconds, "importSeconds": imported - started, "passed": bool(passed), "torch": torch.__version__, "threads": torch.get_num_threads()}))
