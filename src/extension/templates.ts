/**
 * Templates of New Problem File…: typed problem files that pass their own
 * gradient check as written (a unit test checks each one), so a user starts
 * from working code and edits it.
 */

export interface ProblemTemplate {
  id: 'scalar' | 'layer' | 'minibatch' | 'python' | 'torch' | 'layer-pair' | 'loss-with-gradient' | 'model-with-params';
  /** The language of the file: which glob, save-dialog filter and editor help it gets. */
  language: 'typescript' | 'python';
  label: string;
  detail: string;
  /** File name suggested in the save dialog. */
  fileName: string;
  source: string;
}

const SCALAR = `/**
 * A scalar loss over named parameters, checked with central differences.
 *
 *   f(W, b) = ½‖W x + b − y‖²
 *   ∂f/∂W   = r xᵀ,  ∂f/∂b = r        (r = W x + b − y)
 *   H·v     = (δr xᵀ, δr)  with  δr = v_W x + v_b   (the loss is quadratic)
 *
 * Run "GradLens: Check Gradients" (Ctrl+Alt+G), or the CodeLens above the export.
 */
import { defineProblem } from 'gradlens';

type Params = { W: number[][]; b: number[] };

const x = [0.5, -1.2, 2.0];
const y = [1.0, -0.5];

function residual({ W, b }: Params): number[] {
  return W.map((row, i) => row.reduce((sum, w, j) => sum + w * x[j], b[i]) - y[i]);
}

export const leastSquares = defineProblem<Params>({
  description: 'one linear layer, squared error, single sample',
  params: { W: [[0.1, -0.2, 0.3], [0.0, 0.4, -0.1]], b: [0.05, -0.05] },
  f: (p) => 0.5 * residual(p).reduce((sum, r) => sum + r * r, 0),
  grad: (p) => {
    const r = residual(p);
    return { W: r.map((ri) => x.map((xj) => ri * xj)), b: r };
  },
  hvp: (_p, v) => {
    const dr = v.W.map((row, i) => row.reduce((sum, w, j) => sum + w * x[j], v.b[i]));
    return { W: dr.map((d) => x.map((xj) => d * xj)), b: dr };
  },
});
`;

const LAYER = `/**
 * A layer checked through its backward pass (a vector-Jacobian product):
 * GradLens compares backward(inputs, g) with central differences of
 * g · forward(inputs) for a random g.
 *
 *   forward(x, W) = relu(W x)
 *   backward:      d = g ⊙ [W x > 0],  ∂/∂x = Wᵀ d,  ∂/∂W = d xᵀ
 *
 * Inputs sit away from ReLU's kink at 0 (a check there reports a kink, not a bug).
 */
import { defineLayer } from 'gradlens';

type Inputs = { x: number[]; W: number[][] };

function preActivation({ x, W }: Inputs): number[] {
  return W.map((row) => row.reduce((sum, w, j) => sum + w * x[j], 0));
}

export const reluLayer = defineLayer<Inputs, number[]>({
  description: 'relu(W x)',
  inputs: { x: [0.7, -1.1, 0.4], W: [[0.5, -0.2, 0.3], [-0.6, 0.1, 0.8]] },
  forward: (inputs) => preActivation(inputs).map((z) => Math.max(0, z)),
  backward: (inputs, gradOutput) => {
    const d = preActivation(inputs).map((z, i) => (z > 0 ? gradOutput[i] : 0));
    return {
      x: inputs.x.map((_, j) => inputs.W.reduce((sum, row, i) => sum + row[j] * d[i], 0)),
      W: d.map((di) => inputs.x.map((xj) => di * xj)),
    };
  },
});
`;

