"""Optimisers and gradient clipping over (nested) dicts of arrays.

A model is a dict whose values are arrays, dicts or lists of dicts (e.g. one params dict per
layer). Gradients have the same structure. Updates are in place; optimiser state is a plain dict.
"""

from __future__ import annotations

import numpy as np


def leaves(tree, prefix: str = ""):
    """``[(path, array), ...]`` for every array in a nested dict/list, in a fixed order."""
    if isinstance(tree, np.ndarray):
        return [(prefix, tree)]
    if isinstance(tree, dict):
        return [leaf for k in tree for leaf in leaves(tree[k], f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(tree, (list, tuple)):
        return [leaf for k, v in enumerate(tree) for leaf in leaves(v, f"{prefix}[{k}]")]
    raise TypeError(f"params/grads may hold only arrays, dicts and lists; found {type(tree).__name__} at {prefix or 'top level'!r}")


def _pairs(params, grads):
    p, g = leaves(params), leaves(grads)
    if [k for k, _ in p] != [k for k, _ in g]:
        raise ValueError(f"grads must have the structure of params: params has {[k for k, _ in p]}, grads has {[k for k, _ in g]}")
    for (k, a), (_, b) in zip(p, g):
        if a.shape != b.shape:
            raise ValueError(f"grads[{k}] must have shape {a.shape} like params[{k}], got {b.shape}")
    return [(k, a, b) for (k, a), (_, b) in zip(p, g)]


def global_norm(grads) -> float:
    """``sqrt(Σ ‖g‖²)`` over every array in ``grads``."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for _, g in leaves(grads))))


def clip_grad_norm(grads, max_norm: float) -> float:
    """Global-norm clipping (Pascanu et al. 2013): if ‖g‖ > max_norm, scale *all* gradients by
    max_norm / ‖g‖ (in place), which keeps the update's direction. Returns the norm before clipping.

    Not element-wise clipping, which changes the direction of the update.
    """
    if not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    norm = global_norm(grads)
    if norm > max_norm:
        scale = max_norm / norm
        for _, g in leaves(grads):
            g *= scale
    return norm


def clip_grad_value(grads, max_value: float) -> int:
    """Element-wise clipping: every entry is clipped to ``[-max_value, max_value]`` (in place).

    Shown for comparison with :func:`clip_grad_norm`: it bounds each entry, so it changes the
    update's direction whenever some entries are clipped and others are not. Returns how many
    entries were clipped.
    """
    if isinstance(max_value, bool) or not (isinstance(max_value, (int, float)) and max_value > 0):
        raise ValueError(f"max_value must be a positive number, got {max_value!r}")
    clipped = 0
    for _, g in leaves(grads):
        clipped += int(np.count_nonzero(np.abs(g) > max_value))
        np.clip(g, -max_value, max_value, out=g)
    return clipped


def sgd_step(params, grads, lr: float) -> None:
    """``θ ← θ − lr · g`` for every array, in place."""
    for _, p, g in _pairs(params, grads):
        p -= lr * g


def adam_init(params) -> dict:
    """Adam state for ``params``: first and second moments (zeros) and the step count."""
    return {"t": 0, "m": [np.zeros_like(p) for _, p in leaves(params)], "v": [np.zeros_like(p) for _, p in leaves(params)]}


def adam_step(params, grads, state: dict, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
    """One Adam update (Kingma & Ba 2015) with bias correction, in place."""
    pairs = _pairs(params, grads)
    if len(state["m"]) != len(pairs):
        raise ValueError("state was made by adam_init for different params")
    state["t"] += 1
    t = state["t"]
    c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
    for (_, p, g), m, v in zip(pairs, state["m"], state["v"]):
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * g * g
        p -= lr * (m / c1) / (np.sqrt(v / c2) + eps)
