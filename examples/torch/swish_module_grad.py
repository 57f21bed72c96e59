"""A small network (Linear -> Swish -> Linear) whose activation is a custom autograd Function with a
hand-written backward, checked as a module: every parameter (named as named_parameters() names them,
fc1.weight[2,3]) under a mean squared error to fixed targets. The input x does not require grad, so it
is a constant.

    swish(z) = z * sigmoid(z),   swish'(z) = sigmoid(z) + z * sigmoid(z) * (1 - sigmoid(z))

The buggy twin's backward keeps only sigmoid(z): the gradients of fc1's weight and bias (before the
activation) are wrong, fc2's (after it) are right.

    gradlens check examples/torch/swish_module_grad.py
"""
import torch


class Swish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * torch.sigmoid(z)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        s = torch.sigmoid(z)
        return grad_out * (s + z * s * (1 - s))


class SwishMissingTerm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * torch.sigmoid(z)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        # BUG: d(z * sigmoid(z))/dz is not sigmoid(z): the product rule's z * sigmoid'(z) is missing.
        return grad_out * torch.sigmoid(z)


class SwishNet(torch.nn.Module):
    def __init__(self, activation):
        super().__init__()
        generator = torch.Generator().manual_seed(3)
        self.fc1 = torch.nn.Linear(3, 4).double()
        self.fc2 = torch.nn.Linear(4, 2).double()
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
        self.activation = activation

    def forward(self, x):
        return self.fc2(self.activation.apply(self.fc1(x)))


_generator = torch.Generator().manual_seed(4)
_x = torch.randn(6, 3, generator=_generator, dtype=torch.float64)
_targets = torch.randn(6, 2, generator=_generator, dtype=torch.float64)


def mse(output):
    return ((output - _targets) ** 2).mean()


swishNet = {"module": SwishNet(Swish), "inputs": {"x": _x}, "loss": mse}

swishNetMissingTerm = {"module": SwishNet(SwishMissingTerm), "inputs": {"x": _x}, "loss": mse}
