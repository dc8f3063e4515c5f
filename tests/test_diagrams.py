"""The cell pictures of lstmlib.diagrams: they match the library's gates and draw cleanly."""

import warnings

import matplotlib.colors as mcolors
import matplotlib.patches as mpatches
import pytest

from lstmlib import diagrams, gru, lstm, plotting


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize("cell, gates", [("rnn", ("tanh",)), ("lstm", lstm.GATES), ("gru", gru.GATES)])
def test_the_learned_layers_are_the_library_gates(cell, gates):
    layers = [n.name for n in diagrams.PICTURES[cell]().nodes if n.kind == "layer"]
    assert sorted(layers) == sorted(gates)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_wire_connects_parts_of_its_own_picture(cell):
    pic = diagrams.PICTURES[cell]()
    names = {n.name for n in pic.nodes}
    for w in pic.wires:
        assert set(w.parts) <= names, w
        assert len(w.points) >= 2 and w.label_at in ("start", "end", "above")


@pytest.mark.parametrize("cell, expected", [
    ("rnn", ["$h_{t-1}$", "$x_t$", diagrams.H_OUT, "tanh"]),
    ("lstm", ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$x_t$", diagrams.H_OUT, "$f_t$ 망각 (L2)", "$i_t$ 입력 (L1)", "$g_t$ 후보 (L3)", "$o_t$ 출력 (L4)", "+", "×"]),
    ("gru", ["$h_{t-1}$", "$x_t$", diagrams.H_OUT, "$z_t$ 업데이트 (G2)", "$r_t$ 리셋 (G1)", "$n_t$ 후보 (G3a)", "1−"]),
])
def test_pictures_draw_their_labels_with_no_glyph_warning(cell, expected, caplog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing Hangul glyph is a UserWarning
        fig = diagrams.draw_cell(cell)
        png = plotting.figure_to_png(fig)
    assert png[:4] == b"\x89PNG"
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
    texts = _texts(fig)
    for label in expected:
        assert label in texts, (label, texts)
    assert fig.axes[0].get_title().startswith(cell.upper())


def test_highlight_draws_the_named_parts_in_the_accent_colour_and_fades_the_rest():
    fig = diagrams.draw_cell("lstm", highlight=("f", "keep"))
    accent = mcolors.to_rgba(diagrams.ACCENT)
    lit, faded = [], []
    for patch in fig.axes[0].patches:
        (lit if patch.get_edgecolor() == accent else faded).append(patch)
    assert len(lit) == 2  # the f box and the × on the cell-state line
    assert {type(p) for p in lit} == {mpatches.FancyBboxPatch, mpatches.Circle}
    assert len(faded) == len(diagrams.PICTURES["lstm"]().nodes) - 2
    assert all(p.get_alpha() == diagrams.FADE for p in faded)
    plain = diagrams.draw_cell("lstm")
    assert all(p.get_edgecolor() != accent for p in plain.axes[0].patches)


def test_bad_arguments_name_the_argument_and_the_choices():
    with pytest.raises(ValueError, match=r"cell must be one of \('rnn', 'lstm', 'gru'\), got 'transformer'"):
        diagrams.draw_cell("transformer")
    with pytest.raises(ValueError, match=r"highlight has unknown parts \['forget'\]; the lstm picture has \("):
        diagrams.draw_cell("lstm", highlight=("forget",))
    with pytest.raises(TypeError, match=r"highlight must be a tuple of part names, got the string 'f'; write \('f',\)"):
        diagrams.draw_cell("lstm", highlight="f")
    with pytest.raises(TypeError, match="highlight must be a tuple of part names, got NoneType"):
        diagrams.draw_cell("gru", highlight=None)
    with pytest.raises(ValueError, match=r"figsize must be \(width, height\) in inches"):
        diagrams.draw_cell("lstm", figsize=(9.0,))
    assert diagrams.parts("gru") == ("z", "r", "n", "keep", "one_minus", "write", "add")


def _segments(pic):
    for w in pic.wires:
        for (x0, y0), (x1, y1) in zip(w.points[:-1], w.points[1:]):
            yield (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@pytest.mark.parametrize("figsize", [(9.0, 5.4), (8.0, 4.8), (7.2, 4.3)])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_no_wire_runs_through_a_label(cell, figsize):
    # every wire is horizontal or vertical; no segment may cross the drawn extent of any text
    pic = diagrams.PICTURES[cell]()
    fig = diagrams.draw_cell(cell, figsize=figsize)
    ax = fig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()  # the lessons' figures have no pyplot canvas
    fig.draw(renderer)
    to_data = ax.transData.inverted()
    labels = [n.note for n in pic.nodes if n.note] + [w.label for w in pic.wires if w.label]
    checked = 0
    for text in ax.texts:
        if text.get_text() not in labels:
            continue
        (x0, y0), (x1, y1) = to_data.transform(text.get_window_extent(renderer).get_points())
        for sx0, sy0, sx1, sy1 in _segments(pic):
            overlap = sx0 < x1 and sx1 > x0 and sy0 < y1 and sy1 > y0
            assert not overlap, (text.get_text(), (x0, y0, x1, y1), (sx0, sy0, sx1, sy1))
        checked += 1
    assert checked == len(labels)


def test_faded_parts_stay_readable_and_the_legend_lists_only_what_is_drawn():
    assert diagrams.FADE >= 0.5  # 0.35 was too light on a projector
    legend = {cell: [t.get_text() for t in diagrams.draw_cell(cell).axes[0].get_legend().get_texts()] for cell in ("rnn", "lstm")}
    assert len(legend["rnn"]) == 1 and legend["rnn"][0].startswith("학습되는 층")  # the RNN picture has no element-wise op
    assert len(legend["lstm"]) == 2 and legend["lstm"][1].startswith("원소별 연산")
    gru_formula = [t for t in diagrams.draw_cell("gru").axes[0].texts if "W_{hn}" in t.get_text()]
    assert len(gru_formula) == 1 and gru_formula[0].get_fontsize() >= 12
