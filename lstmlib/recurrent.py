"""The one time loop that serves every cell (RNN, LSTM, GRU).

A cell is described by a :class:`Cell`: its name, how many weight blocks ``G`` it stacks
(RNN 1, GRU 3, LSTM 4), how many state arrays it carries (``(h,)`` or ``(h, c)``) and three
functions that handle only the recurrent part::

    core_forward(x, ax, state, params)           -> (state, step_cache)     one step
    core_backward(dstate, cache, params)         -> (dax, dstate_prev)      one step
    hidden_grads(steps, h_prevs, dax, params)    -> {"W_h": ..., ...}       all steps at once

Here ``ax = x W_x + b`` is the input projection ``(N, G*H)``. Every cell is affine in its input
through exactly this term, so this module computes it for all time steps with **one** matrix
product ``(T*N, D) @ (D, G*H)`` in :func:`forward`. ``ax`` is a buffer the time loop owns: the
core may overwrite it (the LSTM keeps its gates there instead of allocating new arrays).

The backward loop only carries the gradient from step to step and keeps ``dax``
(dL/d(x_t W_x + b)) of every step. After the loop the parameters shared across time get their
gradients as sums over steps, each **one** matrix product: ``dW_x = Σ_t x_tᵀ dax_t`` and
``dW_h = Σ_t h_{t-1}ᵀ dax_t`` (the cell's ``hidden_grads``; the GRU adjusts the columns its
reset gate touches).

Inside, sequences are stored time-major, ``(T, N, ·)``: the rows of one step are contiguous, and
the rows of all steps form one ``(T*N, ·)`` matrix without a copy (a batch-major build of the
same algorithm measured 7-14% slower for the LSTM; README, "속도"). Callers see the usual
batch-major ``(N, T, ·)`` arrays, always as their own copies: nothing the caller passes in or
gets back shares memory with the cache.

Shapes: ``N`` batch, ``T`` time steps, ``D`` input size, ``H`` hidden size, ``G`` gate blocks.
A state is a tuple with ``h`` first, each ``(N, H)``; ``hs`` stacks ``h_1 .. h_T`` as ``(N, T, H)``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from . import _validate as V


class Cell(NamedTuple):
    """What the time loop needs to know about a cell."""

    name: str  # "rnn" | "lstm" | "gru"
    n_blocks: int  # G: weight blocks stacked along the columns of W_x and W_h
    state_names: tuple  # ("h",) or ("h", "c")
    core_forward: Callable
    core_backward: Callable
    hidden_grads: Callable  # (steps, h_prevs (M, H), dax (M, G*H), params) -> grads of W_h (+ b_hn)
    extra_keys: Callable  # params -> {key: (shape, labels)} beyond W_x, W_h, b


class SeqCache(NamedTuple):
    """Everything :func:`backward` needs: the inputs, h_0 .. h_T and one step cache per time step."""

    cell: str  # which cell made it, so a cache is never fed to the wrong backward
    xs_tm: np.ndarray  # (T, N, D) time-major copy of the inputs
    hs_tm: np.ndarray  # (T+1, N, H) h_0 .. h_T, time-major (private: the caller gets a copy)
    steps: tuple  # T step caches (NamedTuples of the cell module)

    @property
    def xs(self) -> np.ndarray:
        """The inputs in the caller's layout, (N, T, D): a view of ``xs_tm``."""
        return self.xs_tm.transpose(1, 0, 2)


# --------------------------------------------------------------------------------------------
# validation helpers