const MINIBATCH = `/**
 * A mini-batch loss: with \`data: { size: N }\`, f and grad receive the sample
 * indices of a batch (and no batch means the full data set). The optimizers
 * use it for SGD and mini-batch gradient descent (--batch-size).
 *
 *   f(w, b) = 1/m Σ_{i ∈ batch} log(1 + exp(−y_i (w·x_i + b)))     (logistic loss, y_i = ±1)
 *   ∂f/∂w   = 1/m Σ −y_i σ(−y_i z_i) x_i,  ∂f/∂b = 1/m Σ −y_i σ(−y_i z_i)
 */
import { defineProblem } from 'gradlens';

type Params = { w: number[]; b: number };

// A small fixed data set (no Math.random: the loss must be the same function every call).
const X = [[0.2, 1.0], [-1.3, 0.4], [0.9, -0.7], [1.5, 0.3], [-0.4, -1.2], [0.1, 0.8]];
const Y = [1, -1, 1, 1, -1, 1];
const ALL = X.map((_, i) => i);

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const margin = ({ w, b }: Params, i: number) => Y[i] * (w[0] * X[i][0] + w[1] * X[i][1] + b);

export const logistic = defineProblem<Params>({
  description: 'logistic regression on six points',
  data: { size: X.length },
  params: { w: [0.3, -0.2], b: 0.1 },
  f: (p, batch = ALL) => batch.reduce((sum, i) => sum + Math.log1p(Math.exp(-margin(p, i))), 0) / batch.length,
  grad: (p, batch = ALL) => {
    const w = [0, 0];
    let b = 0;
    for (const i of batch) {
      const scale = (-Y[i] * sigmoid(-margin(p, i))) / batch.length;
      w[0] += scale * X[i][0];
      w[1] += scale * X[i][1];
      b += scale;
    }
    return { w, b };
  },
});
`;

const PYTHON = `"""A two-layer network in NumPy, in the style of the CS231n assignments: affine -> ReLU -> affine -> softmax.

    scores = relu(X W1 + b1) W2 + b2,   loss = mean_i -log softmax(scores_i)[y_i]
    dscores = (softmax(scores) - onehot(y)) / N,  then backward through each layer.

Run "GradLens: Check Gradients" (Ctrl+Alt+G), or the CodeLens above the problem. Any module-level dict
with params/f/grad is a problem; gradlens.problem() only adds editor help (GradLens provides it when it
runs the file).
"""
import numpy as np

from gradlens import Grads, Params, problem

_rng = np.random.default_rng(0)
_X = _rng.standard_normal((5, 4))
_y = np.array([0, 2, 1, 2, 0])


def _forward(p: Params):
    hidden = np.maximum(0, _X @ p["W1"] + p["b1"])
    scores = hidden @ p["W2"] + p["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return hidden, probs


def loss(p: Params) -> float:
    _, probs = _forward(p)
    return float(-np.log(probs[np.arange(len(_y)), _y]).mean())


def gradient(p: Params) -> Grads:
    hidden, probs = _forward(p)
    dscores = probs.copy()
    dscores[np.arange(len(_y)), _y] -= 1
    dscores /= len(_y)
    dhidden = (dscores @ p["W2"].T) * (hidden > 0)
    return {
        "W1": _X.T @ dhidden,
        "b1": dhidden.sum(axis=0),
        "W2": hidden.T @ dscores,
        "b2": dscores.sum(axis=0),
    }


two_layer_net = problem(
    description="affine - relu - affine - softmax on five samples",
    params={
        "W1": 0.5 * _rng.standard_normal((4, 6)),
        "b1": 0.1 * np.ones(6),
        "W2": 0.5 * _rng.standard_normal((6, 3)),
        "b2": np.zeros(3),
    },
    f=loss,
    grad=gradient,
)
`;

