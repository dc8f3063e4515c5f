"""Lesson 02: every exercise has author metadata, the solution reproduces the stored check output,
and every registered wrong answer fails both the visible check and the hidden check.

The solution cells, check cells and ``coursework_author`` metadata are read from the lesson. The
namespace is the lesson's imports plus measurement 1's set-up cell (``base``, ``W0``, ``xs``, ...),
which is all the exercises use; no training runs here.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "02_bptt_vanishing_gradients.ipynb"
SETUP_CELLS = ("l02-01", "l02-13")  # imports; measurement 1 (base, W0, xs, N, T, D, H)


def _cells():
    return nbformat.read(LESSON, as_version=4).cells


def _exercises():
    cells = [c for c in _cells() if c.cell_type == "code"]
    return [(c, cells[i + 1]) for i, c in enumerate(cells) if "### BEGIN SOLUTION" in c.source]


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _run(source: str, ns: dict) -> str:
    source = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), np.errstate(all="ignore"):
        exec(compile(source, "<lesson 02>", "exec"), ns)
    return out.getvalue()


_SETUP: dict = {}


def _namespace_before(index: int) -> dict:
    if not _SETUP:
        by_id = {c.get("id"): c for c in _cells()}
        for cid in SETUP_CELLS:
            _run(by_id[cid].source, _SETUP)
    ns = dict(_SETUP)
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
    return all(np.asarray(a[k]).shape == np.asarray(b[k]).shape and np.allclose(a[k], b[k], rtol=rtol, atol=atol) for k in a)


def test_four_exercises_each_with_author_metadata():
    exercises = _exercises()
    assert [c.id for c, _ in exercises] == ["l02-42", "l02-e2", "l02-45", "l02-48"]
    for cell, check in exercises:
        meta = cell.metadata.get("coursework_author")
        assert meta, f"exercise cell {cell.id} has no coursework_author metadata"
        assert 1 <= len(meta["wrong_answers"]) <= 3
        assert "def hidden(rng)" in meta["hidden_check"]["source"]
        assert "exercise-check" in check.metadata.get("tags", [])


@pytest.mark.parametrize("index", range(4))
def test_solution_reproduces_the_stored_check_output(index):
    cell, check = _exercises()[index]
    ns = _namespace_before(index)
    _run(cell.source, ns)
    assert _run(check.source, ns) == _stdout(check)
    assert "False" not in _stdout(check)
    # the check prints booleans, shapes and the thresholds it was given, never computed values
    assert not re.search(r"\d\.\d\d", _stdout(check))


CASES = [(i, k) for i, (cell, _) in enumerate(_exercises())
         for k in range(len(cell.metadata.get("coursework_author", {}).get("wrong_answers", [])))]


@pytest.mark.parametrize("index,k", CASES)
def test_every_wrong_answer_fails_the_check_and_the_hidden_check(index, k):
    cell, check = _exercises()[index]
    meta = cell.metadata["coursework_author"]
    wrong = meta["wrong_answers"][k]
    mutant = _mutate(cell.source, wrong["replace"])
    ns = _namespace_before(index)
    try:
        mns = dict(ns)
        _run(mutant, mns)
        printed = _run(check.source, mns)
    except Exception:
        printed = None
    assert printed != _stdout(check), f"check cell accepts wrong answer {wrong['name']!r}"

    hc = meta["hidden_check"]
    reference = _hidden(cell.source, hc["source"], ns)
    assert _same(reference, _hidden(cell.source, hc["source"], ns), hc["rtol"], hc["atol"])  # deterministic
    try:
        theirs = _hidden(mutant, hc["source"], ns)
    except Exception:
        return
    assert not _same(reference, theirs, hc["rtol"], hc["atol"]), f"hidden check accepts {wrong['name']!r}"


def test_no_removed_overflow_forensics_and_one_word_per_step():
    sources = {c.get("id"): c.source for c in _cells()}
    assert "l02-overflow" not in sources
    text = "\n".join(c.source for c in _cells() if c.cell_type == "markdown")
    # 단계 alone (a time step or an optimizer step?) is not used; 학습 단계 is
    assert not re.search(r"(?<!학습 )단계", text), re.findall(r".{20}(?<!학습 )단계.{10}", text)[:5]
