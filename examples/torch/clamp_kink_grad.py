"""A clamp to [0, 1] as a custom autograd Function. Its derivative is 1 inside the interval and 0
outside; at the ends it does not exist. Where an input sits exactly at 0 or 1, central differences see
half of each side (0.5) and a right backward (1 or 0) disagrees with them: GradLens reports a kink
there (a failure only with --strict), where torch.autograd.gradcheck just fails. Away from the ends
everything passes.

    gradlens check examples/torch/clamp_kink_grad.py
"""
import torch


class Clamp01(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(0, 1)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        # As torch's clamp: the gradient passes where min <= x <= max.
        return grad_out * ((x >= 0) & (x <= 1)).to(grad_out.dtype)


clampAtKink = {"fn": Clamp01.apply, "inputs": {"x": torch.tensor([-0.5, 0.0, 0.25, 0.75, 1.0, 1.5], dtype=torch.float64, requires_grad=True)}}

clampAwayFromKink = {"fn": Clamp01.apply, "inputs": {"x": torch.tensor([-0.5, 0.1, 0.25, 0.75, 0.9, 1.5], dtype=torch.float64, requires_grad=True)}}
