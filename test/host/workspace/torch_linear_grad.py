"""A fully connected layer as a custom autograd Function, y = x W^T + b, with its hand-written backward:

    grad_x = g W,   grad_W = g^T x,   grad_b = sum over the batch of g

where g = dL/dy (N x out). The buggy twin transposes grad_W: x^T g has the same shape as W only because
W is square here, which is exactly why the mistake survives until a gradient check. Its diagonal is
unchanged, so only the off-diagonal elements of W fail.

    gradlens check torch_linear_grad.py  (a copy of examples/torch/linear_function_grad.py for the host tests)
"""
import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        return grad_out @ weight, grad_out.T @ x, grad_out.sum(0)


class LinearTransposedGradWeight(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        # BUG: x^T g instead of g^T x (the weight gradient transposed). Fix: grad_out.T @ x.
        return grad_out @ weight, x.T @ grad_out, grad_out.sum(0)


def _inputs():
    generator = torch.Generator().manual_seed(0)
    return {
        "x": torch.randn(5, 3, generator=generator, dtype=torch.float64, requires_grad=True),
        "weight": torch.randn(3, 3, generator=generator, dtype=torch.float64, requires_grad=True),
        "bias": torch.randn(3, generator=generator, dtype=torch.float64, requires_grad=True),
    }


linear = {"fn": Linear.apply, "inputs": _inputs()}

linearTransposedGradWeight = {"fn": LinearTransposedGradWeight.apply, "inputs": _inputs()}
