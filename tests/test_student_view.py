"""The student view: what a learner sees in a lesson or exercise notebook carries no test machinery.

A learner sees every cell that is not ``slideshow.slide_type: skip`` (and the outputs of all
cells, on GitHub and in JupyterLab). Checked for every lesson and exercise notebook:

* **machinery** — markdown a learner sees (not ``skip``, not speaker ``notes``) does not talk
  about nbval, pytest, CI or tests (``테스트``); code a learner sees has no nbval/pytest marker
  comments (use cell tags); no output mentions nbval/pytest;
* **outputs** — no visible cell prints a widget redraw counter ("다시 그린 횟수", ``.redraws``);
  no stored output of any cell shows an unfinished progress bar ("0%", ``37/200``), and a
  notebook progress bar's start line is followed by its finish line (``lstmlib.train``);
* **self-check cells** — a cell that sets widget values programmatically (``panel.self_check(...)``,
  ``slider.value = ...``) is ``slide_type: skip``, has ``jupyter.source_hidden`` and
  ``jupyter.outputs_hidden`` true, and prints nothing.

Each failure lists ``notebook cell-id: problem`` lines. Run ``python tests/test_student_view.py``
(optionally with notebook paths) to print every violation without pytest.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "notebooks" / "exercises").glob("[0-9][0-9]_*.ipynb")
)

MACHINERY_MD = re.compile(
    r"nbval|pytest|(?<![A-Za-z])CI(?![A-Za-z])|테스트|course\.py test|GitHub Actions|헤드리스|headless",
    re.IGNORECASE,
)
MACHINERY_CODE = re.compile(r"nbval|pytest", re.IGNORECASE)
REDRAW_TEXT = re.compile(r"다시 그린 횟수|\bredraws?\b")
REDRAW_SOURCE = re.compile(r"\.redraws\b")
PERCENT_BAR = re.compile(r"(\d{1,3})%\|")
COUNT_BAR = re.compile(r"\d+%\|[^|\n]*\|\s*(\d+)/(\d+)")  # tqdm's "37%|###  | 74/200"
START_LINE = re.compile(r"학습 최대 \d+단계")
FINISH_LINE = re.compile(r"학습 \d+/\d+단계 완료|단계 전에 학습을 멈춤|발산해 학습을 멈춤")
SELF_CHECK = re.compile(r"\.self_check\(|\.value\s*=(?!=)")


def slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def output_texts(cell) -> list[str]:
    """The text a learner reads in a cell's stored outputs (streams, text/plain, text/html, errors)."""
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data", {})
            for mime in ("text/plain", "text/html", "text/markdown"):
                if mime in data:
                    v = data[mime]
                    texts.append("".join(v) if isinstance(v, list) else v)
        elif out.get("output_type") == "error":
            texts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return texts


def _snippet(text: str, match: re.Match, width: int = 30) -> str:
    a, b = max(0, match.start() - width), min(len(text), match.end() + width)
    return " ".join(text[a:b].split())


