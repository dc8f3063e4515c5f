"""Shared pieces of the coursework tools (exercise generation, checking, grading).

Vocabulary used across ``exercises``, ``check`` and ``grade``:

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
    :func:`make_exercise_notebook`; it keeps every stored output and every cell id.

Notebooks are handled as plain JSON dicts (not through ``nbformat.read``), so that nothing is
upgraded, normalised or given random ids behind our back: what is not changed on purpose is
written back byte for byte, and generation is deterministic.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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

NBVAL_SKIP_TAGS = {"nbval-skip"}
NBVAL_IGNORE_TAGS = {"nbval-ignore-output"}
NBVAL_RAISES_TAGS = {"raises-exception"}
NBVAL_SKIP_COMMENTS = {"NBVAL_SKIP"}
NBVAL_IGNORE_COMMENTS = {"NBVAL_IGNORE_OUTPUT", "PYTEST_VALIDATE_IGNORE_OUTPUT"}
NBVAL_RAISES_COMMENTS = {"NBVAL_RAISES_EXCEPTION"}


class CourseworkError(Exception):
    """An input problem that the user can fix; carries a Korean and an English message."""

    def __init__(self, ko: str, en: str):
        super().__init__(f"{ko}\n{en}")
        self.ko = ko
        self.en = en

    def render(self) -> str:
        return f"오류: {self.ko}\nError: {self.en}"


# ------------------------------------------------------------------------------ notebook I/O


def read_notebook(path: Path) -> dict:
    """Read a notebook file as a JSON dict, with a clear error for anything that is not one."""
    path = Path(path)
    if not path.exists():
        raise CourseworkError(f"파일이 없습니다: {path}", f"no such file: {path}")
    if path.is_dir():
        raise CourseworkError(
            f"노트북 파일이 아니라 폴더입니다: {path}", f"this is a folder, not a notebook: {path}"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CourseworkError(
            f"파일을 읽을 수 없습니다: {path} ({exc.strerror})",
            f"cannot read {path}: {exc.strerror}",
        ) from None
    return parse_notebook(raw, path.name)


def parse_notebook(raw: bytes, where: str) -> dict:
    not_nb = CourseworkError(
        f"{where}: 주피터 노트북(.ipynb) 파일이 아닙니다. "
        "연습 노트북을 JupyterLab에서 저장한 .ipynb 파일을 주세요.",
        f"{where}: not a Jupyter notebook (.ipynb) file.",
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_nb from None
    if not text.lstrip().startswith("{"):
        raise not_nb
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CourseworkError(
            f"{where}: 노트북 파일이 손상되었습니다 — JSON 형식 오류 ({exc.lineno}행 {exc.colno}열: "
            f"{exc.msg}). 저장이 중간에 끊겼거나 편집기로 고친 파일일 수 있습니다. "
            "JupyterLab에서 다시 열어 저장하거나, 새 연습 노트북에 답을 옮기세요.",
            f"{where}: the notebook is corrupt — invalid JSON at line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}.",
        ) from None
    if (
        not isinstance(nb, dict)
        or not isinstance(nb.get("cells"), list)
        or not isinstance(nb.get("metadata", {}), dict)
    ):
        raise not_nb
    if nb.get("nbformat") != 4:
        raise CourseworkError(
            f"{where}: 지원하지 않는 노트북 형식입니다 (nbformat {nb.get('nbformat')!r}; 4가 필요).",
            f"{where}: unsupported notebook format (nbformat {nb.get('nbformat')!r}; need 4).",
        )
    for i, cell in enumerate(nb["cells"]):
        if (
            not isinstance(cell, dict)
            or cell.get("cell_type") not in ("code", "markdown", "raw")
            or not isinstance(cell.get("source", ""), (str, list))
            or not isinstance(cell.get("metadata", {}), dict)
        ):
            raise CourseworkError(
                f"{where}: {i + 1}번째 셀의 구조가 손상되었습니다.",
                f"{where}: cell {i + 1} is malformed.",
            )
    return nb


def dumps_notebook(nb: dict) -> str:
    """Serialise like nbformat/JupyterLab do (sorted keys, indent 1, UTF-8), newline-terminated."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write_notebook(nb: dict, path: Path) -> None:
    Path(path).write_bytes(dumps_notebook(nb).encode("utf-8"))


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def split_source(text: str) -> list[str]:
    """nbformat's on-disk form of a multi-line string: a list of lines keeping their newlines."""
    return text.splitlines(keepends=True)


