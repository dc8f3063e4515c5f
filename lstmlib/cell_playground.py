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
    bottom.set_xlabel("시점 t")
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
    bottom.set_xlabel("시점 t")
    bottom.set_ylabel("상태 값 (단위 없음)")
    bottom.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------------
# Lesson 07's playground: the learner sets i, f, g, o for every time step (a schedule).

def schedule_params(schedule: dict) -> tuple[dict, np.ndarray]:
    """LSTM params and inputs that make the gates follow ``schedule`` step by step.

    ``schedule``: ``{"i", "f", "g", "o"}`` -> sequences of T values (one per time step, t = 1..T).
    Input channel t is 1 at step t only (``xs`` is the T×T identity), and cue t sets the gates to
    column t of the schedule (:func:`gate_params`). Returns ``(params, xs)``; ``W_h = 0``.
    """
    if not isinstance(schedule, dict) or set(schedule) != set(lstm.GATES):
        raise ValueError(f"schedule must give all four gates {lstm.GATES}, got {schedule!r}")
    rows = {gate: np.asarray(schedule[gate], dtype=np.float64) for gate in lstm.GATES}
    lengths = {gate: r.shape for gate, r in rows.items()}
    T = rows["i"].shape[0] if rows["i"].ndim == 1 else 0
    if T < 1 or any(shape != (T,) for shape in lengths.values()):
        raise ValueError(f"schedule: every gate needs a 1-D sequence of the same length T >= 1, got shapes {lengths}")
    base = {"i": 0.5, "f": 0.5, "g": 0.0, "o": 0.5}  # never used: exactly one cue is on at every step
    on = [{gate: float(rows[gate][t]) for gate in lstm.GATES} for t in range(T)]
    return gate_params(base, on=on), np.eye(T)


def run_schedule(schedule: dict, c0: float = 0.0, h0: float = 0.0) -> Trace:
    """Run the real :func:`lstmlib.lstm.forward` with the gates of ``schedule`` (see :func:`schedule_params`)."""
    params, xs = schedule_params(schedule)
    return run(params, xs, c0=c0, h0=h0)


def schedule(T: int, changes: dict | None = None, *, i=0.0, f=1.0, g=0.0, o=1.0) -> dict:
    """A schedule of T steps with the same gate values everywhere, except ``changes``:
    ``{t: {"i": 1.0, "g": 0.9}}`` sets gates at step t (counted from 1)."""
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    out = {"i": np.full(T, float(i)), "f": np.full(T, float(f)), "g": np.full(T, float(g)), "o": np.full(T, float(o))}
    for t, gates in (changes or {}).items():
        if not 1 <= t <= T:
            raise ValueError(f"changes: step t must lie in 1..{T}, got {t}")
        if not isinstance(gates, dict) or not set(gates) <= set(lstm.GATES):
            raise ValueError(f"changes[{t}] must be a dict with keys among {lstm.GATES}, got {gates!r}")
        for gate, value in gates.items():
            out[gate][t - 1] = float(value)
    return out


T_PLAY = 10  # lesson 07's playground length
PRESETS = {  # lesson 07's example schedules (c_0 = 0)
    "쓰기 → 숨기기 → 읽기": schedule(T_PLAY, {2: {"i": 1.0, "g": 0.9}, 6: {"o": 1.0}}, o=0.0),
    "+0.9 쓰고 t=6에 −0.9 쓰기": schedule(T_PLAY, {2: {"i": 1.0, "g": 0.9}, 6: {"i": 1.0, "g": -0.9}}),
    "t=2에 쓰고 t=7에 잊기": schedule(T_PLAY, {2: {"i": 1.0, "g": 0.9}, 7: {"f": 0.0}}),
    "조금씩 새는 기억 (f = 0.7)": schedule(T_PLAY, {2: {"i": 1.0, "g": 0.9}}, f=0.7),
}


