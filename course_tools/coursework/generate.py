"""Build the exercise notebook of a lesson (also the reference a submission is checked against)."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .lesson import (
    AUTHOR_KEY,
    EXERCISES_SUBDIR,
    FORMAT_VERSION,
    GENERATOR,
    INTRO_CELL_ID,
    LESSON_GLOB,
    META_KEY,
    SANITIZE_FILE,
    TAG_CHECK,
    TAG_EXERCISE,
    Exercise,
    HiddenCheck,
    find_exercises,
    hidden_check_of,
    strip_solutions,
)
from .notebook import CourseworkError, cell_source, cell_tags, read_notebook, split_source

# --------------------------------------------------------------------- exercise generation


# What nbval never compares (IPyNbFile.skip_compare without --nbdime).
_UNCOMPARED = {
    "metadata", "traceback", "prompt_number", "execution_count", "output_type",
    "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg",
}


def _compared_outputs(outputs: list) -> list:
    """Outputs reduced to what nbval compares: streams joined per name, uncompared keys dropped."""
    streams: dict = {}
    reduced: list = []
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            name = out.get("name", "stdout")
            if name not in streams:
                streams[name] = {"stream": name, "text": ""}
                reduced.append(streams[name])
            streams[name]["text"] += text
            continue
        item = {}
        for key, value in out.items():
            if key in _UNCOMPARED:
                continue
            if key == "data" and isinstance(value, dict):
                item["data"] = {
                    k: ("".join(v) if isinstance(v, list) else v)
                    for k, v in value.items()
                    if k not in _UNCOMPARED
                }
            else:
                item[key] = value
        reduced.append(item)
    return reduced


def reference_hash(nb: dict) -> str:
    """SHA-256 of what decides a check: code cells' ids, sources, tags and the outputs as nbval
    compares them, plus ``metadata.coursework`` (without the hash itself).

    Prose (markdown), execution counts, images and widget model ids do not enter, so re-running
    a lesson whose checked outputs stay the same keeps the hash, while any change of a reference
    output or of a stub changes it.
    """
    items = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        items.append(
            {
                "id": cell.get("id"),
                "source": cell_source(cell),
                "outputs": _compared_outputs(cell.get("outputs", [])),
                "tags": sorted(t for t in cell_tags(cell) if isinstance(t, str)),
                "executed": cell.get("execution_count") is not None,
            }
        )
    meta = dict(nb.get("metadata", {}).get(META_KEY) or {})
    meta.pop("reference_sha256", None)
    blob = json.dumps(
        {"cells": items, "coursework": meta}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def intro_cell(lesson_file: str, exercises: list[Exercise]) -> dict:
    n = len(exercises)
    text = (
        f"> **연습 노트북** (exercise notebook) — 레슨 `{lesson_file}`에서 자동으로 만들어졌습니다. "
        f"연습 {n}개가 있습니다.\n"
        ">\n"
        "> - `# YOUR CODE HERE` 아래의 `raise NotImplementedError()`를 지우고 답을 쓰세요.\n"
        "> - 저장된 출력은 **정답 출력**(reference)입니다. 셀을 실행하면 내 출력으로 바뀝니다.\n"
        "> - 셀을 지우거나 순서를 바꾸지 마세요. 새 셀은 더해도 되지만 검사에는 쓰이지 않으니, "
        "답은 연습 셀 안에 쓰세요.\n"
        f"> - 검사(check): 저장소 폴더에서 `python3 course.py check notebooks/{EXERCISES_SUBDIR}/{lesson_file}` "
        "— 자세한 안내는 [docs/coursework.md](../../docs/coursework.md)."
    )
    return {
        "cell_type": "markdown",
        "id": INTRO_CELL_ID,
        "metadata": {"slideshow": {"slide_type": "skip"}, "tags": ["coursework-intro"]},
        "source": split_source(text),
    }


@dataclass
class Reference:
    """A pristine exercise notebook and what is known about its exercises."""

    lesson: str  # stem, e.g. "05_forget_gate"
    nb: dict
    exercises: list[Exercise]
    warnings: list[str]
    # from the lesson only (None/empty when checking against a generated exercise notebook):
    hidden: dict = field(default_factory=dict)  # exercise number -> HiddenCheck
    lesson_nb: dict | None = None  # the lesson itself, with its solutions (trusted runs only)

    @property
    def hash(self) -> str:
        return self.nb["metadata"][META_KEY]["reference_sha256"]

    def cell_by_id(self) -> dict:
        return {c["id"]: c for c in self.nb["cells"] if "id" in c}


def make_exercise_notebook(lesson_nb: dict, lesson_file: str) -> Reference | None:
    """Build the exercise notebook of a lesson; ``None`` if the lesson has no exercises.

    The lesson dict is not modified. Exercise cells get the stub, the tag ``exercise`` and
    ``metadata.coursework = {"exercise": n, "role": "solution"}``; check cells the tag
    ``exercise-check``, role ``check`` and ``editable: false``; every code cell
    ``deletable: false`` (checking matches cells by id). Outputs, execution counts, ids and
    markdown stay as they are, except that markdown links leaving ``notebooks/`` (``](../``)
    get one more ``../``, because the exercise notebook sits one folder deeper; a short markdown
    note is put first. ``metadata.coursework_author`` (wrong answers, hidden checks) is removed
    from every cell: the hidden checks go into ``Reference.hidden``, never into the notebook.
    """
    where = lesson_file
    exercises, warnings = find_exercises(lesson_nb, where)
    if not exercises:
        return None
    nb = copy.deepcopy(lesson_nb)
    by_id = {c["id"]: c for c in nb["cells"]}
    hidden: dict[int, HiddenCheck] = {}
    for ex in exercises:
        check, problem = hidden_check_of(by_id[ex.cell_id], f"{where}: 연습 {ex.number}")
        if check is not None:
            hidden[ex.number] = check
        if problem:
            warnings.append(problem)
    for cell in nb["cells"]:  # wrong answers and hidden checks are for authors and the checker
        if isinstance(cell.get("metadata"), dict):
            cell["metadata"].pop(AUTHOR_KEY, None)
    for ex in exercises:
        cell = by_id[ex.cell_id]
        new_src, blocks = strip_solutions(cell_source(cell), f"{where}: 연습 {ex.number}")
        if blocks == 0:
            raise CourseworkError(
                f"{where}: 연습 {ex.number}: exercise 태그가 있지만 BEGIN/END SOLUTION 블록이 없습니다.",
                f"{where}: exercise {ex.number} is tagged 'exercise' but has no solution block.",
            )
        cell["source"] = split_source(new_src)
        meta = cell.setdefault("metadata", {})
        if TAG_EXERCISE not in cell_tags(cell):
            meta["tags"] = cell_tags(cell) + [TAG_EXERCISE]
        meta[META_KEY] = {"exercise": ex.number, "role": "solution"}
        check = by_id[ex.check_cell_id]
        cmeta = check.setdefault("metadata", {})
        if TAG_CHECK not in cell_tags(check):
            cmeta["tags"] = cell_tags(check) + [TAG_CHECK]
        cmeta[META_KEY] = {"exercise": ex.number, "role": "check"}
        cmeta["editable"] = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell.setdefault("metadata", {})["deletable"] = False
        elif cell["cell_type"] == "markdown" and "](../" in cell_source(cell):
            cell["source"] = split_source(cell_source(cell).replace("](../", "](../../"))
    if INTRO_CELL_ID in by_id:
        raise CourseworkError(
            f"{where}: 셀 id '{INTRO_CELL_ID}'는 연습 노트북용으로 예약되어 있습니다.",
            f"{where}: cell id '{INTRO_CELL_ID}' is reserved for the exercise notebook.",
        )
    nb["cells"].insert(0, intro_cell(lesson_file, exercises))
    stem = lesson_file[: -len(".ipynb")] if lesson_file.endswith(".ipynb") else lesson_file
    nb.setdefault("metadata", {})[META_KEY] = {
        "format": FORMAT_VERSION,
        "generator": GENERATOR,
        "lesson": stem,
        "lesson_file": lesson_file,
        "exercises": [e.to_json() for e in exercises],
        "reference_sha256": "",
    }
    nb["metadata"][META_KEY]["reference_sha256"] = reference_hash(nb)
    return Reference(lesson=stem, nb=nb, exercises=exercises, warnings=warnings, hidden=hidden,
                     lesson_nb=lesson_nb)


def reference_from_exercise_notebook(nb: dict, where: str) -> Reference:
    """A generated exercise notebook used as the reference (when the lesson is not at hand).

    Its stored hash must match its content, i.e. nobody edited or ran it.
    """
    meta = nb.get("metadata", {}).get(META_KEY)
    if not isinstance(meta, dict) or not meta.get("exercises"):
        raise CourseworkError(
            f"{where}: 연습 노트북이 아닙니다 (metadata.coursework가 없음).",
            f"{where}: not a generated exercise notebook (no metadata.coursework).",
        )
    if reference_hash(nb) != meta.get("reference_sha256"):
        raise CourseworkError(
            f"{where}: 기준(reference) 노트북이 생성된 뒤 수정되었거나 실행되었습니다 — 정답 출력으로 쓸 수 없습니다.",
            f"{where}: the reference exercise notebook was edited or executed after generation; "
            "it cannot serve as the reference.",
        )
    try:
        exercises = [Exercise.from_json(e) for e in meta["exercises"]]
    except (KeyError, TypeError, ValueError):
        raise CourseworkError(
            f"{where}: metadata.coursework.exercises가 손상되었습니다.",
            f"{where}: metadata.coursework.exercises is malformed.",
        ) from None
    return Reference(lesson=str(meta.get("lesson")), nb=nb, exercises=exercises, warnings=[])


# --------------------------------------------------------------------------------- lessons


def lesson_files(lessons_dir: Path) -> list[Path]:
    return sorted(p for p in Path(lessons_dir).glob(LESSON_GLOB) if p.is_file())


def load_reference(lesson: str, lessons_dir: Path) -> Reference:
    path = Path(lessons_dir) / f"{lesson}.ipynb"
    if not path.is_file():
        raise CourseworkError(
            f"레슨 '{lesson}'의 노트북을 찾을 수 없습니다: {path}. "
            "레슨 폴더는 --lessons로, 생성된 연습 노트북은 --reference로 지정할 수 있습니다.",
            f"lesson '{lesson}' not found at {path}; pass --lessons DIR or --reference FILE.",
        )
    ref = make_exercise_notebook(read_notebook(path), path.name)
    if ref is None:
        raise CourseworkError(
            f"레슨 '{lesson}'에는 연습(### BEGIN SOLUTION)이 없습니다.",
            f"lesson '{lesson}' has no exercises (no ### BEGIN SOLUTION blocks).",
        )
    return ref


def sanitize_file(lessons_dir: Path) -> Path | None:
    p = Path(lessons_dir) / SANITIZE_FILE
    return p if p.is_file() else None
