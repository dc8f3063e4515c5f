"""Lesson 01: every registered wrong answer is rejected, and the lesson's figures are readable.

The exercises' solution cells, check cells and ``coursework_author`` metadata are read from the
lesson itself. Each exercise runs in a small namespace (NumPy, ``lstmlib.rnn``, ``lstmlib.layers``
and the earlier exercises' solutions), so no training runs here.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import matplotlib.text
import nbformat
import numpy as np
import pytest

from lstmlib import data, diagrams, layers, plotting, rnn

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "01_rnn_basics.ipynb"
MIN_FONT_PT = 10.5  # 14.6 px at the 100 dpi the lessons' figures are shown at
MAX_WIDTH_IN = 12.8  # 1280 px


def _cells():
    return nbformat.read(LESSON, as_version=4).cells


def _exercises():
    """[(exercise cell, check cell)] in lesson order."""
    cells = [c for c in _cells() if c.cell_type == "code"]
    return [(c, cells[i + 1]) for i, c in enumerate(cells) if "### BEGIN SOLUTION" in c.source]


def _stored_stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _run(source: str, ns: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), np.errstate(all="ignore"):
        exec(compile(source, "<lesson 01>", "exec"), ns)
    return out.getvalue()


def _namespace_before(index: int) -> dict:
    """Kernel-like namespace holding the solutions of the exercises before ``index``."""
    ns = {"np": np, "rnn": rnn, "layers": layers}
    for cell, _ in _exercises()[:index]:
        _run(cell.source, ns)
    return ns


def _mutate(source: str, pairs) -> str:
    for old, new in pairs:
        assert source.count(old) == 1, f"{old!r} must occur exactly once in the solution cell"
        source = source.replace(old, new)
    return source


def _hidden(source: str, hidden_src: str, ns: dict, seed: int = 7) -> dict:
    ns = dict(ns)
    _run(source, ns)
    _run(hidden_src, ns)
    with np.errstate(all="ignore"):
        return ns["hidden"](np.random.default_rng(seed))


def _same(a: dict, b: dict, rtol: float, atol: float) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.shape != y.shape or not np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=False):
            return False
    return True


def test_three_exercises_each_with_author_metadata():
    exercises = _exercises()
    assert len(exercises) == 3
    for cell, check in exercises:
        meta = cell.metadata.get("coursework_author")
        assert meta, f"exercise cell {cell.id} has no coursework_author metadata"
        assert 1 <= len(meta["wrong_answers"]) <= 3
        assert "def hidden(rng)" in meta["hidden_check"]["source"]
        assert "exercise-check" in check.metadata.get("tags", [])


@pytest.mark.parametrize("index", range(3))
def test_solution_reproduces_the_stored_check_output(index):
    cell, check = _exercises()[index]
    ns = _namespace_before(index)
    _run(cell.source, ns)
    assert _run(check.source, ns) == _stored_stdout(check)
    # the check prints booleans and shapes, never the values a student must compute
    assert not re.search(r"\d\.\d", _stored_stdout(check))


CASES = [(i, k) for i, (cell, _) in enumerate(_exercises())
         for k in range(len(cell.metadata.get("coursework_author", {}).get("wrong_answers", [])))]


@pytest.mark.parametrize("index,k", CASES)
def test_every_wrong_answer_fails_the_check_and_the_hidden_check(index, k):
    cell, check = _exercises()[index]
    meta = cell.metadata["coursework_author"]
    wrong = meta["wrong_answers"][k]
    mutant = _mutate(cell.source, wrong["replace"])
    ns = _namespace_before(index)

    # the visible check cell prints something else (or raises)
    try:
        mns = dict(ns)
        _run(mutant, mns)
        printed = _run(check.source, mns)
    except Exception:
        printed = None
    assert printed != _stored_stdout(check), f"check cell accepts wrong answer {wrong['name']!r}"

    # the hidden check, on fresh inputs, differs (or raises)
    hc = meta["hidden_check"]
    reference = _hidden(cell.source, hc["source"], ns)
    assert _same(reference, _hidden(cell.source, hc["source"], ns), hc["rtol"], hc["atol"])  # deterministic
    try:
        theirs = _hidden(mutant, hc["source"], ns)
    except Exception:
        return
    assert not _same(reference, theirs, hc["rtol"], hc["atol"]), f"hidden check accepts {wrong['name']!r}"


def _helpers() -> dict:
    """The lesson's drawing helpers (its cell with id l01-helpers), run with the lesson's imports."""
    (cell,) = [c for c in _cells() if c.get("id") == "l01-helpers"]
    ns = {"np": np, "data": data, "diagrams": diagrams, "plotting": plotting}
    _run(cell.source, ns)
    return ns


def _assert_readable(fig):
    assert fig.get_figwidth() <= MAX_WIDTH_IN
    fig.canvas.draw()
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_text().strip() and t.get_visible() and t.get_fontsize() < MIN_FONT_PT]
    assert not small, f"text smaller than {MIN_FONT_PT} pt: {small}"


def test_lesson_figures_are_readable_on_a_slide():
    h = _helpers()
    _assert_readable(h["draw_task_shapes"]())
    _assert_readable(h["draw_folded_unfolded"]("hell", "ello"))
    _assert_readable(h["rnn_cell_picture"]())
    vocab = data.build_vocab("안녕하세요 안녕히 가세요")
    probs = np.random.default_rng(0).dirichlet(np.ones(vocab.size), size=12)
    fig, ax = plotting.new_figure(figsize=(10.0, 4.4))
    ids = data.encode("안녕하세요 안녕히 가세요", vocab)
    h["draw_probs"](ax, probs, vocab, ids[:-1], ids[1:], "t", min_shown=0.01)
    _assert_readable(fig)


def test_cell_picture_has_no_legend_for_operations_it_lacks():
    fig = _helpers()["rnn_cell_picture"]()
    assert fig.axes[0].get_legend() is None


def test_folded_and_unfolded_picture_names_every_step():
    fig = _helpers()["draw_folded_unfolded"]("hell", "ello")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$x_1$ 'h'", "$x_4$ 'l'", "$y_4$ 정답 'o'", "$h_0 = 0$"} <= texts
