"""Lessons 09-10 of tests/test_wrong_answers.py: the same check, in its own file so that pytest-xdist's
--dist loadfile can run it on another worker than lesson 08's (these lessons train models)."""

import pytest
from test_wrong_answers import LATE, check_wrong_answers

LESSONS = [p for p in LATE if not p.name.startswith("08")]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_solution_passes_and_every_wrong_answer_fails(lesson, tmp_path, capsys):
    check_wrong_answers(lesson, tmp_path, capsys)
