"""Read a student's notebook, find its lesson and take the answers out of it (matched by cell id,
or by content when a tool dropped the ids)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from .generate import (
    Reference,
    lesson_files,
    load_reference,
    make_exercise_notebook,
    reference_from_exercise_notebook,
)
from .lesson import LESSON_NAME_RE, LESSONS_DIR, META_KEY
from .merge import disarm_markers, merged_notebook
from .notebook import CourseworkError, cell_source, first_line, normalise_code, read_notebook


@dataclass
class Submission:
    path: Path
    reference: Reference
    answers: dict  # exercise number -> student's source of the exercise cell
    notes: list = field(default_factory=list)

    def merged(self, seed: int | None = None) -> dict:
        """The reference with the student's exercise code (see :func:`.merge.merged_notebook`)."""
        return merged_notebook(self, seed)


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
