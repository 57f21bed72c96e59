"""Softmax cross-entropy over a batch as a custom autograd Function of the logits (N x C), with the
class labels as a constant integer tensor (torch treats inputs that do not require grad as constants):

    L = -1/N sum_i log softmax(z_i)[y_i],     dL/dz = (softmax(z) - onehot(y)) / N

The buggy twin forgets the 1/N of the mean, so every element of the gradient is N = 4 times too large.

    gradlens check examples/torch/softmax_cross_entropy_grad.py
"""
import torch


def _softmax(logits):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    exp = shifted.exp()
    return exp / exp.sum(dim=1, keepdim=True)


class SoftmaxCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels):
        probs = _softmax(logits)
        ctx.save_for_backward(probs, labels)
        return -probs[torch.arange(len(labels)), labels].log().mean()

    @staticmethod
    def backward(ctx, grad_loss):
        probs, labels = ctx.saved_tensors
        grad = probs.clone()
        grad[torch.arange(len(labels)), labels] -= 1
        return grad_loss * grad / len(labels), None


class SoftmaxCrossEntropyMissingMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels):
        probs = _softmax(logits)
        ctx.save_for_backward(probs, labels)
        return -probs[torch.arange(len(labels)), labels].log().mean()

    @staticmethod
    def backward(ctx, grad_loss):
        probs, labels = ctx.saved_tensors
        grad = probs.clone()
        grad[torch.arange(len(labels)), labels] -= 1
        # BUG: the loss is a mean over the batch, its gradient is not divided by N. Fix: / len(labels).
        return grad_loss * grad, None


def _inputs():
    generator = torch.Generator().manual_seed(1)
    return {
        "logits": torch.randn(4, 3, generator=generator, dtype=torch.float64, requires_grad=True),
        "labels": torch.tensor([0, 2, 1, 2]),
    }


softmaxCrossEntropy = {"fn": SoftmaxCrossEntropy.apply, "inputs": _inputs()}

softmaxCrossEntropyMissingMean = {"fn": SoftmaxCrossEntropyMissingMean.apply, "inputs": _inputs()}