def plot_schedule(trace: Trace, *, title: str, figsize=(9.6, 4.1)):
    """Lesson 07: the scheduled gates (top) and the five steps of every time step (bottom):
    ① f⊙c_{t-1} (erase), ② i⊙g (write), ③ c_t (update), ④ h_t (show); ⑤ c_t, h_t go on to t+1."""
    fig = Figure(figsize=figsize)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1.3))
    fig.subplots_adjust(left=0.075, right=0.66, bottom=0.11, top=0.92, hspace=0.12)
    t = np.arange(1, len(trace.c) + 1)
    rows = (("망각 $f_t$", trace.f), ("입력 $i_t$", trace.i), ("후보 $g_t$", trace.g), ("출력 $o_t$", trace.o))
    table = np.array([values for _, values in rows])  # (4, T): the schedule as a coloured table
    top.imshow(table, cmap="RdBu", vmin=-1.0, vmax=1.0, aspect="auto", extent=(0.5, len(t) + 0.5, 3.5, -0.5))
    for r, (_, values) in enumerate(rows):
        for k, v in enumerate(values):
            shown = 0.0 if abs(v) < 5e-3 else v  # no "-0.00" for a clipped 0
            top.text(k + 1, r, f"{shown:.2f}".rstrip("0").rstrip(".") if shown else "0", ha="center", va="center",
                     fontsize=10, color="white" if abs(v) > 0.6 else "black")
    top.set_yticks(range(4), [name for name, _ in rows])
    top.set_ylim(3.5, -0.5)
    top.grid(False)
    top.set_title(title)
    w = 0.3
    handles = [
        bottom.bar(t - w / 2, trace.kept, w, color="tab:gray", label="① 지우기: $f_t \\odot c_{t-1}$"),
        bottom.bar(t + w / 2, trace.written, w, color="tab:orange", label="② 쓰기: $i_t \\odot g_t$"),
        bottom.plot(t, trace.c, "o-", color="tab:blue", label="③ 갱신: $c_t$ = ① + ②")[0],
        bottom.plot(t, trace.h, "s-", color="tab:green", label="④ 내보내기: $h_t = o_t \\odot \\tanh(c_t)$")[0],
        bottom.plot([], [], " ", label="⑤ 넘기기: $(c_t, h_t) \\to$ 시점 $t+1$")[0],
    ]
    bottom.axhline(0.0, color="black", linewidth=0.8)
    lim = max(1.1, float(np.abs(np.concatenate([trace.c, trace.kept])).max()) * 1.15)
    bottom.set_ylim(-lim, lim)
    bottom.set_xticks(t)
    bottom.set_xlabel("시점 t")
    bottom.set_ylabel("값")
    bottom.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=10)
    return fig


class SchedulePanel:
    """An editable grid (rows i, f, g, o; one column per time step) above a figure of the run.

    Built by :func:`schedule_panel`; ``panel.widget`` is what a notebook displays. Every box is a
    ``BoundedFloatText`` (typed values are clipped to the gate's range by the widget); changing
    one re-runs :func:`run_schedule` and redraws, and choosing an example in ``panel.preset`` fills
    the whole grid and redraws once. ``values()`` returns the schedule shown; ``redraws`` counts
    drawings (for self-checks, not for learners).
    """

    def __init__(self, presets: dict, *, c0: float = 0.0, width: int = 820):
        import ipywidgets as W

        from .plotting import figure_to_png

        if not isinstance(presets, dict) or not presets:
            raise ValueError("presets must be a non-empty dict {name: schedule}")
        lengths = {name: schedule_params(s)[1].shape[0] for name, s in presets.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"presets must all have the same length T, got {lengths}")
        self.presets, self.c0, self.redraws, self._hold = dict(presets), float(c0), 0, False
        self._png = figure_to_png
        T = next(iter(lengths.values()))
        first = next(iter(self.presets.values()))
        names = {"i": "입력 i", "f": "망각 f", "g": "후보 g", "o": "출력 o"}
        box, name = W.Layout(width="64px"), W.Layout(width="80px")  # shared: fewer widget models to save
        self.cells = {
            gate: [W.BoundedFloatText(value=float(first[gate][t]), min=_RANGE[gate][0], max=_RANGE[gate][1], step=0.1,
                                      layout=box) for t in range(T)]
            for gate in ("f", "i", "g", "o")
        }
        header = [W.HTML("<b>시점 t</b>", layout=name)] + [W.HTML(f"<b>{t + 1}</b>", layout=box) for t in range(T)]
        rows = [W.HBox(header)] + [W.HBox([W.HTML(names[gate], layout=name)] + boxes) for gate, boxes in self.cells.items()]
        self.preset = W.Dropdown(options=list(self.presets), value=next(iter(self.presets)), description="예시",
                                 layout=W.Layout(width="360px"))
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width}px"))
        self.widget = W.VBox([self.preset, W.VBox(rows), self.image])
        self.redraw()
        for boxes in self.cells.values():
            for box in boxes:
                box.observe(self._on_change, names="value")
        self.preset.observe(self._on_preset, names="value")

    def values(self) -> dict:
        """The schedule in the grid: ``{"i", "f", "g", "o"}`` -> (T,) arrays."""
        return {gate: np.array([box.value for box in self.cells[gate]]) for gate in lstm.GATES}

    def trace(self) -> Trace:
        return run_schedule(self.values(), c0=self.c0)

    def redraw(self) -> None:
        fig = plot_schedule(self.trace(), title=f"게이트를 시점마다 정한 LSTM 셀 (c_0 = {self.c0:g})")
        self.image.value = self._png(fig)
        self.redraws += 1

    def _on_change(self, change) -> None:
        if not self._hold:
            self.redraw()

    def _on_preset(self, change) -> None:
        self._hold = True  # fill the whole grid, then draw once
        try:
            for gate, boxes in self.cells.items():
                for box, value in zip(boxes, self.presets[change["new"]][gate]):
                    box.value = float(value)
        finally:
            self._hold = False
        self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # short and stable (the VBox's own repr lists every box)
        return bundle

    def __repr__(self) -> str:  # stable text/plain for nbval
        return f"SchedulePanel(T={len(self.cells['i'])}, 예시={self.preset.value!r})"


def schedule_panel(presets: dict | None = None, *, c0: float = 0.0) -> SchedulePanel:
    """Lesson 07's playground: :class:`SchedulePanel` over ``presets`` (default :data:`PRESETS`)."""
    return SchedulePanel(PRESETS if presets is None else presets, c0=c0)
