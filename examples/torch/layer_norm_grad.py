"""Layer normalization as a custom autograd Function of x (N x D), gamma (D) and beta (D): every row is
normalized with its own mean and variance,

    xhat = (x - mean) / sqrt(var + eps),   y = gamma * xhat + beta

and with dxhat = g * gamma, per row,

    dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
    dgamma = sum over rows of g * xhat,   dbeta = sum over rows of g

The buggy twin drops the last term, the path through the variance (which depends on every x of the
row): every element of x fails, while gamma and beta stay right.

    gradlens check examples/torch/layer_norm_grad.py
"""
import torch

EPS = 1e-5


def _normalize(x):
    mean = x.mean(dim=1, keepdim=True)
    inv_std = 1 / ((x - mean) ** 2).mean(dim=1, keepdim=True).add(EPS).sqrt()
    return (x - mean) * inv_std, inv_std


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta):
        xhat, inv_std = _normalize(x)
        ctx.save_for_backward(xhat, inv_std, gamma)
        return gamma * xhat + beta

    @staticmethod
    def backward(ctx, grad_out):
        xhat, inv_std, gamma = ctx.saved_tensors
        dxhat = grad_out * gamma
        dx = inv_std * (dxhat - dxhat.mean(dim=1, keepdim=True) - xhat * (dxhat * xhat).mean(dim=1, keepdim=True))
        return dx, (grad_out * xhat).sum(0), grad_out.sum(0)


class LayerNormMissingVarianceTerm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta):
        xhat, inv_std = _normalize(x)
        ctx.save_for_backward(xhat, inv_std, gamma)
        return gamma * xhat + beta

    @staticmethod
    def backward(ctx, grad_out):
        xhat, inv_std, gamma = ctx.saved_tensors
        dxhat = grad_out * gamma
        # BUG: the variance depends on x too; the term - xhat * mean(dxhat * xhat) is missing.
        dx = inv_std * (dxhat - dxhat.mean(dim=1, keepdim=True))
        return dx, (grad_out * xhat).sum(0), grad_out.sum(0)


def _inputs():
    generator = torch.Generator().manual_seed(2)
    return {
        "x": torch.randn(3, 4, generator=generator, dtype=torch.float64, requires_grad=True),
        "gamma": (1 + 0.1 * torch.randn(4, generator=generator, dtype=torch.float64)).requires_grad_(),
        "beta": (0.1 * torch.randn(4, generator=generator, dtype=torch.float64)).requires_grad_(),
    }


layerNorm = {"fn": LayerNorm.apply, "inputs": _inputs()}

layerNormMissingVarianceTerm = {"fn": LayerNormMissingVarianceTerm.apply, "inputs": _inputs()}
