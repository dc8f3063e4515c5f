"""Element-wise activations, written so that they never overflow.

``sigmoid(x) = 1 / (1 + exp(-x))`` computed as ``0.5 * (1 + tanh(x / 2))``, an exact identity
that needs no ``exp`` and therefore gives no overflow warning and no NaN at any finite ``x``
(``sigmoid(±1e4)`` is exactly 1.0 / 0.0). Outputs keep the input's dtype. The price: far in
the negative tail the result is rounded to 0 in absolute terms (σ(−40) gives 0.0, not 4.2e-18),
which is harmless for gates, whose values are only ever used as multipliers.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function σ(x) ∈ (0, 1), overflow-safe; σ'(x) = σ(x)(1 − σ(x)).

    With ``out`` (an array of x's shape and dtype, possibly ``x`` itself) the result is written there.
    """
    if out is None:
        out = np.tanh(x * 0.5)
    else:
        if not isinstance(out, np.ndarray) or out.shape != np.shape(x) or out.dtype != np.result_type(x):
            raise ValueError(f"out must be an array of x's shape {np.shape(x)} and dtype {np.result_type(x)}, "
                             f"got {type(out).__name__} {getattr(out, 'shape', '')} {getattr(out, 'dtype', '')}")
        np.tanh(np.multiply(x, 0.5, out=out), out=out)
    out *= 0.5
    out += 0.5
    return out


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent ∈ (−1, 1); tanh'(x) = 1 − tanh(x)²."""
    return np.tanh(x)


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, shifted by the max so that ``exp`` cannot overflow."""
    shifted = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(scores)) computed stably (log-sum-exp with the max subtracted)."""
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
