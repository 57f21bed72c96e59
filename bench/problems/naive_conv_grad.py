"""The --jobs benchmark's slow layer (bench/jobs.ts): a naive 2-D convolution in NumPy loops, as course
code writes it (CS231n conv_forward_naive), about 4 ms a forward: a full check of its 2 x 3 x 12 x 12
input and 4 x 3 x 3 x 3 weights makes 2 x 972 + 2 forwards."""
import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 12, 12))
W = rng.standard_normal((4, 3, 3, 3))


def conv_forward(inputs):
    x, w = inputs["x"], inputs["w"]
    n, _, height, width = x.shape
    filters, _, size, _ = w.shape
    out = np.zeros((n, filters, height - size + 1, width - size + 1))
    for i in range(n):
        for f in range(filters):
            for r in range(height - size + 1):
                for c in range(width - size + 1):
                    out[i, f, r, c] = np.sum(x[i, :, r:r + size, c:c + size] * w[f])
    return out


def conv_backward(inputs, dout):
    x, w = inputs["x"], inputs["w"]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    size = w.shape[2]
    for i in range(dout.shape[0]):
        for f in range(dout.shape[1]):
            for r in range(dout.shape[2]):
                for c in range(dout.shape[3]):
                    dx[i, :, r:r + size, c:c + size] += w[f] * dout[i, f, r, c]
                    dw[f] += x[i, :, r:r + size, c:c + size] * dout[i, f, r, c]
    return {"x": dx, "w": dw}


naive_conv = {"inputs": {"x": X, "w": W}, "forward": conv_forward, "backward": conv_backward}
