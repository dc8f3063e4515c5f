r"""A one-unit LSTM whose gates are set by hand — the "faucets" of lessons 06 and 07.

:func:`gate_params` builds ordinary :mod:`lstmlib.lstm` parameters (``H = 1``, ``W_h = 0``) so
that every gate takes a value *you choose*: ``base`` when the input is all zeros, and ``on[d]``
when only input channel ``d`` is 1 (a "cue", e.g. "write now" or "read now"). For each gate
k ∈ (i, f, g, o), with φ = σ for i, f, o and φ = tanh for g::

    b_k      = φ⁻¹(base[k])                       so  φ(b_k) = base[k]              (x_t = 0)
    W_x[d,k] = φ⁻¹(on[d][k]) − φ⁻¹(base[k])       so  φ(W_x[d,k] + b_k) = on[d][k]  (x_t = e_d)

σ never reaches 0 or 1 and tanh never reaches ±1, so requested values are first clipped into
the open interval by ``EPS`` (a "closed" gate is 1e-6, an "open" one 1 − 1e-6). With
``W_h = 0`` the gates read only the input, not ``h_{t-1}`` — the simplification that makes them
faucets one can set; a trained LSTM also reads ``h_{t-1}``. :func:`run` then runs the real
:func:`lstmlib.lstm.forward` and returns every quantity of (L1)-(L6) over time, and
:func:`plot_write` / :func:`plot_cell` draw them (figures, no pyplot).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from . import lstm, plotting, recurrent  # plotting registers the Korean font

EPS = 1e-6  # how close a requested gate value may come to the ends of its range
_RANGE = {"i": (0.0, 1.0), "f": (0.0, 1.0), "g": (-1.0, 1.0), "o": (0.0, 1.0)}


def _inverse(gate: str, value) -> float:
    """φ⁻¹(value) for the gate's activation (logit for i, f, o; artanh for g), after clipping."""
    if gate not in _RANGE:
        raise ValueError(f"gate must be one of {lstm.GATES}, got {gate!r}")
    lo, hi = _RANGE[gate]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ValueError(f"value of gate {gate!r} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"value of gate {gate!r} must lie in [{lo:g}, {hi:g}], got {value!r}")
    v = float(np.clip(value, lo + EPS, hi - EPS))
    return float(np.arctanh(v)) if gate == "g" else float(np.log(v / (1.0 - v)))


def gate_params(base: dict, on=()) -> dict:
    """LSTM params (``D = len(on)``, ``H = 1``, ``W_h = 0``) with hand-set gate values.

    ``base``: the four gate values ``{"i", "f", "g", "o"}`` when every input is 0.
    ``on``: a list of dicts; ``on[d]`` gives the gates that change when input channel ``d`` is 1
    (gates it does not name keep their ``base`` value). Cues should not overlap in time: two
    channels on together add their pre-activations. Returns float64 ``{"W_x", "W_h", "b"}``.
    """
    if not isinstance(base, dict) or set(base) != set(lstm.GATES):
        raise ValueError(f"base must give all four gates {lstm.GATES}, got {base!r}")
    on = list(on)
    D = max(len(on), 1)  # with no cue channel, one input that changes nothing
    params = {"W_x": np.zeros((D, 4)), "W_h": np.zeros((1, 4)), "b": np.zeros(4)}
    for gate in lstm.GATES:
        params["b"][lstm.gate_slice(gate, 1)] = _inverse(gate, base[gate])
    for d, cue in enumerate(on):
        if not isinstance(cue, dict) or not set(cue) <= set(lstm.GATES):
            raise ValueError(f"on[{d}] must be a dict with keys among {lstm.GATES}, got {cue!r}")
        for gate, value in cue.items():
            params["W_x"][d, lstm.gate_slice(gate, 1)] = _inverse(gate, value) - _inverse(gate, base[gate])
    return params


class Trace(NamedTuple):
    """One unit's run over T steps; every field is a (T,) array except ``x`` (T, D)."""

    x: np.ndarray  # (T, D) inputs (the cues)
    i: np.ndarray  # (L1) input gate
    f: np.ndarray  # (L2) forget gate
    g: np.ndarray  # (L3) candidate
    o: np.ndarray  # (L4) output gate
    c_prev: np.ndarray  # c_{t-1}
    kept: np.ndarray  # f_t ⊙ c_{t-1}: what survives of the old memory
    written: np.ndarray  # i_t ⊙ g_t: what is written
    c: np.ndarray  # (L5) c_t = kept + written
    h: np.ndarray  # (L6) h_t = o_t ⊙ tanh(c_t)


def run(params: dict, xs, c0: float = 0.0, h0: float = 0.0) -> Trace:
    """Run :func:`lstmlib.lstm.forward` on one sequence ``xs`` (T, D) of a one-unit LSTM."""
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 2:
        raise ValueError(f"xs must have shape (T, D), got {xs.shape}")
    state0 = (np.full((1, 1), float(h0)), np.full((1, 1), float(c0)))
    _, _, cache = lstm.forward(xs[None], params, state0)  # one sequence: N = 1, H = 1
    get = {name: recurrent.gather(cache, name)[0, :, 0] for name in ("i", "f", "g", "o", "c_prev", "c", "h")}
    return Trace(xs, kept=get["f"] * get["c_prev"], written=get["i"] * get["g"], **{k: get[k] for k in ("i", "f", "g", "o", "c_prev", "c", "h")})


def pulses(T: int, *steps: int) -> np.ndarray:
    """(T,) zeros with 1 at the given steps (counted from 1, like t in the lessons)."""
    x = np.zeros(T)
    for s in steps:
        if not 1 <= s <= T:
            raise ValueError(f"steps must lie in 1..{T}, got {s}")
        x[s - 1] = 1.0
    return x


def _mark_cues(ax, trace: Trace, labels) -> None:
    t = np.arange(1, len(trace.c) + 1)
    colours = ("tab:green", "tab:purple", "tab:brown")
    for d, label in enumerate(labels):
        for k, s in enumerate(t[trace.x[:, d] > 0]):
            ax.axvspan(s - 0.45, s + 0.45, color=colours[d % 3], alpha=0.12, label=label if k == 0 else None)


def _two_panels(figsize):
    # fixed margins instead of constrained layout: redraws twice as fast, which widgets feel
    fig = Figure(figsize=figsize)
    axes = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1.4))
    fig.subplots_adjust(left=0.085, right=0.75, bottom=0.1, top=0.93, hspace=0.1)
    return fig, axes


