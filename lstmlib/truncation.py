"""Truncated BPTT for a many-to-one regressor: the gradient reaches back at most ``window`` steps.

The forward pass runs over the whole sequence, so the loss is the same as
:func:`lstmlib.models.regressor_loss`. Only the last ``window`` steps are kept for the backward
pass: the state entering them, ``h_{T-window}``, is treated as a constant input, so no gradient
flows into the steps before it. (The character language model of lesson 10 truncates the
same way, chunk by chunk: ``models.char_lm_loss(..., states0)``.)
"""

from __future__ import annotations

import numpy as np

from .layers import linear_backward, linear_forward, mse_loss


def regressor_loss_truncated(cell, model: dict, xs: np.ndarray, y: np.ndarray, window: int):
    """``(loss, grads)`` like :func:`lstmlib.models.regressor_loss`, backpropagating ``window`` steps only.

    ``xs`` (N, T, D), ``y`` (N, O), ``1 <= window <= T``; ``window = T`` is full BPTT.
    """
    if not isinstance(xs, np.ndarray) or xs.ndim != 3:
        raise ValueError(f"xs must be an (N, T, D) array, got shape {getattr(xs, 'shape', None)}")
    T = xs.shape[1]
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not 1 <= window <= T:
        raise ValueError(f"window must be an int in [1, T] = [1, {T}], got {window!r}")
    state0 = None
    if window < T:
        _, state0, _ = cell.forward(xs[:, : T - window], model["cell"])  # h_{T-window}, a constant below
    hs, _, cache = cell.forward(xs[:, T - window :], model["cell"], state0)  # the last window steps
    pred, lin_cache = linear_forward(hs[:, -1], model["W_y"], model["b_y"])
    loss, dpred = mse_loss(pred, y)
    dh_T, g_out = linear_backward(dpred, lin_cache)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = dh_T
    _, _, g_cell = cell.backward(dhs, cache, model["cell"])
    return loss, {"cell": g_cell, "W_y": g_out["W"], "b_y": g_out["b"]}
