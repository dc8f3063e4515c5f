"""Notebook files as plain JSON dicts, cell helpers, the names a cell binds, error messages.

Notebooks are handled as plain JSON dicts (not through ``nbformat.read``), so that nothing is
upgraded, normalised or given random ids behind our back: what is not changed on purpose is
written back byte for byte, and generation is deterministic.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

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




class CheckerError(Exception):
    """The checker itself could not run (not the student's fault)."""

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

# ---------------------------------------------------------------------------------- Korean


def josa(number: int, pair: tuple[str, str] = ("이", "가")) -> str:
    """Subject particle after a number read in Sino-Korean: 1이, 2가, 3이, 4가, 10이."""
    last = number % 10
    if last == 0:
        return pair[0]  # 십, 백, 천: final consonant (만 also)
    return pair[0] if last in (1, 3, 6, 7, 8) else pair[1]
