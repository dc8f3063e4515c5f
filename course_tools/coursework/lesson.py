"""Lessons and their exercises: solution markers, stubs, finding exercise and check cells.

Vocabulary used across the coursework tools:

lesson
    ``notebooks/NN_name.ipynb``, executed; its stored outputs are the reference that nbval
    compares.
exercise cell ("solution cell")
    a code cell of the lesson with one or more ``### BEGIN SOLUTION`` / ``### END SOLUTION``
    blocks. In the exercise notebook every block becomes ``# YOUR CODE HERE`` +
    ``raise NotImplementedError()`` at the marker's indentation.
check cell
    the next code cell after an exercise cell; its stored output reveals whether the answer is
    right.
exercise notebook
    ``notebooks/exercises/NN_name.ipynb``, generated from the lesson by
    :func:`.generate.make_exercise_notebook`; it keeps every stored output and every cell id.
author metadata
    ``metadata.coursework_author`` of a lesson's exercise cell: wrong answers and the hidden
    check (see docs/coursework.md); never copied into exercise notebooks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .notebook import (
    CourseworkError,
    bound_names,
    cell_source,
    cell_tags,
    nbval_options,
)

ROOT = Path(__file__).resolve().parents[2]
LESSONS_DIR = ROOT / "notebooks"
EXERCISES_SUBDIR = "exercises"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
LESSON_NAME_RE = re.compile(r"^(\d\d_[A-Za-z0-9_\-]+)$")
SANITIZE_FILE = "nbval_sanitize.cfg"

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)###[ \t]*BEGIN SOLUTION[ \t]*$")
END_RE = re.compile(r"^[ \t]*###[ \t]*END SOLUTION[ \t]*$")
STUB_COMMENT = "# YOUR CODE HERE"
STUB_RAISE = "raise NotImplementedError()"

TAG_EXERCISE = "exercise"
TAG_CHECK = "exercise-check"
META_KEY = "coursework"
FORMAT_VERSION = 1
GENERATOR = "course_tools.exercises"
INTRO_CELL_ID = "coursework-intro"
AUTHOR_KEY = "coursework_author"


# ------------------------------------------------------------------------ solution stripping


def has_solution(source: str) -> bool:
    return any(BEGIN_RE.match(line) for line in source.splitlines())


def strip_solutions(source: str, where: str = "") -> tuple[str, int]:
    """Replace every solution block by the stub, at the marker's indentation.

    Returns ``(new_source, number_of_blocks)``. Unbalanced or nested markers are an error.
    """
    out: list[str] = []
    in_block = False
    blocks = 0
    begin_line = 0
    lines = source.split("\n")
    for n, line in enumerate(lines, start=1):
        m = BEGIN_RE.match(line)
        if m:
            if in_block:
                raise CourseworkError(
                    f"{where}: {n}행의 BEGIN SOLUTION 앞에 END SOLUTION이 없습니다 (중첩 불가).",
                    f"{where}: line {n}: BEGIN SOLUTION inside an open block (nesting is not allowed).",
                )
            indent = m.group("indent")
            out.append(indent + STUB_COMMENT)
            out.append(indent + STUB_RAISE)
            in_block = True
            begin_line = n
            blocks += 1
        elif END_RE.match(line):
            if not in_block:
                raise CourseworkError(
                    f"{where}: {n}행의 END SOLUTION에 짝이 되는 BEGIN SOLUTION이 없습니다.",
                    f"{where}: line {n}: END SOLUTION without BEGIN SOLUTION.",
                )
            in_block = False
        elif not in_block:
            out.append(line)
    if in_block:
        raise CourseworkError(
            f"{where}: {begin_line}행의 BEGIN SOLUTION이 END SOLUTION으로 닫히지 않았습니다.",
            f"{where}: BEGIN SOLUTION at line {begin_line} is never closed by END SOLUTION.",
        )
    return "\n".join(out), blocks



# ----------------------------------------------------------------------- exercise discovery


@dataclass
class Exercise:
    number: int  # 1-based, in notebook order
    cell_id: str
    check_cell_id: str
    title: str | None = None
    defines: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "cell_id": self.cell_id,
            "check_cell_id": self.check_cell_id,
            "title": self.title,
            "defines": list(self.defines),
        }

    @classmethod
    def from_json(cls, d: dict) -> "Exercise":
        return cls(
            number=int(d["number"]),
            cell_id=str(d["cell_id"]),
            check_cell_id=str(d["check_cell_id"]),
            title=d.get("title"),
            defines=list(d.get("defines") or []),
        )


_TITLE_PREFIX = re.compile(r"^(연습\s*문제|연습|문제|exercise|problem)\s*\d*\s*[.:)\-—–]?\s*", re.IGNORECASE)


_ENUMERATION = re.compile(r"^\d+(\.\d+)*[.)]?\s+")


def _title_from_markdown(cells: list[dict]) -> str | None:
    """Title of an exercise: the last heading above it (between the previous code cell and it)
    that says more than "연습 N" / "연습 문제" / "Exercise"."""
    for cell in reversed(cells):
        for line in reversed(cell_source(cell).splitlines()):
            s = line.strip()
            if not s.startswith("#"):
                continue
            title = _ENUMERATION.sub("", s.lstrip("#").strip())
            title = _TITLE_PREFIX.sub("", title).strip(" *_`")
            if title:
                return title if len(title) <= 60 else title[:59] + "…"
    return None


def find_exercises(nb: dict, where: str) -> tuple[list[Exercise], list[str]]:
    """Exercises of a lesson (or of an exercise notebook built from one): ``(exercises, warnings)``.

    Raises :class:`CourseworkError` when the lesson breaks the rules that checking relies on:
    missing or duplicate cell ids, an exercise with no check cell after it, an exercise or check
    cell that nbval would skip, or that was never executed (so it has no reference).
    """
    cells = nb["cells"]
    ids = [c.get("id") for c in cells]
    exercise_idx = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code"
        and (has_solution(cell_source(c)) or TAG_EXERCISE in cell_tags(c))
    ]
    if not exercise_idx:
        return [], []
    if any(not isinstance(i, str) or not i for i in ids):
        raise CourseworkError(
            f"{where}: 셀 id가 없는 셀이 있습니다. nbformat 4.5 이상으로 저장하세요 "
            "(JupyterLab 4나 nbformat.write로 저장하면 생깁니다).",
            f"{where}: some cells have no id; save the notebook as nbformat >= 4.5.",
        )
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CourseworkError(
            f"{where}: 셀 id가 중복됩니다: {', '.join(dup)}", f"{where}: duplicate cell ids: {', '.join(dup)}"
        )
    code_idx = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    exercises: list[Exercise] = []
    warnings: list[str] = []
    prev_code = -1
    for number, i in enumerate(exercise_idx, start=1):
        cell = cells[i]
        label = f"{where}: 연습 {number} (exercise {number}, cell id {cell['id']})"
        later = [j for j in code_idx if j > i]
        if not later:
            raise CourseworkError(
                f"{label}: 연습 셀 다음에 결과를 보여 주는 확인 셀(check cell)이 없습니다.",
                f"{label}: no code cell after the exercise cell to check its result.",
            )
        j = later[0]
        check = cells[j]
        if j in exercise_idx:
            raise CourseworkError(
                f"{label}: 연습 셀 바로 다음 코드 셀이 또 연습 셀입니다. 사이에 결과를 출력하는 확인 셀을 두세요.",
                f"{label}: the next code cell is another exercise; put a check cell in between.",
            )
        for role, c in (("연습 셀(exercise cell)", cell), ("확인 셀(check cell)", check)):
            opts = nbval_options(c)
            if opts["skip"]:
                raise CourseworkError(
                    f"{label}: {role}에 nbval-skip이 붙어 있어 검사할 수 없습니다.",
                    f"{label}: the {'exercise' if c is cell else 'check'} cell is nbval-skip, so it cannot be checked.",
                )
            if c.get("execution_count") is None:
                raise CourseworkError(
                    f"{label}: {role}이 실행되지 않은 채 저장되어 정답 출력(reference)이 없습니다. "
                    "레슨을 실행해 저장하세요 (python3 course.py execute).",
                    f"{label}: the {'exercise' if c is cell else 'check'} cell was saved unexecuted, "
                    "so there is no reference output; execute the lesson.",
                )
        copts = nbval_options(check)
        if copts["ignore_output"] or copts["raises"]:
            warnings.append(
                f"{label}: 확인 셀에 nbval-ignore-output/raises-exception이 있어 출력은 비교되지 않습니다 "
                "(check cell output is not compared)."
            )
        title = _title_from_markdown(
            [c for c in cells[prev_code + 1 : i] if c["cell_type"] == "markdown"]
        )
        exercises.append(
            Exercise(
                number=number,
                cell_id=cell["id"],
                check_cell_id=check["id"],
                title=title,
                defines=bound_names(cell_source(cell)),
            )
        )
        prev_code = i
    return exercises, warnings



# ------------------------------------------------------------------ author metadata


DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-10


@dataclass(frozen=True)
class HiddenCheck:
    """``coursework_author.hidden_check`` of an exercise cell: ``def hidden(rng)`` and tolerances."""

    source: str
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


def author_meta(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get(AUTHOR_KEY)
    return meta if isinstance(meta, dict) else {}


def hidden_check_of(cell: dict, where: str) -> tuple[HiddenCheck | None, str | None]:
    """The hidden check of a lesson's exercise cell, and a warning if its metadata is unusable."""
    spec = author_meta(cell).get("hidden_check")
    if spec is None:
        return None, None
    src = spec.get("source") if isinstance(spec, dict) else None
    if isinstance(src, list):
        src = "".join(src)
    if not isinstance(src, str) or not re.search(r"^def hidden\(", src, re.MULTILINE):
        return None, f"{where}: coursework_author.hidden_check.source에 def hidden(rng)가 없습니다 (ignored)."
    try:
        compile(src, "<hidden check>", "exec")
    except SyntaxError as exc:
        return None, f"{where}: hidden_check.source 문법 오류 (syntax error, ignored): {exc}"
    tol = {}
    for key, default in (("rtol", DEFAULT_RTOL), ("atol", DEFAULT_ATOL)):
        v = spec.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            return None, f"{where}: hidden_check.{key}는 0 이상의 수여야 합니다 (ignored)."
        tol[key] = float(v)
    return HiddenCheck(src, **tol), None


def wrong_answers_of(cell: dict) -> list:
    """``coursework_author.wrong_answers`` as given (validated by tests/test_wrong_answers.py)."""
    wrong = author_meta(cell).get("wrong_answers")
    return wrong if isinstance(wrong, list) else []
