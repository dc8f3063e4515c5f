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


def whole_state_gradients(cell, params, xs: np.ndarray, rng, state0=None) -> dict:
    """The whole ∂L/∂state_k, k = 0..T, for the probe loss ``L = ⟨h_T, w⟩`` of :func:`probe_gradients`.

    Returns ``{"h": (N, T+1, H), "c": (N, T+1, H) for the LSTM}``; entry ``[:, k]`` is the gradient
    of L with respect to the state after step k (``[:, 0]`` is the initial state), every path
    included. For h that is what :func:`state_gradients` records. For the LSTM's c the part that goes
    through h_k = o_k ⊙ tanh(c_k) in the same step is added: ``dc_k + dh_k ⊙ o_k ⊙ (1 − tanh²(c_k))``
    (the line ``dc = dc + dh * o * ...`` of ``lstm._core_backward``), so ``[:, T]`` is not 0.
    The same ``rng`` seed gives the same ``w`` as :func:`probe_gradients`.
    """
    g, _, cache = probe_gradients(cell, params, xs, rng, state0)
    out = {}
    for name in cell.CELL.state_names:
        per_step = g[name]  # (N, T, H): k = 1..T
        if name == "c":  # LSTM: add the path through h_k inside step k
            o = recurrent.gather(cache, "o")  # (N, T, H)
            tanh_c = recurrent.gather(cache, "tanh_c")
            per_step = per_step + g["h"] * o * (1.0 - tanh_c * tanh_c)
        out[name] = np.concatenate([g[name + "0"][:, None], per_step], axis=1)  # (N, T+1, H): k = 0..T
    return out


def whole_grad_norm_by_distance(cell, params, xs: np.ndarray, rng, state0=None, which: str = "h") -> np.ndarray:
    """‖∂L/∂state_k‖ (the whole gradient, :func:`whole_state_gradients`) by distance d = T − k.

    Returns (T + 1,) norms averaged over the batch: index 0 is step T, the last index the initial
    state. For ``which="h"`` this equals :func:`grad_norm_by_distance`; for ``which="c"`` (LSTM) it
    includes the path through h_k, so entry 0 is the gradient the loss sends to c_T through h_T.
    """
    if which not in cell.CELL.state_names:
        raise ValueError(f"which must be one of {cell.CELL.state_names}, got {which!r}")
    g = whole_state_gradients(cell, params, xs, rng, state0)[which]  # (N, T+1, H)
    norms = np.linalg.norm(g, axis=2).mean(axis=0)  # (T+1,)
    return norms[::-1].copy()


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