def cell_tags(cell: dict) -> list:
    tags = cell.get("metadata", {}).get("tags", [])
    return tags if isinstance(tags, list) else []


def _comment_markers(source: str) -> set:
    found = set()
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("#"):
            found.add(line.lstrip("#").strip())
    return found


def nbval_options(cell: dict) -> dict:
    """Which nbval markers (tags or comments) a code cell carries."""
    tags = set(cell_tags(cell))
    comments = _comment_markers(cell_source(cell))
    return {
        "skip": bool(tags & NBVAL_SKIP_TAGS or comments & NBVAL_SKIP_COMMENTS),
        "ignore_output": bool(tags & NBVAL_IGNORE_TAGS or comments & NBVAL_IGNORE_COMMENTS),
        "raises": bool(tags & NBVAL_RAISES_TAGS or comments & NBVAL_RAISES_COMMENTS),
    }


def first_line(source: str, width: int = 50) -> str:
    for line in source.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return "(빈 셀)"


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


def normalise_code(source: str) -> str:
    """Source compared for "the student did not touch it": trailing blanks and blank lines removed."""
    return "\n".join(line.rstrip() for line in source.strip("\n").split("\n")).strip()


# -------------------------------------------------------------- names an exercise cell binds


def _python_source(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or a transform it cannot do: comment magics out
        return "\n".join(
            "#" + line if line.lstrip().startswith(("%", "!")) else line
            for line in source.split("\n")
        )


def _targets(node: ast.AST) -> list[str]:
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.append(sub.id)
        elif isinstance(sub, ast.Starred) and isinstance(sub.value, ast.Name):
            names.append(sub.value.id)
    return names


def bound_names(source: str) -> list[str]:
    """Names a cell binds at module level (assignments, defs, classes, imports, loop targets).

    Used to tell which unsolved exercise a later ``NameError`` comes from. Function and class
    bodies are not entered (their names are local); ``if``/``for``/``with``/``try`` bodies are.
    """
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return []
    names: list[str] = []

    def visit(stmts):
        for st in stmts:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(st.name)
            elif isinstance(st, ast.Assign):
                for t in st.targets:
                    names.extend(_targets(t) if not isinstance(t, (ast.Subscript, ast.Attribute)) else [])
            elif isinstance(st, (ast.AugAssign, ast.AnnAssign)):
                if isinstance(st.target, ast.Name):
                    names.append(st.target.id)
            elif isinstance(st, (ast.Import, ast.ImportFrom)):
                for a in st.names:
                    if a.name != "*":
                        names.append((a.asname or a.name).split(".")[0])
            elif isinstance(st, (ast.For, ast.AsyncFor)):
                names.extend(_targets(st.target))
                visit(st.body)
                visit(st.orelse)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                for item in st.items:
                    if item.optional_vars is not None:
                        names.extend(_targets(item.optional_vars))
                visit(st.body)
            elif isinstance(st, (ast.If, ast.While)):
                visit(st.body)
                visit(st.orelse)
            elif isinstance(st, ast.Try) or type(st).__name__ == "TryStar":
                visit(st.body)
                for h in st.handlers:
                    if h.name:
                        names.append(h.name)
                    visit(h.body)
                visit(st.orelse)
                visit(st.finalbody)
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.NamedExpr):
                names.append(st.value.target.id)

    visit(tree.body)
    seen = set()
    return sorted(n for n in names if not (n in seen or seen.add(n)))


def identifiers(source: str) -> set:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source))


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
    note is put first.
    """
    where = lesson_file
    exercises, warnings = find_exercises(lesson_nb, where)
    if not exercises:
        return None
    nb = copy.deepcopy(lesson_nb)
    by_id = {c["id"]: c for c in nb["cells"]}
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
    return Reference(lesson=stem, nb=nb, exercises=exercises, warnings=warnings)


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


# ---------------------------------------------------------------------------------- Korean


def josa(number: int, pair: tuple[str, str] = ("이", "가")) -> str:
    """Subject particle after a number read in Sino-Korean: 1이, 2가, 3이, 4가, 10이."""
    last = number % 10
    if last == 0:
        return pair[0]  # 십, 백, 천: final consonant (만 also)
    return pair[0] if last in (1, 3, 6, 7, 8) else pair[1]
