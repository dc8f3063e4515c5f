"""Small models assembled from the cells, the read-out and the losses — no copied cell code.

``cell`` is always one of the cell modules (``lstmlib.rnn``, ``lstmlib.lstm``, ``lstmlib.gru``).

* Deep (stacked) recurrent layers: :func:`stack_forward` / :func:`stack_backward` feed the
  ``hs`` of layer l as the ``xs`` of layer l+1 and run each layer's own ``forward``/``backward``.
* A many-to-one regressor (read-out of the last ``h_T``): the adding and copy tasks.
* A character language model (read-out of every ``h_t``), with truncated BPTT through the
  states it returns, and temperature sampling; :func:`char_lm_loss_dropout` trains it with
  dropout on every layer's output (Zaremba et al. 2014: not on the recurrent connections).
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from .activations import softmax
from .data import one_hot
from .layers import dropout_backward, dropout_forward, dropout_mask, linear_backward, linear_forward, mse_loss, softmax_cross_entropy
from .recurrent import check_rng


def _check_cell(cell):
    if not hasattr(cell, "forward") or not hasattr(cell, "CELL"):
        raise TypeError(f"cell must be a cell module such as lstmlib.lstm, got {cell!r}")
    return cell


# ---------------------------------------------------------------------------------- stacking


def stack_forward(cell, xs: np.ndarray, layers: list, states0=None):
    """Run a stack of ``len(layers)`` recurrent layers; layer l+1 reads layer l's ``hs``.

    ``layers`` is a list of params dicts (layer 0 has input size D, the rest H). Returns
    ``(hs_top (N, T, H), states_T list, caches list)``.
    """
    _check_cell(cell)
    if not isinstance(layers, list) or not layers:
        raise ValueError("layers must be a non-empty list of params dicts")
    if states0 is None:
        states0 = [None] * len(layers)
    if not isinstance(states0, list) or len(states0) != len(layers):
        raise ValueError(f"states0 must be None or a list of {len(layers)} states (one per layer)")
    hs, states_T, caches = xs, [], []
    for params, s0 in zip(layers, states0):
        hs, s_T, cache = cell.forward(hs, params, s0)  # (N, T, H)
        states_T.append(s_T)
        caches.append(cache)
    return hs, states_T, caches


def stack_backward(cell, dhs_top: np.ndarray, caches: list, layers: list, dstates_T=None):
    """Backward of :func:`stack_forward`: ``(dxs, dstates0 list, grads list)``."""
    if dstates_T is None:
        dstates_T = [None] * len(layers)
    grads = [None] * len(layers)
    dstates0 = [None] * len(layers)
    dhs = dhs_top
    for l in reversed(range(len(layers))):
        dhs, dstates0[l], grads[l] = cell.backward(dhs, caches[l], layers[l], dstates_T[l])
    return dhs, dstates0, grads


# ------------------------------------------------------------------- many-to-one regression


def init_regressor(cell, input_size: int, hidden_size: int, output_size: int, rng, dtype=np.float64, **cell_kwargs) -> dict:
    """``{"cell": params, "W_y" (H, O), "b_y" (O,)}``; the read-out starts ~ U(−1/√H, 1/√H)."""
    _check_cell(cell)
    rng = check_rng(rng)
    params = cell.init_params(input_size, hidden_size, rng, dtype=dtype, **cell_kwargs)
    k = 1.0 / np.sqrt(hidden_size)
    return {
        "cell": params,
        "W_y": rng.uniform(-k, k, size=(hidden_size, output_size)).astype(dtype),
        "b_y": np.zeros(output_size, dtype=dtype),
    }


def regressor_predict(cell, model: dict, xs: np.ndarray) -> np.ndarray:
    """``ŷ = h_T W_y + b_y`` -> (N, O)."""
    hs, _, _ = cell.forward(xs, model["cell"])
    y, _ = linear_forward(hs[:, -1], model["W_y"], model["b_y"])
    return y


def regressor_loss(cell, model: dict, xs: np.ndarray, y: np.ndarray):
    """MSE of the last-step read-out against ``y`` (N, O): ``(loss, grads)``, grads shaped like model."""
    hs, _, cache = cell.forward(xs, model["cell"])  # (N, T, H)
    pred, lin_cache = linear_forward(hs[:, -1], model["W_y"], model["b_y"])  # (N, O)
    loss, dpred = mse_loss(pred, y)
    dh_T, g_out = linear_backward(dpred, lin_cache)  # (N, H)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = dh_T  # only h_T feeds the loss
    _, _, g_cell = cell.backward(dhs, cache, model["cell"])
    return loss, {"cell": g_cell, "W_y": g_out["W"], "b_y": g_out["b"]}


# ------------------------------------------------------------------ character language model


def init_char_lm(cell, vocab_size: int, hidden_size: int, n_layers: int, rng, dtype=np.float64, **cell_kwargs) -> dict:
    """``{"layers": [params per layer], "W_y" (H, V), "b_y" (V,)}``; inputs are one-hot (V)."""
    _check_cell(cell)
    rng = check_rng(rng)
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive int, got {n_layers!r}")
    layers = [
        cell.init_params(vocab_size if l == 0 else hidden_size, hidden_size, rng, dtype=dtype, **cell_kwargs)
        for l in range(n_layers)
    ]
    k = 1.0 / np.sqrt(hidden_size)
    return {
        "layers": layers,
        "W_y": rng.uniform(-k, k, size=(hidden_size, vocab_size)).astype(dtype),
        "b_y": np.zeros(vocab_size, dtype=dtype),
    }


def char_lm_loss(cell, model: dict, inputs: np.ndarray, targets: np.ndarray, states0=None):
    """Next-character cross-entropy for ids ``inputs``/``targets`` (N, T).

    Returns ``(loss, grads, states_T)``. For truncated BPTT pass ``states_T`` as the next
    chunk's ``states0``: the state carries over, the gradient stops at the chunk boundary.
    """
    V_size = model["W_y"].shape[1]
    dtype = model["W_y"].dtype
    xs = one_hot(inputs, V_size, dtype=dtype)  # (N, T, V)
    hs, states_T, caches = stack_forward(cell, xs, model["layers"], states0)  # (N, T, H)
    scores, lin_cache = linear_forward(hs, model["W_y"], model["b_y"])  # (N, T, V)
    loss, dscores = softmax_cross_entropy(scores, targets)
    dhs, g_out = linear_backward(dscores, lin_cache)
    _, _, g_layers = stack_backward(cell, dhs, caches, model["layers"])
    return loss, {"layers": g_layers, "W_y": g_out["W"], "b_y": g_out["b"]}, states_T


def char_lm_eval(cell, model: dict, ids: np.ndarray) -> float:
    """Mean next-character cross-entropy (nats) of ``model`` over the 1-D id stream ``ids``.

    Forward only, as one long row from a zero state (validation loss; perplexity = exp of it).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size < 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer stream of at least 2 ids, got shape {V._fmt(ids.shape)}")
    xs = one_hot(ids[None, :-1], model["W_y"].shape[1], dtype=model["W_y"].dtype)  # (1, T, V)
    hs, _, _ = stack_forward(cell, xs, model["layers"])  # (1, T, H)
    scores, _ = linear_forward(hs, model["W_y"], model["b_y"])  # (1, T, V)
    return softmax_cross_entropy(scores, ids[None, 1:])[0]


