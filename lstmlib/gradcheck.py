"""Numerical gradient checking that any notebook or test can call on any function.

The idea: for a scalar loss L(θ), the centred difference

    ∂L/∂θ_j ≈ (L(θ + h e_j) − L(θ − h e_j)) / (2h)

has error O(h²). In float64 with h = 1e-5 that is ~1e-10 relative, far below the 1e-7 this
project demands, so a backward pass that is right agrees to ~1e-9 and one that is wrong (a missing
transpose, a dropped term) disagrees at the 1e-1..1e-3 level. Never check in float32: its rounding
error (~1e-7 / h) swamps the comparison.

Every function here receives the array it differentiates as its argument — no closure that
silently ignores its input can pass.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import _validate as V


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of the scalar function ``f`` at ``x`` (float64 only).

    ``f`` is called as ``f(x_perturbed)`` with a perturbed *copy* of ``x``; ``x`` is not modified.
    """
    V.check_float_array("x", x)
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for a gradient check, got dtype {x.dtype}")
    xp = x.copy()
    grad = np.empty_like(x)
    flat, gflat = xp.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + h
        f_plus = float(f(xp))
        flat[j] = old - h
        f_minus = float(f(xp))
        flat[j] = old
        gflat[j] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``‖a − n‖ / max(‖a‖ + ‖n‖, 1e-12)`` (Frobenius norms): 0 when equal, 1 when opposite."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic has shape {analytic.shape} but numeric has shape {numeric.shape}")
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / denom)


def _upstream(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


def _compare(loss, x, state, params, dx, dstate, grads, names, h) -> dict:
    """Relative errors of the analytic gradients of ``loss(x, state, params)`` against numeric ones.

    ``names`` = (input name, state name, state entry names), e.g. ("xs", "state0", ("h", "c")).
    """
    x_name, state_name, entries = names
    errors = {x_name: relative_error(dx, numeric_gradient(lambda v: loss(v, state, params), x, h))}
    for k, entry in enumerate(entries):
        def f(v, k=k):
            return loss(x, state[:k] + (v,) + state[k + 1 :], params)

        errors[f"{state_name}[{entry}]"] = relative_error(dstate[k], numeric_gradient(f, state[k], h))
    for key in params:
        def g(v, key=key):
            return loss(x, state, {**params, key: v})

        errors[key] = relative_error(grads[key], numeric_gradient(g, params[key], h))
    return errors


def check_step(cell, params: dict, x: np.ndarray, state: tuple, rng, h: float = 1e-5) -> dict:
    """Gradient-check one ``cell.step_forward``/``step_backward`` (``cell`` = ``lstmlib.lstm`` etc.).

    The scalar loss is ``Σ state_t ⊙ w`` for random weights ``w`` on every output state array,
    so every output path is exercised. Returns ``{name: relative error}`` for every parameter,
    ``x`` and each entry of ``state`` (named ``"state[h]"``, ``"state[c]"``).
    """
    new_state, cache = cell.step_forward(x, state, params)
    w = _upstream(rng, [s.shape for s in new_state])

    def loss(x_, state_, params_):
        s, _ = cell.step_forward(x_, state_, params_)
        return sum(float(np.sum(a * b)) for a, b in zip(s, w))

    dx, dstate, grads = cell.step_backward(tuple(w), cache, params)
    return _compare(loss, x, state, params, dx, dstate, grads, ("x", "state", cell.CELL.state_names), h)


def check_sequence(cell, params: dict, xs: np.ndarray, state0: tuple, rng, h: float = 1e-5) -> dict:
    """Gradient-check ``cell.forward``/``cell.backward`` over a whole sequence (BPTT).

    The loss weights every ``h_t`` *and* the final state with random coefficients, so both
    ``dhs`` and ``dstate_T`` are exercised. Returns ``{name: relative error}`` for every
    parameter, ``xs`` and each entry of ``state0``.
    """
    hs, state_T, cache = cell.forward(xs, params, state0)
    w_hs = rng.standard_normal(hs.shape)
    w_T = _upstream(rng, [s.shape for s in state_T])

    def loss(xs_, state0_, params_):
        hs_, sT, _ = cell.forward(xs_, params_, state0_)
        return float(np.sum(hs_ * w_hs)) + sum(float(np.sum(a * b)) for a, b in zip(sT, w_T))

    dxs, dstate0, grads = cell.backward(w_hs, cache, params, tuple(w_T))
    return _compare(loss, xs, state0, params, dxs, dstate0, grads, ("xs", "state0", cell.CELL.state_names), h)


def check_function(forward_backward: Callable, inputs: dict, rng, h: float = 1e-5) -> dict:
    """Gradient-check any array function given as ``forward_backward(**inputs, dout=None)``.

    It must return ``out`` when ``dout`` is None and ``(out, {name: d input})`` otherwise; the
    check uses the scalar loss ``Σ out ⊙ w`` with random ``w``. Returns ``{name: rel. error}``.
    """
    out = forward_backward(**inputs, dout=None)
    w = rng.standard_normal(np.shape(out))
    _, grads = forward_backward(**inputs, dout=w)
    errors = {}
    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            def f(v, name=name):
                return float(np.sum(forward_backward(**{**inputs, name: v}, dout=None) * w))

            errors[name] = relative_error(grads[name], numeric_gradient(f, value, h))
    return errors
