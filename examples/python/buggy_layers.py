"""Buggy twins of the course code in layers.py, rnn_layers.py, linear_classifiers.py and fc_net.py: each
function has one classic bug (marked BUG, with the fix), and its name says which. The problem files check
them beside the correct ones; GradLens names exactly the elements each bug gets wrong.
"""
import numpy as np
from fc_net import TwoLayerNet
from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss


def affine_backward_db_averaged(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(axis=0)  # BUG: the bias is added to every sample, so its gradient is the sum: dout.sum(axis=0)
    return dx, dw, db


def relu_backward_without_dout(dout, cache):
    x = cache
    dx = (x > 0).astype(dout.dtype)  # BUG: the local gradient alone; it must be multiplied by dout
    return dx


def batchnorm_backward_batch_statistics_constant(dout, cache):
    x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = dout * gamma / std  # BUG: the batch mean and variance depend on x too (see batchnorm_backward)
    return dx, dgamma, dbeta


def dropout_backward_unscaled(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * (mask > 0)  # BUG: the kept units were scaled by 1/p in forward: dout * mask
    return dout


def conv_backward_naive_first_sample_dw(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, F, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += x_pad[0, :, rows, cols] * dout[0, f, i, j]  # BUG: sample 0 every time: x_pad[n], dout[n]
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, db


def max_pool_backward_naive_whole_window(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            # BUG: every element of the window gets the gradient; only its maximum influences the output
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[:, :, i:i + 1, j:j + 1]
    return dx


def softmax_loss_without_correct_class(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dx = np.exp(log_probs)  # BUG: missing dx[np.arange(n), y] -= 1 (the gradient of the correct class's log)
    return loss, dx / n


def svm_loss_naive_without_correct_class(W, X, y, reg):
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]  # BUG: missing dW[:, y[i]] -= X[i] (the correct class's score is in every margin)
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_naive_not_averaged(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss -= np.log(probs[y[i]])
        probs[y[i]] -= 1
        dW += np.outer(X[i], probs)
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW + 2 * reg * W  # BUG: the loss is averaged over the samples, its gradient not: dW / num_train
    return loss, dW


def rnn_step_backward_db_without_tanh(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = dnext_h.sum(axis=0)  # BUG: the bias is inside the tanh too: da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def lstm_step_backward_without_forget_gate(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    dprev_c = dc  # BUG: next_c = f * prev_c + i * g, so dprev_c = dc * f
    da = np.hstack([
        dc * g * i * (1 - i),
        dc * prev_c * f * (1 - f),
        dnext_h * tanh_c * o * (1 - o),
        dc * i * (1 - g ** 2),
    ])
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def word_embedding_backward_buffered(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] += dout  # BUG: a word that occurs twice gets one of its gradients, not their sum: np.add.at(dW, x, dout)
    return dW


class TwoLayerNetMissingW2Regularization(TwoLayerNet):
    """TwoLayerNet whose loss has the L2 penalty of both weights but whose gradient has W1's only."""

    def loss(self, X, y=None):
        hidden, affine1_cache = affine_forward(X, self.params["W1"], self.params["b1"])
        activated, relu_cache = relu_forward(hidden)
        scores, affine2_cache = affine_forward(activated, self.params["W2"], self.params["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
        grads = {}
        dactivated, grads["W2"], grads["b2"] = affine_backward(dscores, affine2_cache)
        _, grads["W1"], grads["b1"] = affine_backward(relu_backward(dactivated, relu_cache), affine1_cache)
        grads["W1"] += self.reg * self.params["W1"]
        # BUG: missing grads["W2"] += self.reg * self.params["W2"] (pasted for W1 only)
        return loss, grads
