r"""Vanilla (Elman) RNN cell with tanh.

Equation (the only one)::

    (R1)  h_t = tanh(x_t W_x + h_{t-1} W_h + b)

Shapes::

    x_t  (N, D)     W_x (D, H)     h_t, h_{t-1}  (N, H)
    b    (H,)       W_h (H, H)     state = (h,)

Backward, with a_t the pre-activation of (R1)::

    da_t = dh_t ⊙ (1 − h_t²)                     tanh'(a) = 1 − tanh(a)²
    dh_{t-1} = da_t W_hᵀ    dW_h = Σ_t h_{t-1}ᵀ da_t    dW_x = Σ_t x_tᵀ da_t    db = Σ_t Σ_n da_t

so ∂h_t/∂h_{t-1} = diag(1 − h_t²) W_hᵀ when h is a row vector written as a column.

The time loop, the input projection ``x W_x + b`` of all steps (one matrix product) and input
checking live in :mod:`lstmlib.recurrent`; this module holds only the math of (R1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import recurrent


class StepCache(NamedTuple):
    x: np.ndarray  # (N, D) input of this step
    h_prev: np.ndarray  # (N, H) h_{t-1}
    h: np.ndarray  # (N, H) h_t


def _core_forward(x, ax, state, params):
    (h_prev,) = state
    h = np.tanh(ax + h_prev @ params["W_h"])  # (R1)  (N, H)
    return (h,), StepCache(x, h_prev, h)


def _core_backward(dstate, cache, params):
    (dh,) = dstate
    da = dh * (1.0 - cache.h * cache.h)  # tanh'  (N, H)
    dh_prev = da @ params["W_h"].T  # (N, H)
    return da, (dh_prev,)  # dW_h = Σ_t h_{t-1}ᵀ da_t: one GEMM after the time loop


CELL = recurrent.Cell("rnn", 1, ("h",), _core_forward, _core_backward, recurrent.plain_hidden_grads, lambda params, H: {})


def init_params(input_size: int, hidden_size: int, rng, dtype=np.float64) -> dict:
    """Parameters ``{"W_x" (D, H), "W_h" (H, H), "b" (H,)}``, each ~ U(−1/√H, 1/√H) as in PyTorch."""
    dtype = recurrent.check_sizes(input_size, hidden_size, dtype)
    return recurrent.uniform_init(input_size, hidden_size, 1, recurrent.check_rng(rng), dtype)


def step_forward(x, state, params):
    """One step of (R1). ``x`` (N, D), ``state`` = ``(h_prev,)`` -> ``((h,), StepCache)``."""
    return recurrent.step_forward(CELL, x, state, params)


def step_backward(dstate, cache, params):
    """Backward of one step. ``dstate`` = ``(dh,)`` -> ``(dx, (dh_prev,), grads)``."""
    return recurrent.step_backward(CELL, dstate, cache, params)


def forward(xs, params, state0=None):
    """(R1) over ``xs`` (N, T, D) -> ``(hs (N, T, H), (h_T,), cache)``; see :func:`lstmlib.recurrent.forward`."""
    return recurrent.forward(CELL, xs, params, state0)


def backward(dhs, cache, params, dstate_T=None):
    """BPTT: ``dhs`` (N, T, H) -> ``(dxs, (dh_0,), grads)``; see :func:`lstmlib.recurrent.backward`."""
    return recurrent.backward(CELL, dhs, cache, params, dstate_T)


def from_torch(weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """Params from a one-layer ``nn.RNN(nonlinearity="tanh")`` state dict (NumPy arrays).

    PyTorch stores ``weight_ih`` (H, D) and ``weight_hh`` (H, H) transposed relative to (R1) and
    keeps two bias vectors; only their sum matters, so ``b = bias_ih + bias_hh``.
    """
    return recurrent.torch_to_params(CELL, weight_ih, weight_hh, bias_ih, bias_hh)


def to_torch(params) -> dict:
    """Inverse of :func:`from_torch`: the whole bias goes to ``bias_ih``, ``bias_hh`` is zero.

    ``from_torch(**to_torch(p))`` gives back ``p`` exactly; ``to_torch(from_torch(...))`` gives a
    module with identical outputs (the two PyTorch biases are merged, which loses nothing).
    """
    return recurrent.params_to_torch(CELL, params)
