r"""LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

Gates are stacked along the columns of ``W_x``, ``W_h`` and ``b`` in PyTorch's order
**(i, f, g, o)** — ``GATES`` below; block k is columns ``k*H:(k+1)*H``::

    (L1)  i_t = σ(x_t W_xi + h_{t-1} W_hi + b_i)        input gate: how much to write
    (L2)  f_t = σ(x_t W_xf + h_{t-1} W_hf + b_f)        forget gate: how much to keep
    (L3)  g_t = tanh(x_t W_xg + h_{t-1} W_hg + b_g)     candidate (often written C̃_t)
    (L4)  o_t = σ(x_t W_xo + h_{t-1} W_ho + b_o)        output gate: how much to show
    (L5)  c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t               cell state: additive update
    (L6)  h_t = o_t ⊙ tanh(c_t)

Shapes::

    x_t (N, D)    W_x (D, 4H)    h_t, c_t (N, H)    state = (h, c)
    b   (4H,)     W_h (H, 4H)    i, f, g, o (N, H)

Backward of one step (dh, dc arrive from above and from step t+1)::

    do = dh ⊙ tanh(c_t)                        from (L6)
    dc ← dc + dh ⊙ o_t ⊙ (1 − tanh²(c_t))      from (L6)
    di = dc ⊙ g_t,  df = dc ⊙ c_{t-1},  dg = dc ⊙ i_t,  dc_{t-1} = dc ⊙ f_t      from (L5)
    pre-activations: σ' = σ(1 − σ) for i, f, o; tanh' = 1 − g² for g
    dh_{t-1} = da W_hᵀ;  after the time loop, dW_h = Σ_t h_{t-1}ᵀ da_t

Because (L5) is additive, ∂c_t/∂c_{t-1} = diag(f_t): the gradient along the cell state is scaled
by the forget gate only — no weight matrix, no squashing derivative — which is why it survives
many steps when f_t ≈ 1.

Forget-gate bias: :func:`init_params` sets ``b_f = forget_bias = 1.0`` by default. With the small
random weights of initialisation every gate starts near σ(0) = 0.5, so the cell would keep only
half of c per step and a gradient along c would shrink like 0.5^k. Starting at σ(1) ≈ 0.73
remembers longer from the first update (Gers et al. 2000; Jozefowicz et al. 2015 found it
closes most of the gap between the LSTM and the best architectures they searched).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import recurrent
from .activations import sigmoid

GATES = ("i", "f", "g", "o")  # the column blocks of W_x, W_h and b, in this order


class StepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    i: np.ndarray  # (N, H) input gate
    f: np.ndarray  # (N, H) forget gate
    g: np.ndarray  # (N, H) candidate
    o: np.ndarray  # (N, H) output gate
    c: np.ndarray  # (N, H) new cell state
    tanh_c: np.ndarray  # (N, H) tanh(c_t)
    h: np.ndarray  # (N, H) new hidden state


def _core_forward(x, ax, state, params):
    h_prev, c_prev = state
    H = h_prev.shape[1]
    a = ax  # (N, 4H): x_t W_x + b, this step's row of the time loop's buffer; reused in place
    a += h_prev @ params["W_h"]  # pre-activations of (L1)-(L4)
    g = np.tanh(a[:, 2 * H : 3 * H])  # (L3)  (N, H)
    sigmoid(a, out=a)  # one call for the three σ gates, in place (its g block is unused)
    i = a[:, 0 * H : 1 * H]  # (L1)  (N, H)
    f = a[:, 1 * H : 2 * H]  # (L2)
    o = a[:, 3 * H : 4 * H]  # (L4)
    c = f * c_prev + i * g  # (L5)
    tanh_c = np.tanh(c)
    h = o * tanh_c  # (L6)
    return (h, c), StepCache(x, h_prev, c_prev, i, f, g, o, c, tanh_c, h)


def _core_backward(dstate, cache, params):
    dh, dc = dstate
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    H = dh.shape[1]
    do = dh * tanh_c  # (L6)
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # (L6) via tanh(c)
    da = np.empty((dh.shape[0], 4 * H), dtype=dh.dtype)  # (N, 4H) d pre-activations
    da[:, 0 * H : 1 * H] = dc * g * i * (1.0 - i)  # (L5)->(L1): di · σ'
    da[:, 1 * H : 2 * H] = dc * cache.c_prev * f * (1.0 - f)  # (L5)->(L2): df · σ'
    da[:, 2 * H : 3 * H] = dc * i * (1.0 - g * g)  # (L5)->(L3): dg · tanh'
    da[:, 3 * H : 4 * H] = do * o * (1.0 - o)  # (L6)->(L4): do · σ'
    dc_prev = dc * f  # (L5): ∂c_t/∂c_{t-1} = diag(f_t)
    dh_prev = da @ params["W_h"].T  # (N, H)
    return da, (dh_prev, dc_prev)  # dW_h = Σ_t h_{t-1}ᵀ da_t: one GEMM after the time loop


CELL = recurrent.Cell("lstm", 4, ("h", "c"), _core_forward, _core_backward, recurrent.plain_hidden_grads, lambda params, H: {})


def gate_slice(gate: str, hidden_size: int) -> slice:
    """Columns of gate ``gate`` ("i", "f", "g" or "o") in ``W_x``, ``W_h`` and ``b``."""
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
    k = GATES.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


def init_params(input_size: int, hidden_size: int, rng, dtype=np.float64, forget_bias: float = 1.0) -> dict:
    """``{"W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,)}`` ~ U(−1/√H, 1/√H), then ``b_f = forget_bias``.

    ``forget_bias=1.0`` (the default) makes f_t ≈ σ(1) ≈ 0.73 at the start; see the module
    docstring for why. Pass ``forget_bias=None`` to keep PyTorch's plain uniform bias.
    """
    dtype = recurrent.check_sizes(input_size, hidden_size, dtype)
    params = recurrent.uniform_init(input_size, hidden_size, 4, recurrent.check_rng(rng), dtype)
    if forget_bias is not None:
        if not np.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number or None, got {forget_bias!r}")
        params["b"][gate_slice("f", hidden_size)] = forget_bias
    return params


def step_forward(x, state, params):
    """One step of (L1)-(L6). ``x`` (N, D), ``state`` = ``(h_prev, c_prev)`` -> ``((h, c), StepCache)``."""
    return recurrent.step_forward(CELL, x, state, params)


def step_backward(dstate, cache, params):
    """Backward of one step. ``dstate`` = ``(dh, dc)`` -> ``(dx, (dh_prev, dc_prev), grads)``."""
    return recurrent.step_backward(CELL, dstate, cache, params)


def forward(xs, params, state0=None):
    """(L1)-(L6) over ``xs`` (N, T, D) -> ``(hs (N, T, H), (h_T, c_T), cache)``."""
    return recurrent.forward(CELL, xs, params, state0)


def backward(dhs, cache, params, dstate_T=None):
    """BPTT: ``dhs`` (N, T, H), ``dstate_T`` = ``(dh_T, dc_T)`` or None -> ``(dxs, (dh_0, dc_0), grads)``."""
    return recurrent.backward(CELL, dhs, cache, params, dstate_T)


def from_torch(weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """Params from a one-layer ``nn.LSTM`` (``weight_ih`` (4H, D), ``weight_hh`` (4H, H)).

    PyTorch uses the same gate order (i, f, g, o), so this is a transpose plus
    ``b = bias_ih + bias_hh``.
    """
    return recurrent.torch_to_params(CELL, weight_ih, weight_hh, bias_ih, bias_hh)


def to_torch(params) -> dict:
    """Inverse of :func:`from_torch` (whole bias in ``bias_ih``, ``bias_hh`` zero)."""
    return recurrent.params_to_torch(CELL, params)
