"""Measurements the lessons make on cells: gradient flow through time, spectral radius, sizes."""

from __future__ import annotations

import numpy as np

from . import recurrent
from .optim import leaves


def state_gradients(cell, dhs: np.ndarray, cache, params, dstate_T=None) -> dict:
    """The gradient reaching every state, from the same BPTT loop as ``cell.backward``.

    Returns ``{"h": (N, T, H), "c": (N, T, H) for the LSTM, "h0": (N, H), ...}``. Entry ``[:, t]``
    of ``"h"`` is the whole dL/dh_{t+1} (lessons count steps from 1): from the loss at that step
    *and* from every later step. Entry ``[:, t]`` of ``"c"`` is the gradient that reaches c_{t+1}
    from step t+2 (the cell-state path and everything behind it); the part of dL/dc_{t+1} that
    goes through h_{t+1} in the same step is added inside that step's backward, so a loss that
    reads only h_T gives 0 at c_T. ``"h0"`` (and ``"c0"``) is the whole gradient reaching the
    initial state. Use it to plot ‖∂L/∂h_k‖ against the distance T − k.
    """
    record: list = []
    _, dstate0, _ = recurrent.backward(cell.CELL, dhs, cache, params, dstate_T, record=record)
    out = {}
    for k, name in enumerate(cell.CELL.state_names):
        out[name] = np.stack([r[k] for r in reversed(record)], axis=1)  # (N, T, H)
        out[name + "0"] = dstate0[k]
    return out


def probe_gradients(cell, params, xs: np.ndarray, rng, state0=None):
    """The gradients of ``L = ⟨h_T, w⟩`` for one random unit vector ``w`` per sequence.

    Runs ``cell.forward`` and :func:`state_gradients` with ``dhs`` zero except ``dhs[:, -1] = w``.
    Returns ``(grads, w, cache)``: the :func:`state_gradients` dict, ``w`` (N, H) and the forward
    cache (for the gates, e.g. ``recurrent.gather(cache, "f")``). :func:`grad_norm_by_distance`
    is built on it, so the same ``rng`` seed gives the same ``w`` in both.
    """
    hs, _, cache = cell.forward(xs, params, state0)
    N, T, H = hs.shape
    w = rng.standard_normal((N, H)).astype(hs.dtype)
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = w
    return state_gradients(cell, dhs, cache, params), w, cache


def grad_norm_by_distance(cell, params, xs: np.ndarray, rng, state0=None, which: str = "h") -> np.ndarray:
    """‖∂L/∂state_k‖ for k = T, T−1, ..., 0 where L = ⟨h_T, w⟩ with a random unit vector ``w``.

    Only the last hidden state feeds the loss, so entry ``d`` (the distance T − k) measures how
    much of a gradient injected at step T is still alive d steps earlier. Returns (T + 1,) norms
    averaged over the batch: index 0 is distance 0 (step T), the last index is the initial state.
    With ``which="c"`` (LSTM) entry d is the gradient arriving at c_{T-d} from step T−d+1 (see
    :func:`state_gradients`); entry 0 is 0 because the loss reads h_T, and the gradient reaches
    c_T only inside step T's backward, so it first shows up at c_{T-1} (distance 1).
    """
    if which not in cell.CELL.state_names:
        raise ValueError(f"which must be one of {cell.CELL.state_names}, got {which!r}")
    g, _, _ = probe_gradients(cell, params, xs, rng, state0)
    per_step = np.concatenate([g[which + "0"][:, None], g[which]], axis=1)  # (N, T+1, H): k = 0..T
    norms = np.linalg.norm(per_step, axis=2).mean(axis=0)  # (T+1,)
    return norms[::-1].copy()  # by distance T - k = 0..T


def spectral_radius(W: np.ndarray) -> float:
    """Largest |eigenvalue| of a square matrix."""
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def with_spectral_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """A copy of ``W`` scaled so that its spectral radius is ``rho``."""
    if not rho > 0:
        raise ValueError(f"rho must be positive, got {rho!r}")
    return W * (rho / spectral_radius(W))


def count_params(params) -> int:
    """Number of scalars in a params dict (or any nested model)."""
    return int(sum(a.size for _, a in leaves(params)))
