"""Check an exercise notebook that a student edited: one line per exercise, 통과 / 실패 / 미완성.

    python3 course.py check notebooks/exercises/05_forget_gate.ipynb [--sandbox]

Entry point only; the checker lives in the package :mod:`course_tools.coursework`, whose modules
follow the flow (match -> merge -> run/sandbox -> hidden -> verdict -> report). This module is also
the pytest plugin for CI and GitHub Classroom (one test per exercise):

    python -m pytest -p course_tools.check --coursework notebooks/exercises/05_forget_gate.ipynb

Exit code: 0 all exercises pass; 1 some fail or are unfinished; 2 the input is not a usable
exercise notebook; 3 the checker could not run (e.g. no Jupyter kernel).
"""

from __future__ import annotations

import sys

from .coursework.checker import check_notebook, run_submission, untouched  # noqa: F401
from .coursework.cli import main
from .coursework.match import Submission, prepare  # noqa: F401
from .coursework.merge import disarm_markers  # noqa: F401
from .coursework.notebook import CheckerError  # noqa: F401
from .coursework.plugin import pytest_addoption, pytest_collect_file  # noqa: F401  (pytest hooks)
from .coursework.report import exercise_lines, format_report, other_lines, summary_lines  # noqa: F401
from .coursework.run import DEFAULT_TIMEOUT, MERGED_TAG, run_nbval  # noqa: F401
from .coursework.verdict import (  # noqa: F401
    ERROR,
    FAIL,
    INCOMPLETE,
    PASS,
    STATUS_KO,
    CheckResult,
    ExerciseResult,
    analyse,
)

if __name__ == "__main__":
    sys.exit(main())
