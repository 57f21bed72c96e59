"""Linear classifiers' losses in the style of the CS231n assignments (cs231n/classifiers/linear_svm.py and
softmax.py): loss(W, X, y, reg) returns the loss and its gradient dW, with the data X, the labels y and the
regularization strength reg as further arguments. Checked as they are, with "wrt": ["W"], by
cs231n_losses_grad.py.
"""
import numpy as np


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM loss with loops: W (D, C) weights, X (N, D) samples, y (N,) labels, L2 regularization
    reg * sum(W * W)."""
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
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_naive(W, X, y, reg):
    """Softmax (cross-entropy) loss with loops, the same arguments as svm_loss_naive."""
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
    dW = dW / num_train + 2 * reg * W
    return loss, dW
