"""Check an exercise notebook that a student edited: one line per exercise, 통과 / 실패 / 미완성.

    python3 course.py check notebooks/exercises/05_forget_gate.ipynb

How it works, and why it can be trusted:

1. The reference is rebuilt from the lesson (``notebooks/05_forget_gate.ipynb``) exactly as
   ``course.py exercises`` builds the exercise notebook, so it holds the lesson's stored outputs
   no matter what the student's file contains (running and saving a notebook replaces its
   outputs with the student's own; comparing such a file with itself would pass anything).
2. Only the code of the exercise cells is taken from the student's notebook, matched by cell id,
   and put into a copy of the reference. That copy is written next to the student's file (the
   kernel's working directory is the notebook's folder, as in JupyterLab) and removed afterwards.
3. The copy is run by nbval itself (``pytest --nbval --nbval-current-env``, with
   ``notebooks/nbval_sanitize.cfg`` when it exists, and single-threaded BLAS as the lessons are
   executed): the verdict per cell is nbval's.
4. Each exercise is its exercise cell plus the check cell after it. A failure that only follows
   from an earlier unsolved exercise (``NotImplementedError`` / ``NameError``) is attributed to
   that exercise.

Exit code: 0 all exercises pass; 1 some fail or are unfinished; 2 the input is not a usable
exercise notebook; 3 the checker could not run (e.g. no Jupyter kernel).

The module is also a pytest plugin, for CI and GitHub Classroom (one test per exercise):

    python -m pytest -p course_tools.check --coursework notebooks/exercises/05_forget_gate.ipynb
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ._cw_common import (
    LESSON_NAME_RE,
    LESSONS_DIR,
    META_KEY,
    ROOT,
    CourseworkError,
    Reference,
    bound_names,
    cell_source,
    first_line,
    identifiers,
    josa,
    lesson_files,
    load_reference,
    make_exercise_notebook,
    normalise_code,
    read_notebook,
    reference_from_exercise_notebook,
    sanitize_file,
    split_source,
    write_notebook,
)

PASS, FAIL, INCOMPLETE, ERROR = "pass", "fail", "incomplete", "error"
STATUS_KO = {PASS: "통과", FAIL: "실패", INCOMPLETE: "미완성", ERROR: "오류"}
DEFAULT_TIMEOUT = 300  # seconds per cell
MERGED_TAG = ".cw-check-"
_STUB_LINE = re.compile(r"^\s*raise\s+NotImplementedError\s*(\(\s*\))?\s*$", re.MULTILINE)
_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TB_FRAME = re.compile(r"^Cell In\s*\[\d*\],\s*line (\d+)", re.MULTILINE)
_TB_ARROW = re.compile(r"^-+> ?(\d+) (.*)$", re.MULTILINE)


class CheckerError(Exception):
    """The checker itself could not run (not the student's fault)."""


# --------------------------------------------------------------------------- preparation


@dataclass
class Submission:
    path: Path
    reference: Reference
    answers: dict  # exercise number -> student's source of the exercise cell
    notes: list = field(default_factory=list)

    def merged(self) -> dict:
        """The reference with the student's exercise code; nbval comment markers in it disarmed."""
        nb = copy.deepcopy(self.reference.nb)
        by_id = {c.get("id"): c for c in nb["cells"]}
        for ex in self.reference.exercises:
            by_id[ex.cell_id]["source"] = split_source(disarm_markers(self.answers[ex.number]))
        return nb


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


def _lesson_stems(lessons_dir: Path) -> set:
    return {p.stem for p in lesson_files(lessons_dir)} if lessons_dir.is_dir() else set()


def _code_ids(nb: dict) -> list:
    return [c.get("id") for c in nb["cells"] if c["cell_type"] == "code" and isinstance(c.get("id"), str)]


def _best_other_lesson(student: dict, lessons_dir: Path, exclude: str | None) -> str | None:
    """The lesson whose code-cell ids the student's notebook shares most (at least half)."""
    ids = set(_code_ids(student))
    if not ids or not lessons_dir.is_dir():
        return None
    best, best_share = None, 0.5
    for p in lesson_files(lessons_dir):
        if p.stem == exclude:
            continue
        try:
            lesson_ids = set(_code_ids(read_notebook(p)))
        except CourseworkError:
            continue
        if lesson_ids:
            share = len(ids & lesson_ids) / len(lesson_ids)
            if share >= best_share:
                best, best_share = p.stem, share
    return best


def _cell_label(ref: Reference, cell: dict) -> str:
    role = cell.get("metadata", {}).get(META_KEY, {})
    if role.get("role") == "solution":
        return f"연습 {role['exercise']}의 연습 셀(exercise cell)"
    if role.get("role") == "check":
        return f"연습 {role['exercise']}의 확인 셀(check cell)"
    return f"코드 셀 \"{first_line(cell_source(cell))}\""


def _other_lesson_error(where: str, other: str, lesson: str | None) -> CourseworkError:
    return CourseworkError(
        f"{where}: 다른 레슨의 노트북입니다 — 이 파일은 '{other}'의 연습인데"
        + (f" '{lesson}'로 검사하려고 했습니다." if lesson else " 레슨을 알 수 없습니다.")
        + " 파일 이름과 내용을 확인하세요.",
        f"{where}: notebook from another lesson — its cells belong to '{other}'"
        + (f", not '{lesson}'." if lesson else "."),
    )


def prepare(
    path: Path,
    lessons_dir: Path | None = None,
    reference_path: Path | None = None,
    expected_lesson: str | None = None,
) -> Submission:
    """Read a student's notebook, find its reference and take the answers out of it.

    Raises :class:`CourseworkError` (with Korean and English text) for anything that is not an
    intact exercise notebook: not a notebook, invalid JSON, another lesson's notebook, exercise
    or check cells deleted, reordered or turned into another cell type.
    """
    path = Path(path)
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    where = path.name
    student = read_notebook(path)
    meta = student.get("metadata", {}).get(META_KEY)
    meta_lesson = meta.get("lesson") if isinstance(meta, dict) and isinstance(meta.get("lesson"), str) else None
    stems = _lesson_stems(lessons_dir)
    name_lesson = path.stem if path.stem in stems else None

    if reference_path is not None:
        ref_nb = read_notebook(reference_path)
        if isinstance(ref_nb.get("metadata", {}).get(META_KEY), dict):
            reference = reference_from_exercise_notebook(ref_nb, Path(reference_path).name)
        else:
            reference = make_exercise_notebook(ref_nb, Path(reference_path).name)
            if reference is None:
                raise CourseworkError(
                    f"{Path(reference_path).name}: 기준 노트북에 연습이 없습니다.",
                    f"{Path(reference_path).name}: the reference has no exercises.",
                )
        claimed = meta_lesson or expected_lesson
        if claimed and claimed != reference.lesson and LESSON_NAME_RE.match(reference.lesson):
            raise CourseworkError(
                f"{where}: 다른 레슨의 노트북입니다 — 이 노트북은 '{claimed}'의 연습인데 기준(reference)은 "
                f"'{reference.lesson}'입니다.",
                f"{where}: notebook from another lesson — it is the exercise notebook of "
                f"'{claimed}', the reference is '{reference.lesson}'.",
            )
    else:
        lesson = expected_lesson or meta_lesson or name_lesson
        if lesson is None:
            lesson = _best_other_lesson(student, lessons_dir, exclude=None)
        if lesson is None:
            raise CourseworkError(
                f"{where}: 어느 레슨의 연습 노트북인지 알 수 없습니다 (metadata.coursework가 없고, "
                "파일 이름도 셀도 레슨과 맞지 않습니다). notebooks/exercises/의 연습 노트북을 쓰세요.",
                f"{where}: cannot tell which lesson this exercise notebook belongs to "
                "(no metadata.coursework; neither the file name nor the cells match a lesson).",
            )
        named = expected_lesson or name_lesson
        if meta_lesson and named and meta_lesson != named:
            raise CourseworkError(
                f"{where}: 다른 레슨의 노트북입니다 — 파일 이름은 '{named}'인데 내용은 "
                f"'{meta_lesson}'의 연습 노트북입니다. 맞는 파일을 냈는지 확인하세요.",
                f"{where}: notebook from another lesson — the file is named '{named}' but holds "
                f"the exercise notebook of '{meta_lesson}'.",
            )
        reference = load_reference(lesson, lessons_dir)

    sub = _match(path, student, reference, lessons_dir)
    if isinstance(meta, dict) and meta.get("reference_sha256") not in (None, reference.hash):
        sub.notes.append(
            "이 연습 노트북은 레슨이 바뀌기 전에 만들어졌습니다. 검사는 최신 정답 출력으로 합니다 "
            "(your exercise notebook predates the current lesson; checked against the current reference)."
        )
    return sub


def _match(path: Path, student: dict, ref: Reference, lessons_dir: Path) -> Submission:
    where = path.name
    ref_code = [c for c in ref.nb["cells"] if c["cell_type"] == "code"]
    stu_cells = student["cells"]
    if not any(isinstance(c.get("id"), str) for c in stu_cells):
        return _match_without_ids(path, student, ref)
    stu_index = {c["id"]: i for i, c in enumerate(stu_cells) if isinstance(c.get("id"), str)}

    present = [c for c in ref_code if c["id"] in stu_index and stu_cells[stu_index[c["id"]]]["cell_type"] == "code"]
    if len(present) * 2 < len(ref_code):
        other = _best_other_lesson(student, lessons_dir, exclude=ref.lesson)
        if other:
            raise _other_lesson_error(where, other, ref.lesson)
        raise CourseworkError(
            f"{where}: 레슨 '{ref.lesson}'의 연습 노트북과 셀이 맞지 않습니다 "
            f"(코드 셀 {len(ref_code)}개 중 {len(present)}개만 찾음). 다른 노트북이거나 셀 id가 바뀌었습니다. "
            "새 연습 노트북에 답을 옮겨 적으세요.",
            f"{where}: does not match the exercise notebook of lesson '{ref.lesson}' "
            f"(found {len(present)} of {len(ref_code)} code cells by id).",
        )
    missing = [c for c in ref_code if c not in present]
    if missing:
        shown = ", ".join(_cell_label(ref, c) for c in missing[:4]) + (" …" if len(missing) > 4 else "")
        raise CourseworkError(
            f"{where}: 셀 {len(missing)}개가 지워졌거나 코드 셀이 아니게 바뀌었습니다: {shown}. "
            "검사는 셀 id로 셀을 찾습니다. 새 연습 노트북을 받아 답을 옮겨 적으세요.",
            f"{where}: {len(missing)} code cell(s) deleted or changed to another type: the checker "
            "matches cells by id; copy your answers into a fresh exercise notebook.",
        )
    positions = [stu_index[c["id"]] for c in ref_code]
    for a, b, cell_b in zip(positions, positions[1:], ref_code[1:]):
        if b < a:
            raise CourseworkError(
                f"{where}: 셀 순서가 바뀌었습니다 ({_cell_label(ref, cell_b)}이(가) 원래보다 앞에 있음). "
                "셀을 원래 순서로 되돌리거나 새 연습 노트북에 답을 옮겨 적으세요.",
                f"{where}: cells were reordered ({cell_b['id']} moved up); restore the order or "
                "copy your answers into a fresh exercise notebook.",
            )
    answers = {ex.number: cell_source(stu_cells[stu_index[ex.cell_id]]) for ex in ref.exercises}
    sub = Submission(path=path, reference=ref, answers=answers)
    if any(disarm_markers(a) != a for a in answers.values()):
        sub.notes.append(
            "연습 셀의 NBVAL_* 주석은 검사에서 무시됩니다 (nbval markers in exercise cells are ignored)."
        )
    exercise_ids = {ex.cell_id for ex in ref.exercises}
    changed = [
        c for c in ref_code
        if c["id"] not in exercise_ids
        and normalise_code(cell_source(stu_cells[stu_index[c["id"]]])) != normalise_code(cell_source(c))
    ]
    ref_ids = {c.get("id") for c in ref.nb["cells"]}
    added = [c for c in stu_cells if c["cell_type"] == "code" and c.get("id") not in ref_ids]
    if changed:
        sub.notes.append(
            f"연습 셀이 아닌 코드 셀 {len(changed)}개를 고쳤습니다 — 그 변경은 검사에 쓰이지 않습니다 "
            f"({len(changed)} non-exercise code cell(s) edited; edits there are ignored)."
        )
    if added:
        sub.notes.append(
            f"새로 더한 코드 셀 {len(added)}개는 검사에 쓰이지 않습니다 — 답은 연습 셀 안에 쓰세요 "
            f"({len(added)} added code cell(s) ignored; put answers inside the exercise cells)."
        )
    return sub


def _match_without_ids(path: Path, student: dict, ref: Reference) -> Submission:
    """Fallback for notebooks saved by tools that drop cell ids: align code cells by content."""
    where = path.name
    ref_code = [c for c in ref.nb["cells"] if c["cell_type"] == "code"]
    stu_code = [c for c in student["cells"] if c["cell_type"] == "code"]
    ex_pos = {ex.cell_id: ex for ex in ref.exercises}
    ref_keys = [
        f"\0exercise-{ex_pos[c['id']].number}" if c["id"] in ex_pos else normalise_code(cell_source(c))
        for c in ref_code
    ]
    stu_keys = [normalise_code(cell_source(c)) for c in stu_code]
    sm = difflib.SequenceMatcher(None, ref_keys, stu_keys, autojunk=False)
    pairs = {}
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = block.b + k
    answers = {}
    for r, c in enumerate(ref_code):
        if c["id"] not in ex_pos:
            continue
        ex = ex_pos[c["id"]]
        before = [pairs[i] for i in pairs if i < r]
        lo = max(before) if before else -1
        if r + 1 not in pairs:
            raise CourseworkError(
                f"{where}: 셀 id가 없는 노트북이라 셀 내용으로 맞추는데, 연습 {ex.number}의 확인 셀"
                "(check cell)을 찾을 수 없습니다 (지워졌거나 고쳐졌음). 새 연습 노트북에 답을 옮겨 적으세요.",
                f"{where}: the notebook has no cell ids, and the check cell of exercise {ex.number} "
                "cannot be found by content (deleted or edited).",
            )
        hi = pairs[r + 1]
        candidates = list(range(lo + 1, hi))
        if not candidates:
            raise CourseworkError(
                f"{where}: 연습 {ex.number}의 연습 셀(exercise cell)이 없습니다 (지워졌거나 순서가 바뀜).",
                f"{where}: the exercise cell of exercise {ex.number} is missing (deleted or reordered).",
            )
        stub = cell_source(c)
        best = max(
            candidates,
            key=lambda i: difflib.SequenceMatcher(None, stub, cell_source(stu_code[i])).ratio(),
        )
        answers[ex.number] = cell_source(stu_code[best])
    if len(pairs) * 2 < len(ref_code) - len(ex_pos):
        raise CourseworkError(
            f"{where}: 레슨 '{ref.lesson}'의 연습 노트북과 셀이 맞지 않습니다. 다른 노트북인 것 같습니다.",
            f"{where}: does not match the exercise notebook of lesson '{ref.lesson}'.",
        )
    sub = Submission(path=path, reference=ref, answers=answers)
    sub.notes.append(
        "셀 id가 없는 노트북이라 셀 내용으로 연습 셀을 찾았습니다 "
        "(no cell ids in this notebook; exercise cells were found by content)."
    )
    return sub


# ------------------------------------------------------------------------------ running


# Lessons are executed with single-threaded BLAS (course_tools.execute); the check runs the same
# way whatever the entry point (course.py, python -m, the pytest plugin in CI), since a thread
# count can change the last digits of a float.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _probe_env() -> dict:
    env = dict(os.environ)
    env.update(SINGLE_THREAD)
    env.pop("PYTEST_ADDOPTS", None)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def _merged_path(student_path: Path) -> tuple[Path, str | None]:
    folder = student_path.resolve().parent
    stem = re.sub(r"[^\w.-]", "_", student_path.stem)  # safe as a pytest argument
    name = f".{stem}{MERGED_TAG}{secrets.token_hex(4)}.ipynb"
    if os.access(folder, os.W_OK):
        return folder / name, None
    tmp = Path(tempfile.mkdtemp(prefix="cw-check-"))
    return tmp / name, (
        "노트북 폴더에 쓸 수 없어 임시 폴더에서 실행했습니다 — 상대 경로를 쓰는 셀은 다르게 동작할 수 있습니다 "
        "(notebook folder not writable; ran in a temporary folder)."
    )


def run_nbval(nb: dict, student_path: Path, sanitize: Path | None, timeout: float) -> tuple[dict, str]:
    """Run nbval on ``nb`` written next to the student's file; return the probe's records."""
    merged, note = _merged_path(student_path)
    with tempfile.TemporaryDirectory(prefix="cw-nbval-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        out = Path(tmp) / "probe.json"
        cmd = [
            sys.executable, "-m", "pytest",
            "-c", str(ini), "--rootdir", str(merged.parent),
            "-p", "nbval.plugin", "-p", "course_tools._cw_probe",
            "-p", "no:cacheprovider", "--noconftest", "--color=no", "-q",
            "--nbval", "--nbval-current-env",
            "--nbval-cell-timeout", str(timeout),
        ]
        if sanitize is not None:
            cmd += ["--nbval-sanitize-with", str(Path(sanitize).resolve())]
        cmd.append(str(merged))
        env = _probe_env()
        env["CW_PROBE_OUT"] = str(out)
        try:
            write_notebook(nb, merged)
            proc = subprocess.run(
                cmd, cwd=str(merged.parent), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                encoding="utf-8", errors="replace",
            )
        finally:
            try:
                merged.unlink()
            except FileNotFoundError:
                pass
            if note:
                try:
                    merged.parent.rmdir()
                except OSError:
                    pass
        if not out.exists():
            raise CheckerError(
                "nbval을 실행하지 못했습니다 (could not run nbval):\n" + _tail(proc.stdout)
            )
        data = json.loads(out.read_text(encoding="utf-8"))
    data["pytest_output"] = proc.stdout
    data["note"] = note
    return data, proc.stdout


def _tail(text: str, n: int = 25) -> str:
    lines = (text or "").rstrip().splitlines()
    return "\n".join(lines[-n:])


# ----------------------------------------------------------------------------- analysis


@dataclass
class Failure:
    kind: str  # "exception" | "mismatch" | "timeout" | "crash" | "notrun" | "other"
    ename: str = ""
    evalue: str = ""
    line: int | None = None  # line of the innermost notebook frame
    code_line: str = ""  # that line's text, to find the cell it belongs to
    where: str = ""  # the cell that frame is in, when it is not the failing cell
    diff: dict | None = None
    message: str = ""


@dataclass
class CellFailure:
    label: str
    failure: Failure
    causal: bool = False  # a NameError/NotImplementedError traced to an unsolved exercise
    defines: tuple = ()  # names the failed cell would have bound
    followers: int = 0  # later cells that failed with NameError on one of those names


@dataclass
class ExerciseResult:
    number: int
    title: str | None
    status: str = PASS
    reason: str = ""  # short Korean reason after the status
    failure: Failure | None = None
    failed_cell: str = ""  # "exercise" or "check"
    blocked_by: int | None = None
    affected: list = field(default_factory=list)  # later cells that failed because of this one
    hint: str = ""


@dataclass
class CheckResult:
    path: Path
    lesson: str
    exercises: list
    others: list  # CellFailure outside any exercise, not explained by one
    notes: list

    @property
    def ok(self) -> bool:
        return all(e.status == PASS for e in self.exercises) and not self.others

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def _failure_of(rec: dict | None) -> Failure | None:
    if rec is None:
        return Failure(kind="notrun", message="not run")
    outcome = rec.get("outcome")
    if outcome in ("passed", "skipped"):
        return None
    if outcome == "xfailed":
        return Failure(kind="notrun", message=rec.get("message", ""))
    msg = rec.get("message", "")
    errors = [o for o in rec.get("outputs", []) if o.get("output_type") == "error"]
    if "Kernel dead" in msg:
        return Failure(kind="notrun", message=msg)
    if rec.get("kernel_alive") is False and not errors:
        return Failure(kind="crash", message=msg)
    if msg.startswith("Timeout") or "Timeout of" in msg:
        return Failure(kind="timeout", message=msg)
    if msg.startswith("Cell execution caused an exception") and errors:
        err = errors[-1]
        tb = _ANSI.sub("", "\n".join(err.get("traceback", [])))
        # IPython names every cell "Cell In[N]" with the same N here (nbval runs cells without
        # history), so the innermost frame is located later by the text of its "---->" line.
        starts = [m.start() for m in _TB_FRAME.finditer(tb)]
        line, code_line = None, ""
        if starts:
            frame = tb[starts[-1]:]
            arrow = _TB_ARROW.search(frame)
            if arrow:
                line, code_line = int(arrow.group(1)), arrow.group(2)
        return Failure(
            kind="exception", ename=err.get("ename", ""), evalue=err.get("evalue", ""),
            line=line, code_line=code_line, message=msg,
        )
    if msg.startswith("Cell outputs differ"):
        return Failure(kind="mismatch", diff=rec.get("diff"), message=rec.get("nbval_report", "") or msg)
    return Failure(kind="other", message=msg)


def analyse(sub: Submission, data: dict) -> CheckResult:
    ref = sub.reference
    code = [c for c in ref.nb["cells"] if c["cell_type"] == "code"]
    records = {r["cell_num"]: r for r in data.get("records", [])}
    if code and not records:
        raise CheckerError(
            "nbval이 셀을 하나도 실행하지 못했습니다 (nbval ran no cell):\n"
            + "\n".join(data.get("collect_errors", [])) + "\n" + _tail(data.get("pytest_output", ""))
        )
    role = {}
    for ex in ref.exercises:
        role[ex.cell_id] = ("solution", ex)
        role[ex.check_cell_id] = ("check", ex)
    results = {ex.number: ExerciseResult(ex.number, ex.title) for ex in ref.exercises}
    pristine = {ex.number: cell_source(ref.cell_by_id()[ex.cell_id]) for ex in ref.exercises}
    unsolved: list = []  # exercises (Exercise) with status incomplete, in order
    not_passing: list = []  # exercises that did not pass, in order
    others: list = []
    timed_out = False
    pending: dict = {}  # exercise number -> (failure, which cell) of its exercise cell

    def blame(failure: Failure, source: str):
        """The unsolved exercise a NameError / NotImplementedError comes from, if any."""
        if failure.kind != "exception" or not unsolved:
            return None
        if failure.ename == "NameError":
            m = _NAME_ERROR.search(failure.evalue)
            if m:
                for ex in reversed(unsolved):
                    if m.group(1) in ex.defines:
                        return ex
            return None
        if failure.ename == "NotImplementedError":
            used = identifiers(source)
            for ex in reversed(unsolved):
                if used & set(ex.defines):
                    return ex
            return unsolved[-1]
        return None

    ran = [cell_source(c).split("\n") for c in sub.merged()["cells"] if c["cell_type"] == "code"]

    def locate(failure: Failure | None, n: int) -> None:
        """Find the cell of the innermost frame (the failing cell, or an earlier one whose
        function was called); drop the line number when that cannot be told."""
        if failure is None or failure.line is None:
            return
        k, text = failure.line, failure.code_line.rstrip()

        def has(i):
            return len(ran[i]) >= k and ran[i][k - 1].rstrip() == text

        if has(n):
            return
        origin = next((i for i in range(n - 1, -1, -1) if has(i)), None)
        if origin is None:
            failure.line = None
        else:
            failure.where = _cell_label(ref, code[origin])

    for n, cell in enumerate(code):
        failure = _failure_of(records.get(n))
        locate(failure, n)
        if failure is not None and failure.kind in ("timeout", "crash"):
            timed_out = True
        r = role.get(cell.get("id"))
        if r is None:
            if failure is None:
                continue
            if failure.kind == "notrun" and timed_out:
                continue  # reported where the timeout happened
            label = f"코드 셀 \"{first_line(cell_source(cell))}\""
            cause = blame(failure, cell_source(cell))
            culprit = cause or (not_passing[-1] if not_passing else None)
            if culprit is not None:
                results[culprit.number].affected.append(CellFailure(label, failure, cause is not None))
                continue
            m = _NAME_ERROR.search(failure.evalue) if failure.ename == "NameError" else None
            origin = next((o for o in reversed(others) if m and m.group(1) in o.defines), None)
            if origin is not None:
                origin.followers += 1
                origin.defines += tuple(bound_names(cell_source(cell)))
            else:
                others.append(CellFailure(label, failure, defines=tuple(bound_names(cell_source(cell)))))
            continue
        kind, ex = r
        res = results[ex.number]
        if kind == "solution":
            pending[ex.number] = failure
            continue
        # the check cell: decide the exercise from both of its cells
        sol_failure = pending.pop(ex.number, None)
        first = sol_failure or failure
        res.failed_cell = "exercise" if sol_failure else ("check" if failure else "")
        answer = sub.answers[ex.number]
        source = answer if sol_failure else cell_source(cell)
        untouched = normalise_code(answer) == normalise_code(pristine[ex.number])
        if untouched:
            res.status, res.reason = INCOMPLETE, "아직 답을 쓰지 않음 / not attempted"
            res.failure = first  # None only if the lesson's check cannot see a missing answer
        elif first is None:
            res.status = PASS
        elif first.kind == "notrun":
            res.status = ERROR
            res.reason = "앞의 셀에서 시간 초과나 커널 중단이 있어 검사하지 못함 / not run: an earlier cell timed out or the kernel died"
        elif first.kind == "exception" and first.ename == "NotImplementedError" and _STUB_LINE.search(answer):
            res.status = INCOMPLETE
            res.reason = "답에 raise NotImplementedError()가 남아 있음 / stub still in place"
            res.failure = first
        elif (culprit := blame(first, source)) is not None and culprit.number != ex.number:
            res.status, res.blocked_by = INCOMPLETE, culprit.number
            res.reason = (
                f"연습 {culprit.number}{josa(culprit.number)} 풀리지 않아 실행되지 않음 "
                f"/ blocked by unsolved exercise {culprit.number}"
            )
            res.failure = first
        else:
            res.status, res.failure = FAIL, first
            if first.kind == "timeout":
                res.reason = "시간 초과 / timeout — 끝나지 않는 반복문이 있는지 보세요"
            elif first.kind == "crash":
                res.reason = "커널이 멈춤 / kernel died — os._exit, exit(), 메모리 부족 등"
            earlier = [e for e in not_passing if e.number < ex.number]
            if earlier:
                e = earlier[-1]
                res.hint = (
                    f"앞의 연습 {e.number}{josa(e.number)} 통과하지 못해 영향받았을 수 있습니다 "
                    f"(may follow from exercise {e.number})."
                )
            m = _NAME_ERROR.search(first.evalue) if first.ename == "NameError" else None
            origin = next((o for o in reversed(others) if m and m.group(1) in o.defines), None)
            if origin is not None:
                res.hint = (
                    f"앞의 연습 밖 셀({origin.label})이 실패해 '{m.group(1)}'이(가) 만들어지지 않았습니다 "
                    "(caused by an earlier failing cell, see below)."
                )
            if sol_failure is not None and first.kind == "mismatch" and (first.diff or {}).get("kind") == "unexpected":
                res.hint = (
                    "연습 셀이 정답에 없는 출력을 냈습니다 — 확인용 print 등은 지우세요 "
                    "(the exercise cell printed something the reference does not have)."
                )
        if res.status == INCOMPLETE:
            unsolved.append(ex)
        if res.status != PASS:
            not_passing.append(ex)
    return CheckResult(
        path=sub.path,
        lesson=ref.lesson,
        exercises=[results[e.number] for e in ref.exercises],
        others=others,
        notes=list(sub.notes) + ([data["note"]] if data.get("note") else []),
    )


def untouched(sub: Submission) -> set:
    """Numbers of the exercises whose cell is still exactly the stub."""
    cells = sub.reference.cell_by_id()
    return {
        e.number
        for e in sub.reference.exercises
        if normalise_code(sub.answers[e.number]) == normalise_code(cell_source(cells[e.cell_id]))
    }


def check_notebook(
    path: Path,
    lessons_dir: Path | None = None,
    reference_path: Path | None = None,
    expected_lesson: str | None = None,
    sanitize: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    run_untouched: bool = True,
) -> CheckResult:
    """Check one student notebook. Raises CourseworkError (bad input) or CheckerError.

    ``run_untouched=False`` (grading): a notebook in which no exercise was touched is reported
    as all incomplete without executing it.
    """
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    sub = prepare(path, lessons_dir, reference_path, expected_lesson)
    if not run_untouched and len(untouched(sub)) == len(sub.reference.exercises):
        return CheckResult(
            path=sub.path,
            lesson=sub.reference.lesson,
            exercises=[
                ExerciseResult(e.number, e.title, INCOMPLETE, "아직 답을 쓰지 않음 / not attempted")
                for e in sub.reference.exercises
            ],
            others=[],
            notes=sub.notes + ["연습을 하나도 풀지 않아 실행하지 않았습니다 (nothing attempted; not run)."],
        )
    if sanitize is None:
        sanitize = sanitize_file(lessons_dir)
    data, _ = run_nbval(sub.merged(), Path(path), sanitize, timeout)
    return analyse(sub, data)


# ---------------------------------------------------------------------------- reporting

_KEY_KO = {
    "stdout": "출력(stdout)",
    "stderr": "오류 출력(stderr)",
    "text/plain": "결과 값(text/plain)",
    "text/html": "HTML 출력(text/html)",
    "text/latex": "수식 출력(text/latex)",
    "text/markdown": "마크다운 출력(text/markdown)",
    "ename": "예외 이름(ename)",
    "evalue": "예외 메시지(evalue)",
}
_MAX_LINE = 160


def _clip(s: str) -> str:
    return s if len(s) <= _MAX_LINE else s[: _MAX_LINE - 1] + "…"


def _window(r: str, y: str) -> tuple[str, str]:
    """Cut two long lines to the same window around their first differing character."""
    if max(len(r), len(y)) <= _MAX_LINE:
        return r, y
    k = 0
    while k < min(len(r), len(y)) and r[k] == y[k]:
        k += 1
    start = max(0, k - 40)
    end = start + _MAX_LINE - 2
    cut = lambda s: ("…" if start else "") + s[start:end] + ("…" if len(s) > end else "")
    return cut(r), cut(y)


def _as_text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _diff_lines(diff: dict) -> list:
    key = diff.get("key", "")
    what = _KEY_KO.get(key, key)
    ref_vals = [_as_text(v) for v in diff.get("reference", [])]
    your_vals = [_as_text(v) for v in diff.get("yours", [])]
    kind = diff.get("kind")
    if kind == "value":
        r_lines, y_lines = ref_vals[0].split("\n"), your_vals[0].split("\n")
        i = 0
        while i < min(len(r_lines), len(y_lines)) and r_lines[i] == y_lines[i]:
            i += 1
        r = r_lines[i] if i < len(r_lines) else "(여기서 출력이 끝남 / output ends here)"
        y = y_lines[i] if i < len(y_lines) else "(여기서 출력이 끝남 / output ends here)"
        r, y = _window(r, y)
        where = f"{what}, {i + 1}번째 줄" if max(len(r_lines), len(y_lines)) > 1 else what
        return [
            f"처음 다른 출력: {where} (first differing output)",
            f"정답(reference): {_clip(r)}",
            f"내 출력(yours):  {_clip(y)}",
        ]
    if kind == "missing":
        first = ref_vals[0].split("\n")[0] if ref_vals else ""
        return [
            f"정답에 있는 {what}이(가) 내 출력에 없습니다 (missing output)",
            f"정답(reference): {_clip(first)}",
            "내 출력(yours):  (출력 없음 / no output)",
        ]
    if kind == "unexpected":
        first = your_vals[0].split("\n")[0] if your_vals else ""
        return [
            f"정답에 없는 {what}이(가) 나왔습니다 (unexpected output)",
            "정답(reference): (출력 없음 / no output)",
            f"내 출력(yours):  {_clip(first)}",
        ]
    return [
        f"{what} 개수가 다릅니다 (number of outputs differs)",
        f"정답(reference): {len(ref_vals)}개 — {_clip(ref_vals[0].splitlines()[0] if ref_vals and ref_vals[0] else '')}",
        f"내 출력(yours):  {len(your_vals)}개 — {_clip(your_vals[0].splitlines()[0] if your_vals and your_vals[0] else '')}",
    ]


def _exc_text(f: Failure) -> str:
    return f"{f.ename}: {f.evalue}" if f.evalue else f.ename


def _failure_lines(f: Failure, cell_name: str) -> list:
    if f.kind == "exception":
        at = f" {f.line}행" if f.line and not f.where else ""
        if f.where:
            return [
                f"{cell_name}에서 오류가 났습니다 (exception) — 오류가 난 곳: {f.where}"
                + (f" {f.line}행" if f.line else ""),
                f"내 출력(yours):  {_clip(_exc_text(f))}",
            ]
        return [
            f"{cell_name}{at}에서 오류가 났습니다 (exception):",
            f"내 출력(yours):  {_clip(_exc_text(f))}",
        ]
    if f.kind == "mismatch":
        if f.diff:
            return [f"{cell_name}의 출력이 정답과 다릅니다 (output differs)."] + _diff_lines(f.diff)
        return [f"{cell_name}의 출력이 정답과 다릅니다 (output differs):"] + [
            _clip(l) for l in f.message.splitlines()[:12]
        ]
    if f.kind == "timeout":
        return [f"{cell_name}: 시간 초과 (timeout)"]
    if f.kind == "crash":
        return [f"{cell_name}에서 커널이 멈췄습니다 (the kernel died); 뒤의 셀은 실행되지 않았습니다."]
    if f.kind == "notrun":
        return [f"{cell_name}: 실행되지 않음 (not run)"]
    return [f"{cell_name}: {_clip(f.message)}"]


def exercise_lines(e: ExerciseResult) -> list:
    """The report lines of one exercise: the status line, then indented details."""
    title = f" ({e.title})" if e.title else ""
    head = f"연습 {e.number}{title}: {STATUS_KO[e.status]}"
    if e.reason:
        head += f" ({e.reason})"
    out = [head]
    if e.status == FAIL and e.failure is not None:
        cell_name = "연습 셀(exercise cell)" if e.failed_cell == "exercise" else "확인 셀(check cell)"
        out += ["    " + l for l in _failure_lines(e.failure, cell_name)]
    if e.status == INCOMPLETE and e.failure is not None and e.blocked_by is not None:
        if e.failure.kind == "exception":
            out.append(f"    오류(error): {_clip(_exc_text(e.failure))}")
    if e.hint:
        out.append(f"    도움말(hint): {e.hint}")
    if e.affected:
        out.append(
            f"    뒤의 셀 {len(e.affected)}개도 이 연습 때문에 실패했습니다 "
            f"({len(e.affected)} later cell(s) failed because of it)."
        )
    return out


def other_lines(o: CellFailure) -> list:
    out = [f"연습 밖의 셀(other cell): 실패 — {o.label}"]
    out += ["    " + l for l in _failure_lines(o.failure, "이 셀")]
    if o.followers:
        out.append(
            f"    뒤의 셀 {o.followers}개도 이 셀 때문에 실행되지 못했습니다 (NameError) "
            f"({o.followers} later cell(s) failed because of it)."
        )
    out.append(
        "    도움말(hint): 앞의 연습이 모두 통과했는데 이 셀이 다르면, 연습 답이 뒤 셀에서 쓰는 값을 "
        "바꾸었거나 환경(패키지 버전, 작업 폴더)이 다를 수 있습니다."
    )
    return out


def summary_lines(result: CheckResult) -> list:
    n = len(result.exercises)
    counts = {s: sum(e.status == s for e in result.exercises) for s in STATUS_KO}
    parts = [f"{STATUS_KO[s]} {counts[s]}" for s in (FAIL, INCOMPLETE, ERROR) if counts[s]]
    if result.others:
        parts.append(f"연습 밖 실패 {len(result.others)}")
    verdict = "모두 통과!" if result.ok else ", ".join(parts)
    en = f"Result: {counts[PASS]} of {n} exercise(s) passed"
    if not result.ok:
        en += f"; {counts[FAIL]} failed, {counts[INCOMPLETE]} incomplete"
        if counts[ERROR]:
            en += f", {counts[ERROR]} not checked"
        if result.others:
            en += f", {len(result.others)} other cell(s) failed"
    return [f"결과: 연습 {n}개 중 {counts[PASS]}개 통과 — {verdict}", en + "."]


def format_report(result: CheckResult, shown_path: str | None = None) -> str:
    name = shown_path or result.path.name
    out = [f"검사(check): {name} — 레슨 {result.lesson}, 연습 {len(result.exercises)}개"]
    out += [f"  참고(note): {note}" for note in result.notes]
    for e in result.exercises:
        out += ["  " + l for l in exercise_lines(e)]
    for o in result.others:
        out += ["  " + l for l in other_lines(o)]
    out += summary_lines(result)
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="course.py check",
        description="Check an exercise notebook against the lesson's reference outputs (nbval).",
    )
    ap.add_argument("notebook", type=Path, help="the exercise notebook you edited")
    ap.add_argument("--lessons", type=Path, default=None, help="lessons folder (default: notebooks/)")
    ap.add_argument("--reference", type=Path, default=None,
                    help="a pristine generated exercise notebook (or the lesson) to check against")
    ap.add_argument("--sanitize", type=Path, default=None,
                    help="nbval sanitize file (default: <lessons>/nbval_sanitize.cfg if it exists)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell")
    args = ap.parse_args(argv)
    try:
        result = check_notebook(
            args.notebook, args.lessons, args.reference, sanitize=args.sanitize, timeout=args.timeout
        )
    except CourseworkError as exc:
        print(exc.render())
        return 2
    except CheckerError as exc:
        print(f"오류: 검사 도구를 실행할 수 없습니다 / Error: the checker could not run.\n{exc}")
        return 3
    print(format_report(result, str(args.notebook)))
    return result.exit_code


# ------------------------------------------------------------------------- pytest plugin
# python -m pytest -p course_tools.check --coursework NOTEBOOK... [--coursework-lessons DIR]

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
                data, _ = run_nbval(
                    self._sub.merged(), self.path, sanitize_file(lessons), cfg.getoption("coursework_timeout")
                )
                self._result = analyse(self._sub, data)
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


if __name__ == "__main__":
    sys.exit(main())