def machinery_violations(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        st = slide_type(cell)
        if st == "skip":
            continue
        src = cell.source
        if cell.cell_type == "markdown" and st != "notes":
            m = MACHINERY_MD.search(src)
            if m:
                found.append(f"{cell.id}: markdown mentions test machinery ({m.group(0)!r}: …{_snippet(src, m)}…); "
                             "move it to docs/instructors.md, docs/lessons/NN.md or a slide_type notes cell")
        if cell.cell_type == "code":
            m = MACHINERY_CODE.search(src)
            if m:
                found.append(f"{cell.id}: code shows test machinery ({m.group(0)!r}: …{_snippet(src, m)}…); use cell tags")
        for text in output_texts(cell):
            m = MACHINERY_CODE.search(text)
            if m:
                found.append(f"{cell.id}: output mentions test machinery (…{_snippet(text, m)}…)")
    return found


def output_violations(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        visible = slide_type(cell) != "skip"
        texts = output_texts(cell)
        if visible:
            m = REDRAW_SOURCE.search(cell.source)
            if m:
                found.append(f"{cell.id}: a cell a learner sees uses the redraw counter (…{_snippet(cell.source, m)}…); "
                             "call panel.self_check(...) in a hidden skip cell instead")
            for text in texts:
                m = REDRAW_TEXT.search(text)
                if m:
                    found.append(f"{cell.id}: prints a redraw counter (…{_snippet(text, m)}…)")
        for text in texts:
            for m in PERCENT_BAR.finditer(text):
                if int(m.group(1)) < 100:
                    found.append(f"{cell.id}: stored progress bar is unfinished (…{_snippet(text, m)}…); re-execute the "
                                 "lesson with the current lstmlib.train")
                    break
            else:
                for m in COUNT_BAR.finditer(text):
                    if int(m.group(1)) < int(m.group(2)):
                        found.append(f"{cell.id}: stored progress bar is unfinished (…{_snippet(text, m)}…)")
                        break
        joined = "\n".join(texts)
        if len(START_LINE.findall(joined)) > len(FINISH_LINE.findall(joined)):
            found.append(f"{cell.id}: a progress bar has no finish line in the stored output; re-execute the lesson")
    return found


def self_check_violations(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not SELF_CHECK.search(cell.source):
            continue
        problems = []
        if slide_type(cell) != "skip":
            problems.append(f"slide_type is {slide_type(cell)!r}, not 'skip'")
        jup = cell.metadata.get("jupyter", {})
        if jup.get("source_hidden") is not True:
            problems.append("metadata jupyter.source_hidden is not true")
        if jup.get("outputs_hidden") is not True:
            problems.append("metadata jupyter.outputs_hidden is not true")
        if cell.get("outputs"):
            problems.append(f"it has {len(cell.outputs)} output(s); it should print nothing (use panel.self_check)")
        if problems:
            found.append(f"{cell.id}: widget self-check cell: " + "; ".join(problems))
    return found


CHECKS = {"machinery": machinery_violations, "outputs": output_violations, "self_check": self_check_violations}


def violations(path: Path) -> dict[str, list[str]]:
    nb = nbformat.read(path, as_version=4)
    return {name: fn(nb) for name, fn in CHECKS.items()}


def _label(path: Path) -> str:
    return ("exercises/" if path.parent.name == "exercises" else "") + path.stem


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_label)
def test_student_view(path, check):
    nb = nbformat.read(path, as_version=4)
    found = CHECKS[check](nb)
    assert not found, f"{_label(path)}: {len(found)} student-view problem(s) ({check}):\n  " + "\n  ".join(found)


# ------------------------------------------------------------------ the checks catch what they are for


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    return nb


def _code(src, outputs=(), slide="-", **jupyter):
    c = nbformat.v4.new_code_cell(src)
    c.metadata["slideshow"] = {"slide_type": slide}
    if jupyter:
        c.metadata["jupyter"] = jupyter
    c.outputs = [nbformat.from_dict(o) for o in outputs]
    return c


def _md(src, slide="-"):
    c = nbformat.v4.new_markdown_cell(src)
    c.metadata["slideshow"] = {"slide_type": slide}
    return c


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _display(text):
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": text, "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0}}}


def test_checks_flag_known_violations_and_pass_clean_cells():
    bad = _nb(
        _md("이 셀은 nbval 때문에 태그를 붙였습니다."),
        _md("CI에서 돌아갑니다."),
        _md("강의 노트: nbval 설명", slide="notes"),  # speaker notes may explain machinery
        _md("nbval 설명", slide="skip"),
        _code("x = 1  # NBVAL_IGNORE_OUTPUT"),
        _code("print(panel.redraws)", [_stream("다시 그린 횟수(redraws): 2\n")]),
        _code("train(...)", [_display("hello:   0%|          | 0/200")]),
        _code("train(...)", [{"output_type": "stream", "name": "stderr", "text": "a:  37%|###  | 74/200\n"}]),
        _code("train(...)", [_display("a: 학습 최대 200단계")]),
        _code("panel.sliders['f'].value = 0.5\nprint(panel.values())", [_stream("{'f': 0.5}\n")]),
        _code("panel.self_check(f=0.5)", slide="skip", source_hidden=True),
    )
    m, o, s = machinery_violations(bad), output_violations(bad), self_check_violations(bad)
    assert [v.split(":")[0] for v in m] == ["c0", "c1", "c4"], m
    assert [v.split(":")[0] for v in o] == ["c5", "c5", "c6", "c7", "c8"], o
    assert [v.split(":")[0] for v in s] == ["c9", "c10"], s
    assert "slide_type is '-'" in s[0] and "source_hidden" in s[0] and "print nothing" in s[0]
    assert "outputs_hidden" in s[1] and "source_hidden" not in s[1]

    good = _nb(
        _md("망각 게이트(forget gate)는 $f_t$입니다. 시험(test) MSE를 봅니다."),
        _code("train(...)", [_display("a: 학습 최대 200단계"), _stream("a: 학습 200/200단계 완료\n")]),
        _code("train(...)", [_display("b: 학습 최대 200단계"), _stream("b: 멈춤 조건을 만족해 200단계 전에 학습을 멈춤\n")]),
        _code("print('정확도 100%|')", [_stream("100%| 200/200\n")]),
        _code("print(table)", [_stream("| LSTM H=16 | 0/3 | 3/3 |\n| 성공률 | 50% | 2/4 |\n")]),
        _code("panel.self_check(f=0.5)", slide="skip", source_hidden=True, outputs_hidden=True),
    )
    assert machinery_violations(good) == [] and output_violations(good) == [] and self_check_violations(good) == []


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or NOTEBOOKS
    total = 0
    for path in paths:
        found = [v for vs in violations(path).values() for v in vs]
        total += len(found)
        print(f"{_label(path)}: {len(found)} violation(s)")
        for v in found:
            print(f"  {v}")
    print(f"total: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