def char_lm_sample(cell, model: dict, prime_ids, length: int, rng, temperature: float = 1.0) -> np.ndarray:
    """Sample ``length`` ids after ``prime_ids`` with ``p ∝ exp(score / temperature)``.

    Low temperature sharpens the distribution toward the most likely character (greedy as
    temperature → 0); high temperature flattens it toward uniform.
    """
    rng = check_rng(rng)
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    prime_ids = np.asarray(prime_ids)
    if prime_ids.ndim != 1 or prime_ids.size == 0 or not np.issubdtype(prime_ids.dtype, np.integer):
        raise ValueError(f"prime_ids must be a non-empty 1-D sequence of ids, got shape {V._fmt(prime_ids.shape)}")
    V_size = model["W_y"].shape[1]
    dtype = model["W_y"].dtype
    hs, states, _ = stack_forward(cell, one_hot(prime_ids[None, :], V_size, dtype=dtype), model["layers"])
    out = []
    h_last = hs[:, -1]  # (1, H)
    for _ in range(length):
        scores = h_last @ model["W_y"] + model["b_y"]  # (1, V)
        p = softmax(scores[0].astype(np.float64) / temperature)
        nxt = int(rng.choice(V_size, p=p))
        out.append(nxt)
        hs, states, _ = stack_forward(cell, one_hot(np.array([[nxt]]), V_size, dtype=dtype), model["layers"], states)
        h_last = hs[:, -1]
    return np.array(out, dtype=np.int64)


