r"""GRU cell (Cho et al. 2014), in both published conventions.

Gates are stacked along the columns in PyTorch's order **(r, z, n)** — ``GATES`` below::

    (G1)  r_t = σ(x_t W_xr + h_{t-1} W_hr + b_r)                reset gate
    (G2)  z_t = σ(x_t W_xz + h_{t-1} W_hz + b_z)                update gate
    (G3a) n_t = tanh(x_t W_xn + b_n + r_t ⊙ (h_{t-1} W_hn + b_hn))   reset_after=True (default)
    (G3b) n_t = tanh(x_t W_xn + b_n + (r_t ⊙ h_{t-1}) W_hn)          reset_after=False
    (G4)  h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The two conventions differ in **where the reset gate acts**. (G3a) applies r_t after the matrix
product, to ``h W_hn + b_hn`` — PyTorch's ``nn.GRU``, cuDNN and Keras (``reset_after=True``) do
this, and it needs the extra bias ``b_hn`` inside the product. (G3b) resets h before the product,
as in Cho et al. 2014 and d2l. A params dict carries its convention by its keys: ``b_hn``
present means (G3a), absent means (G3b).

**Which side z keeps.** Here, as in PyTorch and Cho et al., z_t ≈ 1 *keeps the old state*
(G4). Some texts (Chung et al. 2014's figure, several blogs) write h_t = z_t ⊙ n_t +
(1 − z_t) ⊙ h_{t-1}, where z_t ≈ 1 writes the new one; it is the same model with z ↔ 1 − z.
One gate z couples forgetting and writing: what is kept (z) and what is written (1 − z) add up
to 1. There is no separate cell state and no output gate: the state is ``(h,)``.

Shapes::

    x_t (N, D)   W_x (D, 3H)   W_h (H, 3H)   b (3H,)   b_hn (H,) [reset_after only]
    h_t (N, H)   r, z, n (N, H)   state = (h,)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import recurrent
from .activations import sigmoid

GATES = ("r", "z", "n")


class StepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    r: np.ndarray  # (N, H) reset gate
    z: np.ndarray  # (N, H) update gate
    n: np.ndarray  # (N, H) candidate
    hn: np.ndarray  # (N, H) h_{t-1} W_hn + b_hn (G3a), or r ⊙ h_{t-1} (G3b)
    h: np.ndarray  # (N, H)


def _core_forward(x, ax, state, params):
    (h_prev,) = state
    H = h_prev.shape[1]
    W_h = params["W_h"]
    if "b_hn" in params:  # (G3a) reset after the product: one GEMM for all three blocks
        u = h_prev @ W_h  # (N, 3H)
        rz = sigmoid(ax[:, : 2 * H] + u[:, : 2 * H])  # (N, 2H): both σ gates in one call
        r, z = rz[:, :H], rz[:, H:]  # (G1), (G2)
        hn = u[:, 2 * H :] + params["b_hn"]  # (N, H)
        n = np.tanh(ax[:, 2 * H :] + r * hn)  # (G3a)
    else:  # (G3b) reset before the product: r must be known before h W_hn
        rz = sigmoid(ax[:, : 2 * H] + h_prev @ W_h[:, : 2 * H])  # (N, 2H)
        r, z = rz[:, :H], rz[:, H:]  # (G1), (G2)
        hn = r * h_prev  # (N, H)
        n = np.tanh(ax[:, 2 * H :] + hn @ W_h[:, 2 * H :])  # (G3b)
    h = (1.0 - z) * n + z * h_prev  # (G4)
    return (h,), StepCache(x, h_prev, r, z, n, hn, h)


def _core_backward(dstate, cache, params):
    (dh,) = dstate
    r, z, n, hn, h_prev = cache.r, cache.z, cache.n, cache.hn, cache.h_prev
    H = dh.shape[1]
    W_h = params["W_h"]
    dn = dh * (1.0 - z)  # (G4)
    dz = dh * (h_prev - n)  # (G4)
    dh_prev = dh * z  # (G4): the direct path
    dax = np.empty((dh.shape[0], 3 * H), dtype=dh.dtype)  # (N, 3H)
    dax[:, 2 * H :] = dan = dn * (1.0 - n * n)  # tanh' of (G3)
    dax[:, H : 2 * H] = dz * z * (1.0 - z)  # σ' of (G2)
    if "b_hn" in params:  # (G3a)
        dhn = dan * r  # d(h W_hn + b_hn)
        dax[:, :H] = dan * hn * r * (1.0 - r)  # (G3a)->(G1)
        du = np.concatenate([dax[:, : 2 * H], dhn], axis=1)  # (N, 3H) d(h_{t-1} W_h)
        dh_prev = dh_prev + du @ W_h.T
    else:  # (G3b)
        drh = dan @ W_h[:, 2 * H :].T  # d(r ⊙ h_{t-1})  (N, H)
        dax[:, :H] = drh * h_prev * r * (1.0 - r)  # (G3b)->(G1)
        dh_prev = dh_prev + drh * r + dax[:, : 2 * H] @ W_h[:, : 2 * H].T
    return dax, (dh_prev,)


def _hidden_grads(steps, h_prevs, dax, params):
    """dW_h (and db_hn) of all steps at once: ``h_prevs`` (M, H), ``dax`` (M, 3H), M = T*N rows.

    The r and z blocks of ``W_h`` act on h_{t-1} exactly like W_x acts on x_t; the n block is
    where the conventions differ, so its input or its output gradient is adjusted by r.
    """
    H = h_prevs.shape[1]
    dW_h = np.empty((H, 3 * H), dtype=dax.dtype)  # (H, 3H)
    dW_h[:, : 2 * H] = h_prevs.T @ dax[:, : 2 * H]  # r and z blocks: Σ_t h_{t-1}ᵀ da_t
    if "b_hn" in params:  # (G3a): n sees r ⊙ (h_{t-1} W_hn + b_hn)
        dhn = dax[:, 2 * H :] * np.stack([s.r for s in steps]).reshape(-1, H)  # (M, H) d(h W_hn + b_hn)
        dW_h[:, 2 * H :] = h_prevs.T @ dhn
        return {"W_h": dW_h, "b_hn": dhn.sum(axis=0)}  # (H,)
    rh = np.stack([s.hn for s in steps]).reshape(-1, H)  # (G3b): W_hn multiplies r ⊙ h_{t-1}  (M, H)
    dW_h[:, 2 * H :] = rh.T @ dax[:, 2 * H :]
    return {"W_h": dW_h}


CELL = recurrent.Cell(
    "gru", 3, ("h",), _core_forward, _core_backward, _hidden_grads,
    lambda params, H: {"b_hn": ((H,), "H")} if isinstance(params, dict) and "b_hn" in params else {},
)


def gate_slice(gate: str, hidden_size: int) -> slice:
    """Columns of gate ``gate`` ("r", "z" or "n") in ``W_x``, ``W_h`` and ``b``."""
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
    k = GATES.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


def init_params(input_size: int, hidden_size: int, rng, dtype=np.float64, reset_after: bool = True) -> dict:
    """``{"W_x" (D, 3H), "W_h" (H, 3H), "b" (3H,)}`` plus ``"b_hn" (H,)`` if ``reset_after``.

    Every entry ~ U(−1/√H, 1/√H), as in PyTorch. ``reset_after`` picks (G3a) or (G3b).
    """
    dtype = recurrent.check_sizes(input_size, hidden_size, dtype)
    if not isinstance(reset_after, bool):
        raise TypeError(f"reset_after must be True or False, got {reset_after!r}")
    rng = recurrent.check_rng(rng)
    params = recurrent.uniform_init(input_size, hidden_size, 3, rng, dtype)
    if reset_after:
        k = 1.0 / np.sqrt(hidden_size)
        params["b_hn"] = rng.uniform(-k, k, size=(hidden_size,)).astype(dtype)
    return params


def step_forward(x, state, params):
    """One step of (G1)-(G4). ``x`` (N, D), ``state`` = ``(h_prev,)`` -> ``((h,), StepCache)``."""
    return recurrent.step_forward(CELL, x, state, params)


def step_backward(dstate, cache, params):
    """Backward of one step. ``dstate`` = ``(dh,)`` -> ``(dx, (dh_prev,), grads)``."""
    return recurrent.step_backward(CELL, dstate, cache, params)


def forward(xs, params, state0=None):
    """(G1)-(G4) over ``xs`` (N, T, D) -> ``(hs (N, T, H), (h_T,), cache)``."""
    return recurrent.forward(CELL, xs, params, state0)


def backward(dhs, cache, params, dstate_T=None):
    """BPTT: ``dhs`` (N, T, H) -> ``(dxs, (dh_0,), grads)``."""
    return recurrent.backward(CELL, dhs, cache, params, dstate_T)


def from_torch(weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """Params (reset_after=True) from a one-layer ``nn.GRU`` (``weight_ih`` (3H, D), order r, z, n).

    The r and z biases of PyTorch's two vectors are summed into ``b``; the n block of
    ``bias_hh`` sits inside the reset product (G3a) and becomes ``b_hn``.
    """
    _, H = recurrent.check_torch_weights(CELL, weight_ih, weight_hh, bias_ih, bias_hh)
    b = bias_ih.copy()
    b[: 2 * H] += bias_hh[: 2 * H]
    return {"W_x": weight_ih.T.copy(), "W_h": weight_hh.T.copy(), "b": b, "b_hn": bias_hh[2 * H :].copy()}


def to_torch(params) -> dict:
    """Inverse of :func:`from_torch`. Only reset_after=True params have a PyTorch equivalent."""
    _, H, _ = recurrent.check_params(CELL, params)
    if "b_hn" not in params:
        raise ValueError("params use reset_after=False (no 'b_hn'); nn.GRU implements only reset_after=True")
    bias_hh = np.zeros_like(params["b"])
    bias_hh[2 * H :] = params["b_hn"]
    return {
        "weight_ih": params["W_x"].T.copy(),
        "weight_hh": params["W_h"].T.copy(),
        "bias_ih": params["b"].copy(),
        "bias_hh": bias_hh,
    }
