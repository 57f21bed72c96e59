#!/usr/bin/env bash
# System packages the test suite uses, from Debian's mirrors (run as root; CI runs it before npm ci).
#   python3-numpy: Debian's /usr/bin/python3 with NumPy, for the Python problem-file tests
#                  (test/unit/python.test.ts); without it those tests are skipped.
#   python3-torch: PyTorch 1.13 for the optional oracle tier (test/unit/torch-oracle.test.ts), which
#                  compares optimizer trajectories with torch.optim; without it that tier is skipped.
#   python3-debugpy: debugpy, for the test that a breakpoint in a Python problem file's grad is hit
#                  (test/unit/debug-runner.test.ts); without it that test is skipped.
set -uo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: not root, skipping system packages (the torch oracle and Python tiers may be skipped)" >&2
  exit 0
fi
missing=()
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
/usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
/usr/bin/python3 -c 'import debugpy' 2>/dev/null || missing+=(python3-debugpy)
if [ ${#missing[@]} = 0 ]; then
  echo "install-system-deps: python3-numpy, python3-torch and python3-debugpy already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null \
  && echo "install-system-deps: installed ${missing[*]}" \
  || echo "install-system-deps: could not install ${missing[*]}; the tiers that need them will be skipped" >&2
exit 0
