"""Lessons 08-10 of tests/test_wrong_answers.py: the same check, in its own file so that pytest-xdist's
--dist loadfile runs it on the other worker (these lessons train models and take minutes)."""

import pytest
from test_wrong_answers import LATE, check_wrong_answers


@pytest.mark.parametrize("lesson", LATE, ids=[p.stem for p in LATE])
def test_solution_passes_and_every_wrong_answer_fails(lesson, tmp_path, capsys):
    check_wrong_answers(lesson, tmp_path, capsys)
