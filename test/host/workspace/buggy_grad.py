"""A NumPy problem file: a linear least-squares loss whose gradient has one wrong element."""
import numpy as np

_X = np.array([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
_y = np.array([1.0, -1.0, 0.5, 2.0])


def _residual(p):
    return _X @ p["w"] - _y


def _buggy_grad(p):
    g = _X.T @ _residual(p) / len(_y)
    g[2] *= 2  # the bug: one element doubled
    return {"w": g}


least_squares = {
    "params": {"w": np.array([0.3, -0.2, 0.1])},
    "f": lambda p: 0.5 * float(_residual(p) @ _residual(p)) / len(_y),
    "grad": _buggy_grad,
}


def _raises(p):
    raise ValueError("shapes do not line up")


raises_in_f = {"params": {"w": np.zeros(2)}, "f": _raises, "grad": lambda p: {"w": np.zeros(2)}}

bowl = {
    "params": {"w": np.array([1.0, -2.0])},
    "f": lambda p: float(p["w"] @ p["w"]),
    "grad": lambda p: {"w": 2 * p["w"]},
    "hvp": lambda p, v: {"w": 2 * v["w"]},
}
