"""Lesson 08 of tests/test_wrong_answers.py (the slowest: four of its wrong answers run alone), in its
own file so that pytest-xdist's --dist loadfile can run it beside lessons 09-10."""

import pytest
from test_wrong_answers import LATE, check_wrong_answers

LESSONS = [p for p in LATE if p.name.startswith("08")]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_solution_passes_and_every_wrong_answer_fails(lesson, tmp_path, capsys):
    check_wrong_answers(lesson, tmp_path, capsys)
