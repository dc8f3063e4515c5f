"""How much of an LSTM's cell-state gradient travels the belt alone (lesson 08).

The cell state c_k reaches a loss that reads h_T along many paths: the belt
c_k -> c_{k+1} -> ... -> c_T -> h_T, which multiplies only forget gates (dc_{t-1} = dc_t ⊙ f_t),
and every path that leaves the belt through some h_t and the gates. :func:`belt_split` returns,
for ``L = <h_T, w>``, both the whole gradient dL/dc_k and the belt-only part

    belt_k = (dL/dc_T) ⊙ f_{k+1} ⊙ f_{k+2} ⊙ ... ⊙ f_T,

where dL/dc_T = w ⊙ o_T ⊙ (1 − tanh²(c_T)) is all the loss sends to c_T. When W_h = 0 no
gradient can leave the belt and come back, so ``belt == whole`` (tested).

:func:`keep_products` is the product of a gate (f for the LSTM, z for the GRU) over the steps
after a given step of each sequence: how much of what was written then survives to step T along
the direct path.
"""

from __future__ import annotations

import numpy as np

from . import analysis, lstm, recurrent
from ._validate import check_float_array


def keep_products(gate: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``out[n, j] = prod(gate[n, start[n] + 1 :, j])`` for ``gate`` (N, T, H) and ``start`` (N,) ints.

    Computed in float64 as a sum of logs (no underflow to 0 for long products of small gates).
    ``start[n] = T - 1`` gives the empty product 1.
    """
    check_float_array("gate", gate)
    if gate.ndim != 3:
        raise ValueError(f"gate must be (N, T, H), got shape {gate.shape}")
    start = np.asarray(start)
    N, T, _ = gate.shape
    if start.shape != (N,) or not np.issubdtype(start.dtype, np.integer):
        raise ValueError(f"start must be an int array of shape ({N},), got {start.dtype} {start.shape}")
    if start.size and (start.min() < 0 or start.max() > T - 1):
        raise ValueError(f"start must lie in [0, T - 1] = [0, {T - 1}], got values in [{start.min()}, {start.max()}]")
    if np.any(gate <= 0):
        raise ValueError("gate values must be positive (a sigmoid's output)")
    after = np.arange(T)[None, :] > start[:, None]  # (N, T)
    logs = np.where(after[:, :, None], np.log(gate.astype(np.float64)), 0.0)
    return np.exp(logs.sum(axis=1))  # (N, H)


def belt_split(params: dict, xs: np.ndarray, w: np.ndarray) -> dict:
    """Whole dL/dc_k and its belt-only part for the LSTM loss ``L = <h_T, w>``.

    ``params`` are LSTM cell parameters, ``xs`` (N, T, D), ``w`` (H,) or (N, H) (e.g. a trained
    read-out column ``W_y[:, 0]``: then L is the model's answer minus b_y). Returns
    ``{"whole": (N, T+1, H), "belt": (N, T+1, H), "f": (N, T, H)}`` in float64; index k of the
    middle axis is c_k (k = 0 is the initial state). The cache is float64 whatever xs's dtype.
    """
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    xs = np.asarray(xs, dtype=np.float64)
    hs, _, cache = lstm.forward(xs, params)
    N, T, H = hs.shape
    w = np.asarray(w, dtype=np.float64)
    if w.shape not in ((H,), (N, H)):
        raise ValueError(f"w must have shape ({H},) or ({N}, {H}), got {w.shape}")
    dhs = np.zeros_like(hs)
    dhs[:, -1] = w
    g = analysis.state_gradients(lstm, dhs, cache, params)
    o, tanh_c, f = (recurrent.gather(cache, k) for k in ("o", "tanh_c", "f"))  # (N, T, H) each
    whole_steps = g["c"] + g["h"] * o * (1.0 - tanh_c * tanh_c)  # whole dL/dc_k, k = 1..T
    whole = np.concatenate([g["c0"][:, None], whole_steps], axis=1)  # (N, T+1, H)
    # prods[:, k] = f_{k+1} * ... * f_T (k = 0..T; k = T is the empty product)
    prods = np.concatenate([np.cumprod(f[:, ::-1], axis=1)[:, ::-1], np.ones((N, 1, H))], axis=1)
    belt = whole_steps[:, -1][:, None] * prods  # (N, T+1, H)
    return {"whole": whole, "belt": belt, "f": f}
