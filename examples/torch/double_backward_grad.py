"""Second-order checks of a backward pass (--order 2, torch.autograd.gradgradcheck): is the backward
itself differentiated right? That matters to everything that differentiates twice: Hessian-vector
products, gradient penalties, meta-learning.

    cube(x) = x^3,   backward: g * 3 x^2,   its derivative in x: g * 6 x

Both versions pass the first-order check (their backward computes the right numbers). The buggy twin
writes its backward with x.detach(): autograd then sees a backward that does not depend on x, so the
double backward is 0 where it should be g * 6 x, and only the second-order check fails.

    gradlens check examples/torch/double_backward_grad.py --order 2
"""
import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x ** 2


class CubeDetachedBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        # BUG (second order only): x.detach() cuts the backward off from x. Fix: use x itself.
        return grad_out * 3 * x.detach() ** 2


def _x():
    return torch.tensor([[0.5, -1.0, 1.5], [2.0, -0.25, 0.75]], dtype=torch.float64, requires_grad=True)


cube = {"fn": Cube.apply, "inputs": {"x": _x()}}

cubeDetachedBackward = {"fn": CubeDetachedBackward.apply, "inputs": {"x": _x()}}