def check_params(cell: Cell, params) -> tuple[int, int, np.dtype]:
    """Validate ``params`` for ``cell``; return ``(D, H, dtype)``."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays for the {cell.name} cell, got {type(params).__name__}")
    for key in ("W_x", "W_h"):
        if key in params and isinstance(params[key], np.ndarray) and params[key].ndim != 2:
            raise ValueError(f"params[{key!r}] must be 2-D, got shape {params[key].shape}")
    W_h = params.get("W_h")
    W_x = params.get("W_x")
    G = cell.n_blocks
    H = W_h.shape[0] if isinstance(W_h, np.ndarray) and W_h.ndim == 2 else None
    D = W_x.shape[0] if isinstance(W_x, np.ndarray) and W_x.ndim == 2 else None
    spec = {
        "W_x": ((D, None if H is None else G * H), f"D, {G}H" if G > 1 else "D, H"),
        "W_h": ((H, None if H is None else G * H), f"H, {G}H" if G > 1 else "H, H"),
        "b": ((None if H is None else G * H,), f"{G}H" if G > 1 else "H"),
    }
    spec.update(cell.extra_keys(params, H))
    note = " (b_hn present means reset_after=True)" if cell.name == "gru" else ""
    missing = sorted(set(spec) - set(params))
    extra = sorted(set(params) - set(spec))
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise ValueError(f"params for the {cell.name} cell must have keys {sorted(spec)}{note}; " + " and ".join(parts))
    dtype = None
    for key, (shape, labels) in spec.items():
        arr = V.check_float_array(f"params[{key!r}]", params[key])
        V.check_shape(f"params[{key!r}]", arr, shape, labels)
        if dtype is None:
            dtype = arr.dtype
        else:
            V.check_same_dtype(f"params[{key!r}]", arr, "params['W_x']", dtype)
    return D, H, dtype


def check_state(cell: Cell, name: str, state, N: int, H: int, dtype, *, finite: bool = True) -> tuple:
    names = cell.state_names
    if not isinstance(state, tuple) or len(state) != len(names):
        got = f"a tuple of {len(state)}" if isinstance(state, tuple) else type(state).__name__
        raise TypeError(f"{name} must be a tuple ({', '.join(names)},) for the {cell.name} cell, got {got}")
    for s_name, s in zip(names, state):
        V.check_float_array(f"{name}[{s_name}]", s, finite=finite)
        V.check_shape(f"{name}[{s_name}]", s, (N, H), "N, H")
        V.check_same_dtype(f"{name}[{s_name}]", s, "params", dtype)
    return state


def plain_hidden_grads(steps, h_prevs, dax, params) -> dict:
    """``dW_h = Σ_t h_{t-1}ᵀ dax_t`` as one GEMM: ``h_prevs`` (M, H), ``dax`` (M, G*H), M = T*N rows.

    Right for every cell whose pre-activations are ``ax + h_{t-1} W_h`` (RNN, LSTM).
    """
    return {"W_h": h_prevs.T @ dax}  # (H, G*H)


def _zeros_state(cell: Cell, N: int, H: int, dtype) -> tuple:
    return tuple(np.zeros((N, H), dtype=dtype) for _ in cell.state_names)


# --------------------------------------------------------------------------------------------
# one step


def step_forward(cell: Cell, x, state, params) -> tuple[tuple, Any]:
    """One time step: ``x`` (N, D), ``state`` tuple of (N, H) -> ``(state, cache)``."""
    D, H, dtype = check_params(cell, params)
    V.check_float_array("x", x)
    V.check_shape("x", x, (None, D), "N, D")
    V.check_same_dtype("x", x, "params", dtype)
    state = check_state(cell, "state", state, x.shape[0], H, dtype)
    ax = x @ params["W_x"] + params["b"]  # (N, G*H): input projection
    return cell.core_forward(x, ax, state, params)


def step_backward(cell: Cell, dstate, cache, params) -> tuple[np.ndarray, tuple, dict]:
    """Backward of :func:`step_forward`: ``(dx, dstate_prev, grads)``; grads has params' keys."""
    D, H, dtype = check_params(cell, params)
    x = getattr(cache, "x", None)
    if type(cache).__module__ != f"lstmlib.{cell.name}" or not isinstance(x, np.ndarray):
        raise TypeError(f"cache must be a step cache made by lstmlib.{cell.name}.step_forward, got {type(cache).__name__}")
    dstate = check_state(cell, "dstate", dstate, x.shape[0], H, dtype)
    dax, dstate_prev = cell.core_backward(dstate, cache, params)
    grads = cell.hidden_grads((cache,), cache.h_prev, dax, params)  # W_h (+ b_hn)
    dx = dax @ params["W_x"].T  # (N, D)
    grads["W_x"] = x.T @ dax  # (D, G*H)
    grads["b"] = dax.sum(axis=0)  # (G*H,)
    return dx, dstate_prev, {key: grads[key] for key in params}


# --------------------------------------------------------------------------------------------
# a whole sequence


