"""The checker as a pytest plugin (CI, GitHub Classroom): one test per exercise.

    python -m pytest -p course_tools.check --coursework notebooks/exercises/05_forget_gate.ipynb
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import sandbox as sb
from .checker import run_submission
from .generate import sanitize_file
from .lesson import LESSONS_DIR
from .match import prepare
from .notebook import CheckerError, CourseworkError
from .report import exercise_lines, other_lines
from .run import DEFAULT_TIMEOUT
from .verdict import PASS, CheckResult


def pytest_addoption(parser):
    group = parser.getgroup("coursework", "exercise notebooks of the LSTM course")
    group.addoption("--coursework", action="store_true",
                    help="collect the given exercise notebooks; one test per exercise")
    group.addoption("--coursework-lessons", type=Path, default=None,
                    help="lessons folder (default: notebooks/ of this repository)")
    group.addoption("--coursework-reference", type=Path, default=None,
                    help="pristine exercise notebook to check against (single notebook runs)")
    group.addoption("--coursework-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds per cell")
    group.addoption("--coursework-sandbox", action="store_true",
                    help="run each notebook confined (bubblewrap if installed), as `course.py grade` does")


def pytest_collect_file(file_path, parent):
    if not parent.config.getoption("coursework", default=False):
        return None
    if file_path.suffix != ".ipynb" or file_path.name.startswith(".") or ".ipynb_checkpoints" in file_path.parts:
        return None
    return _CourseworkFile.from_parent(parent, path=file_path)


class _CourseworkFile(pytest.File):
    _result = None
    _error = None

    def collect(self):
        cfg = self.config
        try:
            self._sub = prepare(
                self.path,
                cfg.getoption("coursework_lessons"),
                cfg.getoption("coursework_reference"),
            )
        except CourseworkError as exc:
            raise self.CollectError(exc.render()) from None
        for ex in self._sub.reference.exercises:
            yield _ExerciseItem.from_parent(self, name=f"exercise_{ex.number}", number=ex.number)
        yield _ExerciseItem.from_parent(self, name="other_cells", number=None)

    def result(self) -> CheckResult:
        if self._error is not None:
            raise self._error
        if self._result is None:
            cfg = self.config
            lessons = cfg.getoption("coursework_lessons") or LESSONS_DIR
            try:
                level = sb.detect() if cfg.getoption("coursework_sandbox") else None
                self._result = run_submission(
                    self._sub, sanitize_file(lessons), cfg.getoption("coursework_timeout"), lessons, level
                )
            except CheckerError as exc:
                self._error = exc
                raise
        return self._result


class _CourseworkFailed(Exception):
    pass


class _ExerciseItem(pytest.Item):
    def __init__(self, *, number, **kwargs):
        super().__init__(**kwargs)
        self.number = number

    def runtest(self):
        result = self.parent.result()
        if self.number is None:
            if result.others:
                raise _CourseworkFailed("\n".join(l for o in result.others for l in other_lines(o)))
            return
        ex = result.exercises[self.number - 1]
        if ex.status != PASS:
            notes = [f"참고(note): {n}" for n in result.notes]
            raise _CourseworkFailed("\n".join(exercise_lines(ex) + notes) + f"\n[{ex.status}]")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (_CourseworkFailed, CheckerError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        label = f"연습 {self.number}" if self.number else "연습 밖의 셀"
        return self.path, None, f"{self.parent.path.name}::{label}"