def char_lm_dropout_masks(model: dict, shape: tuple, p: float, rng) -> list:
    """One inverted-dropout mask (N, T, H) per layer for :func:`char_lm_loss_dropout`."""
    dtype = model["W_y"].dtype
    return [dropout_mask(tuple(shape) + (layer["W_h"].shape[0],), p, rng, dtype=dtype) for layer in model["layers"]]


def char_lm_loss_dropout(cell, model: dict, inputs: np.ndarray, targets: np.ndarray, states0=None, *, masks: list):
    """:func:`char_lm_loss` with dropout: ``masks[l]`` (N, T, H) multiplies layer l's ``hs``
    where they leave the layer (to layer l+1, or to the read-out). The recurrent path and the
    returned ``states_T`` are not masked. Evaluate with :func:`char_lm_eval` (no dropout)."""
    layers = model["layers"]
    if not isinstance(masks, list) or len(masks) != len(layers):
        raise ValueError(f"masks must be a list of {len(layers)} arrays (one per layer), got {type(masks).__name__}"
                         + (f" of length {len(masks)}" if isinstance(masks, list) else ""))
    if states0 is None:
        states0 = [None] * len(layers)
    if not isinstance(states0, list) or len(states0) != len(layers):
        raise ValueError(f"states0 must be None or a list of {len(layers)} states (one per layer)")
    hs = one_hot(inputs, model["W_y"].shape[1], dtype=model["W_y"].dtype)  # (N, T, V)
    states_T, caches = [], []
    for params, s0, mask in zip(layers, states0, masks):
        hs, s_T, cache = cell.forward(hs, params, s0)  # (N, T, H)
        hs = dropout_forward(hs, mask)  # dropout between layers
        states_T.append(s_T)
        caches.append(cache)
    scores, lin_cache = linear_forward(hs, model["W_y"], model["b_y"])  # (N, T, V)
    loss, dscores = softmax_cross_entropy(scores, targets)
    dhs, g_out = linear_backward(dscores, lin_cache)
    g_layers = [None] * len(layers)
    for l in reversed(range(len(layers))):
        dhs, _, g_layers[l] = cell.backward(dropout_backward(dhs, masks[l]), caches[l], layers[l])
    return loss, {"layers": g_layers, "W_y": g_out["W"], "b_y": g_out["b"]}, states_T


def char_lm_nll(cell, model: dict, ids: np.ndarray) -> float:
    """Total next-symbol negative log-likelihood (nats) of the 1-D stream ``ids``, from a zero state.

    ``char_lm_eval`` × the number of predictions (``ids.size − 1``). Dividing it by the number
    of characters of the text the stream encodes gives a measure that compares models whose
    symbols differ (syllables, jamo): nats per character of the same text.
    """
    ids = np.asarray(ids)
    return char_lm_eval(cell, model, ids) * (ids.size - 1)
