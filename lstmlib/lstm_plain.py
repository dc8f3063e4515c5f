r"""One LSTM step written plainly, one line per equation — the version lesson 07 reads.

It computes exactly what :func:`lstmlib.lstm.step_forward` computes (``tests/test_lstm_plain.py``
checks that they agree), with the same parameters ``{"W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,)}``
and the same block order (i, f, g, o) of :data:`lstmlib.lstm.GATES`. The library's step is
written for speed instead: it adds ``h_{t-1} W_h`` into a buffer that already holds
``x_t W_x + b`` for every time step, applies σ to the whole buffer in place and takes i, f, o
as views of it. The arithmetic is the same; only where the numbers are stored differs.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from . import lstm, recurrent
from .activations import sigmoid


def _check(x, state, params):
    """The same argument checks (names, shapes, dtypes) as :func:`lstmlib.lstm.step_forward`."""
    D, H, dtype = recurrent.check_params(lstm.CELL, params)
    V.check_float_array("x", x)
    V.check_shape("x", x, (None, D), "N, D")
    V.check_same_dtype("x", x, "params", dtype)
    return recurrent.check_state(lstm.CELL, "state", state, x.shape[0], H, dtype)


def step_forward(x, state, params):
    """One step of (L1)-(L6): ``x`` (N, D), ``state = (h_prev, c_prev)`` each (N, H) -> ``(h, c)``."""
    h_prev, c_prev = _check(x, state, params)
    H = h_prev.shape[1]
    a = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]  # (N, 4H): the four blocks i, f, g, o
    i = sigmoid(a[:, 0 * H : 1 * H])  # (L1) input gate       (N, H)
    f = sigmoid(a[:, 1 * H : 2 * H])  # (L2) forget gate
    g = np.tanh(a[:, 2 * H : 3 * H])  # (L3) candidate
    o = sigmoid(a[:, 3 * H : 4 * H])  # (L4) output gate
    c = f * c_prev + i * g  # (L5) new cell state
    h = o * np.tanh(c)  # (L6) new hidden state
    return h, c