def forward(cell: Cell, xs, params, state0=None) -> tuple[np.ndarray, tuple, SeqCache]:
    """Run ``cell`` over ``xs`` (N, T, D) from ``state0`` (zeros if None).

    Returns ``hs`` (N, T, H), the final state (a tuple like ``state0``) and a :class:`SeqCache`.
    Pass the final state as the next chunk's ``state0`` for truncated BPTT.
    """
    D, H, dtype = check_params(cell, params)
    V.check_float_array("xs", xs)
    V.check_shape("xs", xs, (None, None, D), "N, T, D")
    V.check_same_dtype("xs", xs, "params", dtype)
    N, T, _ = xs.shape
    if T == 0:
        raise ValueError("xs must have at least one time step, got shape " + V._fmt(xs.shape))
    if state0 is None:
        state = _zeros_state(cell, N, H, dtype)
    else:  # a copy: the first step cache keeps it, and the caller may reuse state0's arrays
        state = tuple(s.copy() for s in check_state(cell, "state0", state0, N, H, dtype))

    xs_tm = xs.transpose(1, 0, 2).copy()  # (T, N, D): time-major, step t is xs_tm[t]; always a copy
    # all input projections in one 2-D GEMM (a 3-D @ 2-D product can be far slower in BLAS)
    ax = (xs_tm.reshape(T * N, D) @ params["W_x"]).reshape(T, N, -1)  # (T, N, G*H)
    ax += params["b"]
    hs_tm = np.empty((T + 1, N, H), dtype=dtype)  # (T+1, N, H): h_0 .. h_T
    hs_tm[0] = state[0]
    steps = []
    for t in range(T):
        state, step_cache = cell.core_forward(xs_tm[t], ax[t], state, params)
        hs_tm[t + 1] = state[0]
        steps.append(step_cache)
    hs = hs_tm[1:].transpose(1, 0, 2).copy()  # (N, T, H): h_1 .. h_T, the caller's own copy
    state = tuple(s.copy() for s in state)  # the caller's own too: the step caches keep the originals
    return hs, state, SeqCache(cell.name, xs_tm, hs_tm, tuple(steps))


def backward(cell: Cell, dhs, cache, params, dstate_T=None, *, record: list | None = None) -> tuple[np.ndarray, tuple, dict]:
    """Backpropagation through time for :func:`forward`.

    ``dhs`` (N, T, H) is dL/dh_t for every step (zeros where the loss does not read h_t);
    ``dstate_T`` is dL/d(final state) (None means zeros). Returns ``(dxs, dstate0, grads)``.
    If ``record`` is a list, the gradient that enters step t's backward, for t = T..1, is appended
    to it (used by :func:`lstmlib.analysis.state_gradients`): for h that is the whole dL/dh_t (from
    the loss at t and from step t+1); for the LSTM's c it is the part of dL/dc_t that arrives from
    step t+1 — the path through h_t is added inside step t's own backward.
    """
    D, H, dtype = check_params(cell, params)
    if not isinstance(cache, SeqCache):
        raise TypeError(f"cache must be the SeqCache returned by lstmlib.{cell.name}.forward, got {type(cache).__name__}")
    if cache.cell != cell.name:
        raise ValueError(f"cache was made by lstmlib.{cache.cell}.forward, not lstmlib.{cell.name}.forward")
    T, N, _ = cache.xs_tm.shape
    V.check_float_array("dhs", dhs)
    V.check_shape("dhs", dhs, (N, T, H), "N, T, H")
    V.check_same_dtype("dhs", dhs, "params", dtype)
    if dstate_T is None:
        dstate = _zeros_state(cell, N, H, dtype)
    else:
        dstate = check_state(cell, "dstate_T", dstate_T, N, H, dtype)

    G = cell.n_blocks
    dax = np.empty((T, N, G * H), dtype=dtype)  # (T, N, G*H): dL/d(x_t W_x + b) of every step
    for t in reversed(range(T)):
        dstate = (dstate[0] + dhs[:, t],) + tuple(dstate[1:])  # h_t feeds the loss and step t+1
        if record is not None:
            record.append(dstate)
        dax[t], dstate = cell.core_backward(dstate, cache.steps[t], params)

    # W_x, W_h and b are shared by all steps: their gradients are sums over t, one GEMM each
    dax = dax.reshape(T * N, G * H)  # (T*N, G*H)
    grads = cell.hidden_grads(cache.steps, cache.hs_tm[:T].reshape(T * N, H), dax, params)  # Σ_t h_{t-1}ᵀ dax_t
    grads["W_x"] = cache.xs_tm.reshape(T * N, D).T @ dax  # (D, G*H): Σ_t x_tᵀ dax_t
    grads["b"] = dax.sum(axis=0)  # (G*H,)
    dxs = (dax @ params["W_x"].T).reshape(T, N, D)  # (T, N, D): dx_t = dax_t W_xᵀ, one GEMM
    dxs = np.ascontiguousarray(dxs.transpose(1, 0, 2))  # (N, T, D), batch-major like xs
    return dxs, dstate, {key: grads[key] for key in params}


