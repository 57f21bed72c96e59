/** The interpreter the Python tests use, and why they are skipped where it cannot run them. */
import { spawnSync } from 'node:child_process';

/** Debian's python3 with python3-numpy (scripts/install-system-deps.sh); python3 first on the PATH may lack NumPy. */
export const PYTHON = '/usr/bin/python3';

const numpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });

/** The skip reason of tests that need NumPy (false: they run). */
export const WITHOUT_NUMPY: string | false = numpy.status === 0
  ? false
  : `${PYTHON} cannot import numpy (scripts/install-system-deps.sh installs python3-numpy): ${(numpy.stderr || numpy.error?.message || '').trim().split('\n').pop()}`;

/** The skip reason of tests that need PyTorch (false: they run). */
export const WITHOUT_TORCH: string | false = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0
  ? false
  : `${PYTHON} cannot import torch (scripts/install-system-deps.sh installs python3-torch)`;
