#!/usr/bin/env bash
# System packages the test suite uses, from Debian's mirrors (run as root; CI runs it before npm ci).
#   python3-torch: PyTorch 1.13 for the optional oracle tier (test/unit/torch-oracle.test.ts), which
#                  compares optimizer trajectories with torch.optim; without it that tier is skipped.
set -uo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: not root, skipping system packages (the torch oracle tier will be skipped)" >&2
  exit 0
fi
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "install-system-deps: python3-torch already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq python3-torch >/dev/null \
  && echo "install-system-deps: installed python3-torch" \
  || echo "install-system-deps: could not install python3-torch; the torch oracle tier will be skipped" >&2
exit 0