const TORCH = `"""A custom PyTorch autograd Function with a hand-written backward, checked the way
torch.autograd.gradcheck(fn, inputs) would check it, element by element: every input with
requires_grad=True is checked, the others are constants.

    y = x * sigmoid(w * x)        (a gated activation with a learnt slope w)
    dy/dx = s + w * x * s * (1 - s),   dy/dw = x * x * s * (1 - s)      with s = sigmoid(w * x)

The backward returns one gradient per input of forward, in order, each of that input's shape: w's is
summed over the elements it gates. It computes s again from x and w rather than saving it in forward:
what forward computes is a constant to autograd, so a saved s would make the backward's own
derivative (the second-order check) wrong. Run "GradLens: Check Gradients" (Ctrl+Alt+G) or the CodeLens above
the export; "Check Second-Order Gradients" checks the backward's own derivative (gradgradcheck).
"""
import torch

from gradlens import function


class GatedSigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * torch.sigmoid(w * x)

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        s = torch.sigmoid(w * x)
        ds = s * (1 - s)
        grad_x = grad_out * (s + w * x * ds)
        grad_w = (grad_out * x * x * ds).sum().reshape(w.shape)
        return grad_x, grad_w


_generator = torch.Generator().manual_seed(0)

gated_sigmoid = function(
    description="y = x * sigmoid(w * x), checked through its backward",
    fn=GatedSigmoid.apply,
    inputs={
        "x": torch.randn(4, 3, generator=_generator, dtype=torch.float64, requires_grad=True),
        "w": torch.tensor([1.5], dtype=torch.float64, requires_grad=True),
    },
)
`;

const LAYER_PAIR = `"""A layer as the CS231n and EECS498 assignments write it, checked without a wrapper:

    forward(x, w, b) -> (out, cache)          out = relu(x w + b)
    backward(dout, cache) -> (dx, dw, db)     da = dout * [x w + b > 0],  dx = da w^T,  dw = x^T da,  db = sum(da)

The gradients come back in the order of forward's float array inputs. Every other input is a constant
(layer_param here, like CS231n's conv_param or bn_param). A layer with several outputs returns them
before its cache, (next_h, next_c, cache), and its backward takes one upstream gradient per output:
backward(dnext_h, dnext_c, cache). Run "GradLens: Check Gradients" (Ctrl+Alt+G), or the CodeLens
above the problem. A plain dict {"forward": ..., "backward": ..., "inputs": ...} works the same;
gradlens.layer_pair() only adds editor help.
"""
import numpy as np

from gradlens import layer_pair


def affine_relu_forward(x, w, b, layer_param):
    a = x @ w + b
    out = np.maximum(0, a) * layer_param["scale"]
    cache = (x, w, a, layer_param)
    return out, cache


def affine_relu_backward(dout, cache):
    x, w, a, layer_param = cache
    da = dout * layer_param["scale"] * (a > 0)
    dx = da @ w.T
    dw = x.T @ da
    db = da.sum(axis=0)
    return dx, dw, db


_rng = np.random.default_rng(0)

affine_relu = layer_pair(
    description="relu(x w + b), scaled",
    forward=affine_relu_forward,
    backward=affine_relu_backward,
    inputs={"x": _rng.standard_normal((4, 3)), "w": _rng.standard_normal((3, 5)), "b": 0.1 * np.ones(5), "layer_param": {"scale": 2.0}},
)
`;

const LOSS_WITH_GRADIENT = `"""A loss that returns its gradient, as CS231n's softmax_loss_vectorized(W, X, y, reg) does, checked
without a wrapper: wrt names the inputs the returned gradients belong to, every other input (the data
X, the labels y, the regularization strength reg) is a constant.

    scores = X W,   loss = mean_i -log softmax(scores_i)[y_i] + reg * sum(W^2)
    dW = X^T (softmax(scores) - onehot(y)) / N + 2 reg W

With several names in wrt the loss returns (loss, (dW, db)). Run "GradLens: Check Gradients"
(Ctrl+Alt+G), or the CodeLens above the problem. A plain dict {"loss": ..., "inputs": ..., "wrt": [...]}
works the same; gradlens.loss_with_gradient() only adds editor help.
"""
import numpy as np

from gradlens import loss_with_gradient


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean() + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dW = X.T @ dscores / N + 2 * reg * W
    return loss, dW


_rng = np.random.default_rng(0)

softmax = loss_with_gradient(
    description="softmax classifier, L2 regularization",
    loss=softmax_loss_vectorized,
    inputs={"W": 0.1 * _rng.standard_normal((4, 3)), "X": _rng.standard_normal((6, 4)), "y": np.array([0, 2, 1, 2, 0, 1]), "reg": 0.1},
    wrt=["W"],
)
`;

