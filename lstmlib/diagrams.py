"""Schematic drawings of one step of each cell (RNN, LSTM, GRU), in the usual picture language.

Yellow boxes are **learned layers**: each one is a block of columns of ``W_x``, ``W_h`` and ``b``
followed by its activation (σ or tanh), and each reads the same input ``[h_{t-1}, x_t]``.
Pink circles are **element-wise (pointwise) operations** with no weights: ``×`` (⊙), ``+``,
``tanh`` and ``1−``. Lines carry vectors of H numbers; where a line splits, the same vector goes
both ways. The equation labels ((R1), (L1)-(L6), (G1)-(G4)) are those of the module docstrings
of :mod:`lstmlib.rnn`, :mod:`lstmlib.lstm` and :mod:`lstmlib.gru`.

One renderer draws all three cells from a small description (nodes and wires) per cell, so the
three pictures share their look and any lesson can highlight the parts it is about::

    diagrams.draw_cell("lstm", highlight=("f",))   # the forget gate and its wires in red
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.patches as mpatches

from .plotting import new_figure

LAYER_COLOUR = "#f7d86a"  # learned layer (weights)
OP_COLOUR = "#f5b3b3"  # element-wise operation (no weights)
WIRE_COLOUR = "#333333"
ACCENT = "#d62728"  # highlighted parts
FADE = 0.6  # alpha of parts that are not highlighted: still readable on a projector
NOTE_SIZE = 10  # font size of the gate names and equation numbers


class Node(NamedTuple):
    name: str  # id used by wires and by ``highlight``
    kind: str  # "layer" (box) or "op" (circle)
    x: float
    y: float
    label: str  # drawn inside
    note: str = ""  # drawn beside (gate name, equation)


class Wire(NamedTuple):
    points: tuple  # polyline ((x, y), ...); the last segment ends in an arrow unless arrow=False
    parts: tuple  # node names this wire belongs to (for highlighting)
    arrow: bool = True
    label: str = ""
    label_at: str = "end"  # "start" (inputs), "end" (outputs) or "above" (over the middle of the first segment)


class Picture(NamedTuple):
    title: str
    nodes: tuple
    wires: tuple
    width: float = 10.0
    height: float = 6.0


BOX_W, BOX_H, R = 0.9, 0.7, 0.3  # layer box size, op circle radius (data units)
NOTE_DX = 0.12  # a box's note starts this far right of the box's centre (where its input wire runs)
BUS_Y = 1.0  # the bus that carries [h_{t-1}, x_t] to every layer
LAYER_Y = 2.4
H_OUT = "$h_t$ (다음 시점·출력)"  # h_t leaves to the right: it is the next step's h_{t-1} and the cell's output


def _bus(*xs_of_layers: float, x_input: float = 1.2, h_from_top: float | None = None) -> tuple:
    """Wires of [h_{t-1}, x_t]: h_{t-1} from the left (or down from a state line at height
    ``h_from_top``), x_t from below, and one bus up to every layer."""
    if h_from_top is None:
        h_in = Wire(((0.0, BUS_Y), (x_input, BUS_Y)), (), arrow=False, label="$h_{t-1}$", label_at="start")
    else:
        h_in = Wire(((0.6, h_from_top), (0.6, BUS_Y), (x_input, BUS_Y)), (), arrow=False)
    wires = [
        h_in,
        Wire(((x_input, -0.2), (x_input, BUS_Y)), (), arrow=False, label="$x_t$", label_at="start"),
        Wire(((x_input, BUS_Y), (max(xs_of_layers), BUS_Y)), (), arrow=False),
    ]
    for x in xs_of_layers:
        wires.append(Wire(((x, BUS_Y), (x, LAYER_Y - BOX_H / 2)), ()))
    return tuple(wires)


def _rnn() -> Picture:
    nodes = (Node("tanh", "layer", 4.0, LAYER_Y, "tanh", "(R1)  $h_t$"),)
    wires = _bus(4.0) + (
        Wire(((4.0, LAYER_Y + BOX_H / 2), (4.0, 4.2), (9.3, 4.2)), ("tanh",), label=H_OUT),
    )
    return Picture("RNN 셀 한 시점: 상태는 $h$ 하나, 층 하나", nodes, wires, width=10.0, height=6.0)


def _lstm() -> Picture:
    C_Y, MID_Y = 4.9, 3.7  # the cell-state line; the row of the i ⊙ g product and tanh(c)
    nodes = (
        Node("f", "layer", 2.6, LAYER_Y, "σ", "$f_t$ 망각 (L2)"),
        Node("i", "layer", 4.0, LAYER_Y, "σ", "$i_t$ 입력 (L1)"),
        Node("g", "layer", 5.4, LAYER_Y, "tanh", "$g_t$ 후보 (L3)"),
        Node("o", "layer", 6.8, LAYER_Y, "σ", "$o_t$ 출력 (L4)"),
        Node("keep", "op", 2.6, C_Y, "×", ""),
        Node("write", "op", 5.4, MID_Y, "×", ""),
        Node("add", "op", 5.4, C_Y, "+", "(L5)"),
        Node("tanh_c", "op", 8.2, MID_Y, "tanh", ""),
        Node("show", "op", 8.2, LAYER_Y, "×", "(L6)"),
    )
    wires = _bus(2.6, 4.0, 5.4, 6.8) + (
        # the cell state: c_{t-1} -> × f -> + i⊙g -> c_t, and a branch down to tanh(c_t)
        Wire(((0.0, C_Y), (2.6 - R, C_Y)), ("keep",), label="$c_{t-1}$", label_at="start"),
        Wire(((2.6 + R, C_Y), (5.4 - R, C_Y)), ("keep", "add")),
        Wire(((5.4 + R, C_Y), (9.6, C_Y)), ("add",), label="$c_t$"),
        Wire(((8.2, C_Y), (8.2, MID_Y + R)), ("tanh_c",)),  # c_t branches down into tanh(c_t)
        Wire(((2.6, LAYER_Y + BOX_H / 2), (2.6, C_Y - R)), ("f", "keep")),
        Wire(((4.0, LAYER_Y + BOX_H / 2), (4.0, MID_Y), (5.4 - R, MID_Y)), ("i", "write")),
        Wire(((5.4, LAYER_Y + BOX_H / 2), (5.4, MID_Y - R)), ("g", "write")),
        Wire(((5.4, MID_Y + R), (5.4, C_Y - R)), ("write", "add")),
        Wire(((6.8 + BOX_W / 2, LAYER_Y), (8.2 - R, LAYER_Y)), ("o", "show")),
        Wire(((8.2, MID_Y - R), (8.2, LAYER_Y + R)), ("tanh_c", "show")),
        # h_t leaves to the right: the same vector is the next step's h_{t-1} and the cell's output
        Wire(((8.2, LAYER_Y - R), (8.2, BUS_Y), (9.3, BUS_Y)), ("show",), label=H_OUT),
    )
    return Picture("LSTM 셀 한 시점: 위쪽 선이 셀 상태 $c$ (더하기와 곱하기만 거침)", nodes, wires, width=10.0, height=6.0)


def _gru() -> Picture:
    H_Y, MID_Y = 4.9, 3.7
    N_X = 7.2  # far enough right that the r_t ⊙ (...) label fits between r's box and n's wire
    nodes = (
        Node("z", "layer", 2.6, LAYER_Y, "σ", "$z_t$ 업데이트 (G2)"),
        Node("r", "layer", 4.6, LAYER_Y, "σ", "$r_t$ 리셋 (G1)"),
        Node("n", "layer", N_X, LAYER_Y, "tanh", "$n_t$ 후보 (G3a)"),
        Node("keep", "op", 2.6, H_Y, "×", ""),
        Node("one_minus", "op", 6.0, MID_Y, "1−", ""),
        Node("write", "op", N_X, MID_Y, "×", ""),
        Node("add", "op", N_X, H_Y, "+", "(G4)"),
    )
    wires = _bus(2.6, 4.6, N_X, h_from_top=H_Y) + (
        Wire(((0.0, H_Y), (2.6 - R, H_Y)), ("keep",), label="$h_{t-1}$", label_at="start"),
        Wire(((2.6 + R, H_Y), (N_X - R, H_Y)), ("keep", "add")),
        Wire(((N_X + R, H_Y), (9.3, H_Y)), ("add",), label=H_OUT),
        Wire(((2.6, LAYER_Y + BOX_H / 2), (2.6, H_Y - R)), ("z", "keep")),
        Wire(((2.6, MID_Y), (6.0 - R, MID_Y)), ("z", "one_minus")),
        Wire(((6.0 + R, MID_Y), (N_X - R, MID_Y)), ("one_minus", "write")),
        Wire(((4.6 + BOX_W / 2, LAYER_Y), (N_X - BOX_W / 2, LAYER_Y)), ("r", "n"),
             label="$r_t \\odot (h_{t-1}W_{hn} + b_{hn})$", label_at="above"),
        Wire(((N_X, LAYER_Y + BOX_H / 2), (N_X, MID_Y - R)), ("n", "write")),
        Wire(((N_X, MID_Y + R), (N_X, H_Y - R)), ("write", "add")),
    )
    return Picture("GRU 셀 한 시점 (reset_after=True): 상태는 $h$ 하나, $z$가 남길 몫과 쓸 몫을 함께 정함",
                   nodes, wires, width=10.0, height=6.0)


def _label(ax, w: Wire, colour, alpha, k: float = 1.0) -> None:
    """Put a wire's label just outside its start or end, along the wire's direction."""
    pts, off = w.points, 0.15
    if w.label_at == "above":  # over the middle of the first segment, clear of the boxes' tops
        (x0, y0), (x1, y1) = pts[0], pts[1]
        ax.text((x0 + x1) / 2, max(y0, y1) + BOX_H / 2 + 0.1, w.label, ha="center", va="bottom", fontsize=12 * k,
                color=colour, alpha=alpha)
        return
    if w.label_at == "start":  # outside the first point, against the first segment's direction
        (x, y), (dx, dy) = pts[0], (pts[0][0] - pts[1][0], pts[0][1] - pts[1][1])
    else:  # outside the last point, along the last segment's direction
        (x, y), (dx, dy) = pts[-1], (pts[-1][0] - pts[-2][0], pts[-1][1] - pts[-2][1])
    if abs(dx) >= abs(dy):
        ax.text(x + off if dx > 0 else x - off, y, w.label, ha="left" if dx > 0 else "right", va="center",
                fontsize=12 * k, color=colour, alpha=alpha)
    else:
        ax.text(x, y + off if dy > 0 else y - off, w.label, ha="center", va="bottom" if dy > 0 else "top",
                fontsize=12 * k, color=colour, alpha=alpha)


PICTURES = {"rnn": _rnn, "lstm": _lstm, "gru": _gru}


def parts(cell: str) -> tuple:
    """Names of the parts of ``cell``'s picture that ``highlight`` accepts."""
    if cell not in PICTURES:
        raise ValueError(f"cell must be one of {tuple(PICTURES)}, got {cell!r}")
    return tuple(n.name for n in PICTURES[cell]().nodes)


