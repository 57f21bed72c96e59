"""Kinks: where a gradient check "fails" although the code is right. The Python twin of
../relu-kink.grad.ts; see there for the whole story.

At a point where the loss is not differentiable (ReLU max(0, z) at z = 0, the SVM hinge at margin 0,
max-pooling with a tie) the analytic gradient picks one slope (here ReLU'(0) = 0, the usual
`z > 0` mask) while the central difference averages the left and the right slope. GradLens
recognizes the pattern (the one-sided differences disagree with each other and the analytic value
lies between them) and reports `kink` instead of `fail`; kinks fail the check only with --strict.
When you see `kink`, move the point a little rather than "fixing" the gradient.

The model: one ReLU layer read out by fixed weights v,

    z = W x + b,   f = v . max(0, z),   df/dz = v * [z > 0]
    df/dW = (df/dz) x^T,   df/db = df/dz

    gradlens check examples/python/relu_kink_grad.py
"""
import numpy as np

# Powers of two, so that W x + b below is computed exactly.
x = np.array([1.0, 2.0])
v = np.array([0.75, -0.5])


def relu_loss(p):
    z = p["W"] @ x + p["b"]
    return float(v @ np.maximum(0, z))


def relu_gradient(p):
    dz = v * (p["W"] @ x + p["b"] > 0)  # ReLU'(0) taken as 0
    return {"W": np.outer(dz, x), "b": dz}


# Exactly at a kink: z[0] = 0.5*1 + (-0.25)*2 + 0 = 0. The gradient is correct everywhere the loss is
# differentiable, but every parameter that moves z[0] (W[0,0], W[0,1] and b[0]) sits on the kink: for
# b[0] the slope is 0.75 to the right and 0 to the left, the central difference says 0.375 and the
# analytic gradient says 0. GradLens reports these three elements as kinks, the verdict is `kink`,
# and W[1,0], W[1,1], b[1] pass.
reluAtKink = {
    "description": "ReLU evaluated exactly at z = 0: verdict kink",
    "params": {
        "W": np.array([
            [0.5, -0.25],
            [0.25, 0.375],
        ]),
        "b": np.array([0.0, 0.125]),
    },
    "f": relu_loss,
    "grad": relu_gradient,
}

# The same code a little away from the kink (z[0] = 0.05): a clean pass.
reluAwayFromKink = {
    "description": "the same ReLU loss with z[0] = 0.05: passes",
    "params": {
        "W": np.array([
            [0.5, -0.25],
            [0.25, 0.375],
        ]),
        "b": np.array([0.05, 0.125]),
    },
    "f": relu_loss,
    "grad": relu_gradient,
}