const MODEL_WITH_PARAMS = `"""A model as the CS231n assignments write it (classifiers/fc_net.py), checked without a wrapper: its
weights in self.params, and loss(X, y) returning the loss and grads keyed like self.params. Each
evaluation writes the checked point into net.params and puts the net's own arrays back after; the
elements are named by the keys of params, W1[2,3].

    scores = relu(X W1 + b1) W2 + b2,   loss = softmax cross-entropy + 0.5 reg (|W1|^2 + |W2|^2)

Run "GradLens: Check Gradients" (Ctrl+Alt+G), or the CodeLens above the problem. A plain dict
{"model": net, "inputs": {"X": X, "y": y}} works the same; gradlens.model_with_params() only adds
editor help.
"""
import numpy as np

from gradlens import model_with_params


class TwoLayerNet(object):
    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=0.5, reg=0.1, seed=0):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": 0.1 * np.ones(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.log(probs[np.arange(N), y]).mean() + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        dhidden = (dscores @ W2.T) * (hidden > 0)
        grads = {
            "W1": X.T @ dhidden + self.reg * W1,
            "b1": dhidden.sum(axis=0),
            "W2": hidden.T @ dscores + self.reg * W2,
            "b2": dscores.sum(axis=0),
        }
        return loss, grads


_rng = np.random.default_rng(1)

two_layer_net = model_with_params(
    description="CS231n TwoLayerNet: affine - relu - affine - softmax",
    model=TwoLayerNet(input_dim=4, hidden_dim=6, num_classes=3),
    inputs={"X": _rng.standard_normal((5, 4)), "y": np.array([0, 2, 1, 2, 0])},
)
`;

export const PROBLEM_TEMPLATES: readonly ProblemTemplate[] = Object.freeze([
  { id: 'scalar', language: 'typescript', label: 'Scalar loss', detail: 'params, f, grad and hvp: gradcheck and gradgradcheck', fileName: 'model.grad.ts', source: SCALAR },
  { id: 'layer', language: 'typescript', label: 'Layer with backward', detail: 'inputs, forward, backward: checked through the vector-Jacobian product', fileName: 'layer.grad.ts', source: LAYER },
  { id: 'minibatch', language: 'typescript', label: 'Mini-batch loss with data', detail: 'data.size and f(p, batch): SGD and mini-batch gradient descent', fileName: 'minibatch.grad.ts', source: MINIBATCH },
  { id: 'python', language: 'python', label: 'Python (NumPy): two-layer network', detail: 'a CS231n-style affine–ReLU–affine–softmax net with its backward pass', fileName: 'two_layer_net_grad.py', source: PYTHON },
  { id: 'torch', language: 'python', label: 'PyTorch: custom autograd Function', detail: 'a torch.autograd.Function with its own backward, checked like gradcheck and gradgradcheck', fileName: 'gated_sigmoid_grad.py', source: TORCH },
  { id: 'layer-pair', language: 'python', label: 'Course code: layer forward/backward with a cache', detail: 'CS231n-style forward(x, w, b) -> (out, cache) and backward(dout, cache) -> (dx, dw, db), as written', fileName: 'affine_relu_grad.py', source: LAYER_PAIR },
  { id: 'loss-with-gradient', language: 'python', label: 'Course code: loss that returns its gradient', detail: 'CS231n-style softmax_loss(W, X, y, reg) -> (loss, dW), checked with respect to W', fileName: 'softmax_loss_grad.py', source: LOSS_WITH_GRADIENT },
  { id: 'model-with-params', language: 'python', label: 'Course code: model with a params dict', detail: 'CS231n-style TwoLayerNet: self.params and loss(X, y) -> (loss, grads)', fileName: 'two_layer_net_model_grad.py', source: MODEL_WITH_PARAMS },
]);
