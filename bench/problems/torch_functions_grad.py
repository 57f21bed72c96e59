"""The problems of bench/torch.ts: custom autograd Functions with their own backward, as PyTorch users
write them. `elementwise`: a cheap elementwise Function of n = 10,000 inputs (n outputs); `conv`: a
small 1-D convolution written with unfold (444 inputs, 448 outputs). Both backward passes are right.
"""
import torch

N = 10_000


class CubePlusSin(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3 + torch.sin(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (3 * x ** 2 + torch.cos(x))


class Conv1d(torch.autograd.Function):
    """y[n, o, t] = sum_{c, k} w[o, c, k] x[n, c, t + k] (valid padding, stride 1)."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        windows = x.unfold(2, weight.shape[2], 1)  # n, c, t, k
        return torch.einsum("nctk,ock->not", windows, weight)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        windows = x.unfold(2, weight.shape[2], 1)
        grad_weight = torch.einsum("not,nctk->ock", grad_out, windows)
        grad_x = torch.zeros_like(x)
        for k in range(weight.shape[2]):
            grad_x[:, :, k:k + grad_out.shape[2]] += torch.einsum("not,oc->nct", grad_out, weight[:, :, k])
        return grad_x, grad_weight


_generator = torch.Generator().manual_seed(0)

elementwise = {"fn": CubePlusSin.apply, "inputs": {"x": torch.randn(N, generator=_generator, dtype=torch.float64, requires_grad=True)}}

conv = {
    "fn": Conv1d.apply,
    "inputs": {
        "x": torch.randn(4, 3, 32, generator=_generator, dtype=torch.float64, requires_grad=True),
        "weight": torch.randn(4, 3, 5, generator=_generator, dtype=torch.float64, requires_grad=True),
    },
}
