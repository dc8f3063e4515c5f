"""A linear read-out and the two losses the course uses, each with its gradient.

Shapes: any leading axes ``...`` (e.g. ``(N,)`` or ``(N, T)``), ``H`` hidden, ``O`` outputs,
``V`` vocabulary size. Losses are means over all leading positions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _validate as V
from .activations import log_softmax, softmax


class LinearCache(NamedTuple):
    h: np.ndarray  # (..., H)
    W: np.ndarray  # (H, O)


def linear_forward(h: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, LinearCache]:
    """``y = h W + b``: ``h`` (..., H), ``W`` (H, O), ``b`` (O,) -> ``y`` (..., O)."""
    V.check_float_array("W", W)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (H, O), got {V._fmt(W.shape)}")
    H, O = W.shape
    V.check_float_array("h", h)
    if h.ndim < 1 or h.shape[-1] != H:
        raise ValueError(f"h must have shape (..., H) = (..., {H}) to match W {V._fmt(W.shape)}, got {V._fmt(h.shape)}")
    V.check_float_array("b", b)
    V.check_shape("b", b, (O,), "O")
    V.check_same_dtype("h", h, "W", W.dtype)
    V.check_same_dtype("b", b, "W", W.dtype)
    y = (h.reshape(-1, H) @ W + b).reshape(h.shape[:-1] + (O,))  # (..., O) via one 2-D GEMM
    return y, LinearCache(h, W)


def linear_backward(dy: np.ndarray, cache: LinearCache) -> tuple[np.ndarray, dict]:
    """Backward of :func:`linear_forward`: ``(dh (..., H), {"W": (H, O), "b": (O,)})``."""
    H, O = cache.W.shape
    V.check_float_array("dy", dy)
    V.check_shape("dy", dy, cache.h.shape[:-1] + (O,), "..., O")
    dh = (dy.reshape(-1, O) @ cache.W.T).reshape(cache.h.shape)  # (..., H)
    W_grad = cache.h.reshape(-1, H).T @ dy.reshape(-1, O)  # (H, O)
    return dh, {"W": W_grad, "b": dy.reshape(-1, O).sum(axis=0)}


def _check_targets(targets, shape, n_classes):
    if not isinstance(targets, np.ndarray) or not np.issubdtype(targets.dtype, np.integer):
        got = targets.dtype if isinstance(targets, np.ndarray) else type(targets).__name__
        raise TypeError(f"targets must be an integer ndarray of class indices, got {got}")
    if targets.shape != shape:
        raise ValueError(f"targets must have shape {V._fmt(shape)} (scores without the class axis), got {V._fmt(targets.shape)}")
    if targets.size and (targets.min() < 0 or targets.max() >= n_classes):
        raise ValueError(f"targets must lie in [0, {n_classes - 1}], got values from {targets.min()} to {targets.max()}")


def softmax_cross_entropy(scores: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(scores)`` against integer ``targets``.

    ``scores`` (..., V), ``targets`` (...) ints in [0, V). Returns ``(loss, dscores)`` with
    ``dscores = (softmax(scores) − onehot(targets)) / M`` where M is the number of positions.
    """
    V.check_float_array("scores", scores)
    if scores.ndim < 2:
        raise ValueError(f"scores must have shape (..., V) with at least one leading axis, got {V._fmt(scores.shape)}")
    _check_targets(targets, scores.shape[:-1], scores.shape[-1])
    M = targets.size
    logp = log_softmax(scores)  # (..., V)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)  # (..., 1)
    loss = -float(picked.sum()) / M
    dscores = softmax(scores)
    np.put_along_axis(dscores, targets[..., None], np.take_along_axis(dscores, targets[..., None], axis=-1) - 1.0, axis=-1)
    dscores /= M
    return loss, dscores


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements: ``(loss, dpred)`` with ``dpred = 2 (pred − target) / M``."""
    V.check_float_array("pred", pred)
    V.check_float_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"target must have the shape of pred {V._fmt(pred.shape)}, got {V._fmt(target.shape)}")
    V.check_same_dtype("target", target, "pred", pred.dtype)
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff


# ------------------------------------------------------------------------------------ dropout


def dropout_mask(shape: tuple, p: float, rng, dtype=np.float64) -> np.ndarray:
    """An inverted-dropout mask: each entry is 0 with probability ``p``, else ``1 / (1 − p)``.

    Scaling the kept entries by ``1 / (1 − p)`` keeps every unit's expected value, so the
    network is used unchanged (no mask) at evaluation. ``rng`` is a ``np.random.Generator``.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a number in [0, 1), got {p!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    keep = rng.random(shape) >= p
    return (keep / (1.0 - p)).astype(dtype)


def dropout_forward(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x ⊙ mask`` for a mask from :func:`dropout_mask` of the same shape."""
    V.check_float_array("x", x)
    V.check_float_array("mask", mask)
    V.check_shape("mask", mask, x.shape, "same as x")
    return x * mask


def dropout_backward(dy: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Backward of :func:`dropout_forward`: the same mask multiplies the gradient."""
    V.check_shape("dy", dy, mask.shape, "same as mask")
    return dy * mask