# --------------------------------------------------------------------------------------------
# helpers for reading a cache (plots, widgets, lessons)


def gather(cache: SeqCache, field: str) -> np.ndarray:
    """Stack one field of every step cache along time: e.g. ``gather(cache, "f")`` -> (N, T, H)."""
    if not isinstance(cache, SeqCache):
        raise TypeError(f"cache must be a SeqCache, got {type(cache).__name__}")
    fields = type(cache.steps[0])._fields
    if field not in fields:
        raise ValueError(f"field must be one of {fields} for the {cache.cell} cell, got {field!r}")
    return np.stack([getattr(s, field) for s in cache.steps], axis=1)


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def check_sizes(input_size, hidden_size, dtype) -> np.dtype:
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    dt = np.dtype(dtype)
    if dt not in V.FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def uniform_init(input_size: int, hidden_size: int, n_blocks: int, rng, dtype) -> dict:
    """PyTorch's default: every weight and bias ~ U(−1/√H, 1/√H)."""
    k = 1.0 / np.sqrt(hidden_size)
    G = n_blocks * hidden_size
    return {
        "W_x": rng.uniform(-k, k, size=(input_size, G)).astype(dtype),  # (D, G*H)
        "W_h": rng.uniform(-k, k, size=(hidden_size, G)).astype(dtype),  # (H, G*H)
        "b": rng.uniform(-k, k, size=(G,)).astype(dtype),  # (G*H,)
    }


# --------------------------------------------------------------------------------------------
# PyTorch layout (nn.RNN / nn.LSTM / nn.GRU, one layer): weights are stored transposed, as
# (G*H, D) and (G*H, H), with two bias vectors whose sum is what the cell uses.


def check_torch_weights(cell: Cell, weight_ih, weight_hh, bias_ih, bias_hh) -> tuple[int, int]:
    G = cell.n_blocks
    V.check_float_array("weight_ih", weight_ih)
    V.check_float_array("weight_hh", weight_hh)
    if weight_hh.ndim != 2 or weight_hh.shape[0] % G or weight_hh.shape[0] != G * weight_hh.shape[1]:
        raise ValueError(f"weight_hh must have shape ({G}H, H) for the {cell.name} cell, got {V._fmt(weight_hh.shape)}")
    H = weight_hh.shape[1]
    V.check_shape("weight_ih", weight_ih, (G * H, None), f"{G}H, D" if G > 1 else "H, D")
    for name, arr in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        V.check_float_array(name, arr)
        V.check_shape(name, arr, (G * H,), f"{G}H" if G > 1 else "H")
    for name, arr in (("weight_hh", weight_hh), ("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        V.check_same_dtype(name, arr, "weight_ih", weight_ih.dtype)
    return weight_ih.shape[1], H


def torch_to_params(cell: Cell, weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """RNN/LSTM: transpose PyTorch's weights and merge its two biases (only their sum matters)."""
    check_torch_weights(cell, weight_ih, weight_hh, bias_ih, bias_hh)
    return {"W_x": weight_ih.T.copy(), "W_h": weight_hh.T.copy(), "b": bias_ih + bias_hh}


def params_to_torch(cell: Cell, params) -> dict:
    """RNN/LSTM: inverse of :func:`torch_to_params`; the whole bias goes to ``bias_ih``."""
    check_params(cell, params)
    return {
        "weight_ih": params["W_x"].T.copy(),
        "weight_hh": params["W_h"].T.copy(),
        "bias_ih": params["b"].copy(),
        "bias_hh": np.zeros_like(params["b"]),
    }
