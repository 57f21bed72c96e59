"""The recurrent layers of rnn_layers.py checked as CS231n writes them: rnn_step_forward returns (next_h,
cache); lstm_step_forward returns two outputs and a cache, (next_h, next_c, cache), and its backward takes
one upstream gradient per output, (dnext_h, dnext_c, cache), and returns six gradients in the order of the
inputs. Each output gets its own probe, so a gradient that only flows through next_c is checked too. The
word embedding takes integer word indices x (a constant) and W, so its backward returns dW alone. Each
layer has a buggy twin from buggy_layers.py.

    gradlens check examples/python/cs231n_rnn_grad.py
"""
import buggy_layers as buggy
import numpy as np
from rnn_layers import (
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

_rng = np.random.default_rng(498)
N, D, H = 3, 4, 5

rnn_step = {
    "forward": rnn_step_forward,
    "backward": rnn_step_backward,
    "inputs": {
        "x": _rng.standard_normal((N, D)),
        "prev_h": _rng.standard_normal((N, H)),
        "Wx": 0.5 * _rng.standard_normal((D, H)),
        "Wh": 0.5 * _rng.standard_normal((H, H)),
        "b": 0.5 * _rng.standard_normal(H),
    },
}
# BUG: db without tanh's derivative: every element of b is wrong, the rest right.
rnn_step_db_without_tanh = {**rnn_step, "backward": buggy.rnn_step_backward_db_without_tanh}

lstm_step = {
    "forward": lstm_step_forward,
    "backward": lstm_step_backward,
    "inputs": {
        "x": _rng.standard_normal((N, D)),
        "prev_h": _rng.standard_normal((N, H)),
        "prev_c": _rng.standard_normal((N, H)),
        "Wx": 0.5 * _rng.standard_normal((D, 4 * H)),
        "Wh": 0.5 * _rng.standard_normal((H, 4 * H)),
        "b": 0.5 * _rng.standard_normal(4 * H),
    },
}
# BUG: dprev_c without the forget gate: every element of prev_c is wrong, the rest right.
lstm_step_without_forget_gate = {**lstm_step, "backward": buggy.lstm_step_backward_without_forget_gate}

# Words 0 and 3 occur twice.
word_embedding = {
    "forward": word_embedding_forward,
    "backward": word_embedding_backward,
    "inputs": {"x": np.array([[0, 3, 1], [2, 3, 0]]), "W": _rng.standard_normal((5, 4))},
}
# BUG: dW[x] += dout keeps one gradient of a repeated word: the rows of words 0 and 3 are wrong.
word_embedding_buffered = {**word_embedding, "backward": buggy.word_embedding_backward_buffered}

# A loss that returns its gradient, with integer labels y and a boolean mask as constants: only x is a float
# array, so wrt may be left out.
_mask = np.array([[True, True, False], [True, False, False]])
temporal_softmax = {"loss": temporal_softmax_loss, "inputs": {"x": _rng.standard_normal((2, 3, 4)), "y": np.array([[1, 0, 3], [2, 2, 1]]), "mask": _mask}}
