"""The notebook that is run: the reference with the student's exercise code (and hidden checks).

Only the exercise cells come from the student; every other cell, every stored output (nbval's
reference) and every rule (tags) come from the lesson. nbval comment markers a student writes
into an exercise cell are made inert.
"""

from __future__ import annotations

import copy

from .hidden import inject, is_hidden_cell
from .notebook import split_source

_NBVAL_MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP",
                  "PYTEST_VALIDATE_IGNORE_OUTPUT"}


def disarm_markers(source: str) -> str:
    """Make nbval comment markers in a student's answer inert (a student decides no checking
    rule); the line stays, so line numbers in messages do not move."""
    out = []
    for line in source.split("\n"):
        s = line.strip()
        if s.startswith("#") and s.lstrip("#").strip() in _NBVAL_MARKERS:
            line += "  (ignored by course_tools.check)"
        out.append(line)
    return "\n".join(out)


def merged_notebook(sub, seed: int | None = None) -> dict:
    """The reference with the student's answers; with ``seed``, hidden-check cells after the
    exercise cells that have one (see :mod:`.hidden`)."""
    ref = sub.reference
    nb = copy.deepcopy(ref.nb)
    by_id = {c.get("id"): c for c in nb["cells"]}
    for ex in ref.exercises:
        if ex.cell_id in by_id:  # (a reference cut short for a test keeps only its first cells)
            by_id[ex.cell_id]["source"] = split_source(disarm_markers(sub.answers[ex.number]))
    if seed is not None and ref.hidden:
        nb = inject(nb, ref.exercises, ref.hidden, seed)
    return nb


def without_hidden_records(merged: dict, data: dict) -> dict:
    """nbval's records renumbered as if the hidden cells were not there.

    A hidden cell that failed under nbval (it catches the student's exceptions, so: a timeout,
    a dead kernel) passes its failure to the exercise cell before it, if that one passed.
    """
    code = [c for c in merged["cells"] if c["cell_type"] == "code"]
    records = {r.get("cell_num"): r for r in data.get("records", []) if isinstance(r, dict)}
    out, j = [], 0
    for i, cell in enumerate(code):
        rec = records.get(i)
        if is_hidden_cell(cell):
            if rec is not None and rec.get("outcome") not in ("passed", "skipped") and out:
                prev = out[-1]
                if prev.get("cell_num") == j - 1 and prev.get("outcome") == "passed":
                    out[-1] = {**rec, "cell_num": j - 1}
            continue
        if rec is not None:
            out.append({**rec, "cell_num": j})
        j += 1
    return {**data, "records": out}
