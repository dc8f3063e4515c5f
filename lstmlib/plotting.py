"""Figures for the lessons: Hangul that renders everywhere, and plot helpers that return figures.

Importing this module registers the bundled LstmlibGothic font with matplotlib and makes it the
default family, so Korean titles render on a pip-only machine with no system fonts and no
missing-glyph warnings. LstmlibGothic is NanumGothic (SIL Open Font License, ``fonts/OFL.txt``)
with one change made by ``scripts/make_course_font.py``: U+2212 MINUS SIGN, which NanumGothic
lacks and matplotlib's mathtext uses for every "-" (e.g. the 10⁻² ticks of a log axis), is mapped
to the hyphen's glyph.

Every helper builds a :class:`matplotlib.figure.Figure` *without pyplot* and returns it. In a
notebook, run ``%matplotlib inline`` once (it registers IPython's PNG display of figures; the
lessons do it in their first cell), then leave the figure as the last expression of a cell (or
call ``display(fig)``) to show it; nothing is drawn twice and nothing leaks into widgets.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

FONT_PATH = Path(__file__).with_name("fonts") / "LstmlibGothic.ttf"
FONT_NAME = "LstmlibGothic"

# A size that reads well on a 1280×720 slide at the inline backend's 100 dpi... and in a notebook.
WIDE = (9.0, 4.0)
SQUARE = (6.0, 4.5)


def use_korean_font() -> str:
    """Register the bundled LstmlibGothic and make it matplotlib's default font; return its name."""
    if FONT_NAME not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(FONT_PATH))
    matplotlib.rcParams["font.family"] = FONT_NAME
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100
    matplotlib.rcParams["axes.grid"] = True
    matplotlib.rcParams["grid.alpha"] = 0.3
    matplotlib.rcParams["font.size"] = 11
    return FONT_NAME


use_korean_font()


def new_figure(nrows: int = 1, ncols: int = 1, figsize=WIDE, **kwargs):
    """``(fig, axes)`` like ``plt.subplots`` but without pyplot (safe inside widgets)."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def figure_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render ``fig`` to PNG bytes (for ``ipywidgets.Image`` or files)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _finish(ax, title, xlabel, ylabel, logy=False, legend=True):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # unlabelled minor ticks: faster, cleaner
    if legend and len(ax.get_legend_handles_labels()[0]) > 1:
        ax.legend()


def plot_curves(
    curves: dict,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    baseline: tuple | None = None,
    x=None,
    figsize=WIDE,
    ax=None,
):
    """Line plot of ``{label: y}`` or ``{label: (x, y)}``; ``baseline=(value, label)`` adds a dashed line.

    Returns the figure (or draws on ``ax`` and returns its figure).
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict {label: y or (x, y)}")
    if ax is None:
        fig, ax = new_figure(figsize=figsize)
    else:
        fig = ax.figure
    for label, c in curves.items():
        if isinstance(c, tuple) and len(c) == 2:
            xs, ys = c
        else:
            ys = np.asarray(c)
            xs = np.arange(1, len(ys) + 1) if x is None else x
        ax.plot(xs, ys, label=label)
    if baseline is not None:
        value, label = baseline
        ax.axhline(value, color="gray", linestyle="--", linewidth=1.2, label=label)
    _finish(ax, title, xlabel, ylabel, logy)
    return fig


def smooth(values, window: int = 20) -> np.ndarray:
    """Moving average (valid part) to make noisy loss curves readable."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_learning_curves(
    histories: dict,
    *,
    title: str = "학습 곡선",
    ylabel: str = "손실(loss)",
    key: str = "loss",
    window: int = 20,
    baseline: tuple | None = None,
    logy: bool = True,
    figsize=WIDE,
    ax=None,
):
    """Loss (or ``key="eval"``) against training step for ``{label: history}`` from :func:`lstmlib.train.train`.

    Training losses are smoothed with a ``window``-step moving average (stated in the x label).
    """
    curves = {}
    for label, h in histories.items():
        if key == "eval":
            curves[label] = (np.asarray(h["eval_step"]), np.asarray(h["eval"]))
        else:
            y = smooth(h[key], window)
            curves[label] = (np.arange(len(h[key]) - len(y) + 1, len(h[key]) + 1), y)
    xlabel = "학습 단계(step)" + (f" — {window}단계 이동평균" if key != "eval" and window > 1 else "")
    return plot_curves(curves, title=title, xlabel=xlabel, ylabel=ylabel, logy=logy, baseline=baseline, figsize=figsize, ax=ax)


def plot_heatmap(
    values: np.ndarray,
    *,
    title: str,
    xlabel: str = "시간 단계 t",
    ylabel: str = "유닛(unit)",
    cmap: str = "viridis",
    vmin=None,
    vmax=None,
    markers=(),
    colorbar_label: str = "",
    figsize=WIDE,
    ax=None,
):
    """Image of ``values`` (rows × time), e.g. a gate's (H, T) activations; ``markers`` draws vertical lines."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (rows, time), got shape {values.shape}")
    if ax is None:
        fig, ax = new_figure(figsize=figsize)
    else:
        fig = ax.figure
    im = ax.imshow(values, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for m in markers:
        ax.axvline(m, color="red", linestyle="--", linewidth=1.0)
    ax.grid(False)
    fig.colorbar(im, ax=ax, label=colorbar_label)
    _finish(ax, title, xlabel, ylabel, legend=False)
    return fig


def plot_text_colored(
    text: str,
    values,
    *,
    title: str,
    cmap: str = "RdBu_r",
    chars_per_line: int = 40,
    figsize=(9.0, 4.0),
):
    """Draw ``text`` character by character on a grid, each cell coloured by ``values`` (∈ [−1, 1]).

    Used to look for interpretable cell-state units (Karpathy et al. 2015). Newlines start a new
    row and are drawn as ``¶``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(f"values must have shape (len(text),) = ({len(text)},), got {values.shape}")
    fig, ax = new_figure(figsize=figsize)
    cm = matplotlib.colormaps[cmap]
    row, col = 0, 0
    for ch, v in zip(text, values):
        colour = cm((np.clip(v, -1, 1) + 1) / 2)
        ax.add_patch(matplotlib.patches.Rectangle((col, -row - 1), 1, 1, color=colour))
        ax.text(col + 0.5, -row - 0.5, "¶" if ch == "\n" else ch, ha="center", va="center", fontsize=10)
        col += 1
        if ch == "\n" or col >= chars_per_line:
            row, col = row + 1, 0
    ax.set_xlim(0, chars_per_line)
    ax.set_ylim(-row - 1.2, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return fig