def draw_cell(cell: str, highlight=(), *, title: str | None = None, figsize=(9.0, 5.4)):
    """Draw one step of ``cell`` ("rnn", "lstm" or "gru") and return the figure.

    ``highlight``: names from :func:`parts` (e.g. ``("f", "keep")`` for the LSTM's forget gate);
    those parts and the wires between them are drawn in red, everything else faded.
    ``figsize``: (width, height) in inches; text scales with the picture (relative to the default
    9 x 5.4), so a smaller figure keeps its labels clear of the wires.
    """
    names = parts(cell)
    if isinstance(highlight, str):
        raise TypeError(f"highlight must be a tuple of part names, got the string {highlight!r}; write ({highlight!r},)")
    if not isinstance(highlight, (tuple, list, set, frozenset)):
        raise TypeError(f"highlight must be a tuple of part names, got {type(highlight).__name__}")
    unknown = [h for h in highlight if h not in names]
    if unknown:
        raise ValueError(f"highlight has unknown parts {unknown}; the {cell} picture has {names}")
    if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in figsize)):
        raise ValueError(f"figsize must be (width, height) in inches, two positive numbers, got {figsize!r}")
    k = min(figsize[0] / 9.0, figsize[1] / 5.4)  # text scale: the drawing shrinks with the figure
    pic = PICTURES[cell]()
    lit = set(highlight)

    def style(belongs: tuple) -> tuple[str, float, float]:
        if not lit:
            return WIRE_COLOUR, 1.0, 1.6
        if belongs and set(belongs) <= lit:
            return ACCENT, 1.0, 2.6
        return WIRE_COLOUR, FADE, 1.4

    fig, ax = new_figure(figsize=figsize)
    ax.set_xlim(-0.9, pic.width + 0.4)
    ax.set_ylim(-0.8, pic.height + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    for w in pic.wires:
        colour, alpha, lw = style(w.parts)
        pts = w.points
        for (x0, y0), (x1, y1) in zip(pts[:-2], pts[1:-1]):
            ax.plot([x0, x1], [y0, y1], color=colour, alpha=alpha, linewidth=lw, solid_capstyle="round")
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        if w.arrow:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", color=colour, alpha=alpha, lw=lw, shrinkA=0, shrinkB=0))
        else:
            ax.plot([x0, x1], [y0, y1], color=colour, alpha=alpha, linewidth=lw)
        if w.label:
            _label(ax, w, colour, alpha, k)
    for n in pic.nodes:
        on = not lit or n.name in lit
        alpha = 1.0 if on else FADE
        edge = ACCENT if lit and n.name in lit else WIRE_COLOUR
        if n.kind == "layer":
            patch = mpatches.FancyBboxPatch((n.x - BOX_W / 2, n.y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0.02",
                                            facecolor=LAYER_COLOUR, edgecolor=edge, linewidth=2.2 if edge == ACCENT else 1.2,
                                            alpha=alpha, zorder=3)
            ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=12 * k, alpha=alpha, zorder=4)
            if n.note:  # below the box, right of the wire that comes up into it: no line crosses it
                ax.text(n.x + NOTE_DX, n.y - BOX_H / 2 - 0.22, n.note, ha="left", va="top", fontsize=NOTE_SIZE * k,
                        alpha=alpha, zorder=4)
        else:
            patch = mpatches.Circle((n.x, n.y), R, facecolor=OP_COLOUR, edgecolor=edge,
                                    linewidth=2.2 if edge == ACCENT else 1.2, alpha=alpha, zorder=3)
            ax.text(n.x, n.y, n.label, ha="center", va="center", fontsize=(11 if len(n.label) < 3 else 8) * k, alpha=alpha,
                    zorder=4)
            if n.note:
                ax.text(n.x + R + 0.08, n.y + R, n.note, ha="left", va="bottom", fontsize=NOTE_SIZE * k, alpha=alpha,
                        zorder=4)
        ax.add_patch(patch)
    kinds = {n.kind for n in pic.nodes}  # the legend explains only what this picture has
    handles = [mpatches.Patch(facecolor=LAYER_COLOUR, edgecolor=WIRE_COLOUR, label="학습되는 층 (W, b의 열 블록 + σ 또는 tanh)")]
    if "op" in kinds:
        handles.append(mpatches.Circle((0, 0), 0.1, facecolor=OP_COLOUR, edgecolor=WIRE_COLOUR, label="원소별 연산 (가중치 없음)"))
    ax.legend(handles=handles, loc="upper left", fontsize=10 * k, framealpha=0.9)
    ax.set_title(title if title is not None else pic.title)
    return fig