def plot_write(trace: Trace, *, title: str, cue_labels=("쓰기 신호",), figsize=(9.0, 5.0)):
    """Lesson 06: the gates i, g, f over time (top) and c_{t-1}, i⊙g, c_t as bars (bottom)."""
    fig, (top, bottom) = _two_panels(figsize)
    t = np.arange(1, len(trace.c) + 1)
    top.plot(t, trace.i, "o-", color="tab:orange", drawstyle="steps-mid", label="입력 게이트 $i_t$")
    top.plot(t, trace.g, "s--", color="tab:red", drawstyle="steps-mid", label="후보 $g_t$")
    top.plot(t, trace.f, "^:", color="tab:blue", drawstyle="steps-mid", label="망각 게이트 $f_t$")
    _mark_cues(top, trace, cue_labels)
    top.set_ylim(-1.1, 1.1)
    top.set_ylabel("게이트 값 (단위 없음)")
    top.set_title(title)
    top.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    w = 0.27
    bottom.bar(t - w, trace.c_prev, w, color="tab:gray", label="이전 셀 상태 $c_{t-1}$")
    bottom.bar(t, trace.written, w, color="tab:orange", label="쓰는 양 $i_t \\odot g_t$")
    bottom.bar(t + w, trace.c, w, color="tab:blue", label="새 셀 상태 $c_t$")
    bottom.scatter(t + w, trace.kept, marker="_", s=260, linewidths=2.5, color="black", zorder=3, label="그중 남긴 양 $f_t \\odot c_{t-1}$")
    bottom.axhline(0.0, color="black", linewidth=0.8)
    lim = max(1.0, float(np.abs(np.concatenate([trace.c_prev, trace.c])).max()) * 1.1)
    bottom.set_ylim(-lim, lim)
    bottom.set_xticks(t)
    bottom.set_xlabel("시간 단계 t [단계]")
    bottom.set_ylabel("셀 상태 값 (단위 없음)")
    handles, labels = bottom.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda k: labels[k].startswith("그중"))  # the marker last
    bottom.legend([handles[k] for k in order], [labels[k] for k in order], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig


def plot_cell(trace: Trace, *, title: str, cue_labels=("쓰기 신호", "읽기 신호"), figsize=(9.0, 5.0)):
    """Lesson 07: the four gates over time (top); c_t, tanh(c_t) and h_t with the ±1 band (bottom)."""
    fig, (top, bottom) = _two_panels(figsize)
    t = np.arange(1, len(trace.c) + 1)
    top.plot(t, trace.f, "^:", color="tab:blue", drawstyle="steps-mid", label="망각 $f_t$")
    top.plot(t, trace.i, "o-", color="tab:orange", drawstyle="steps-mid", label="입력 $i_t$")
    top.plot(t, trace.g, "s--", color="tab:red", drawstyle="steps-mid", label="후보 $g_t$")
    top.plot(t, trace.o, "D-", color="tab:green", drawstyle="steps-mid", markersize=4, label="출력 $o_t$")
    _mark_cues(top, trace, cue_labels)
    top.set_ylim(-1.1, 1.1)
    top.set_ylabel("게이트 값 (단위 없음)")
    top.set_title(title)
    top.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    bottom.axhspan(-1.0, 1.0, color="tab:gray", alpha=0.1, label="tanh의 범위 (-1, 1)")
    bottom.plot(t, trace.c, "o-", color="tab:blue", label="셀 상태 $c_t$")
    bottom.plot(t, np.tanh(trace.c), ":", color="tab:gray", label="$\\tanh(c_t)$")
    bottom.plot(t, trace.h, "s-", color="tab:green", label="은닉 상태 $h_t$")
    lim = max(1.2, float(np.abs(trace.c).max()) * 1.1)
    bottom.set_ylim(-lim, lim)
    bottom.set_xticks(t)
    bottom.set_xlabel("시간 단계 t [단계]")
    bottom.set_ylabel("상태 값 (단위 없음)")
    bottom.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig
