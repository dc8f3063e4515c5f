"""Coursework tools (issue 6): exercise generation, the student checker, grading.

Two parts:

* Fixture lessons in ``tests/fixtures/coursework/lessons/`` (stored executed, like real lessons;
  re-run them with ``python3 course.py execute tests/fixtures/coursework/lessons/9*.ipynb``).
  ``91_fixture_gates`` has three exercises (an indented block inside a ``def``, a block that
  uses the first exercise's function, an independent one), a later cell that depends on an
  exercise, an ignore-output cell, a cell that needs the sanitize file and a raises-exception
  cell. ``92_fixture_other`` is another lesson; ``90_fixture_plain`` has no exercises.
  These tests never depend on the course's real lessons.
* Every real lesson in ``notebooks/`` with solution blocks: its exercise notebook is well formed,
  committed and up to date; the untouched-notebook run per lesson is marked ``slow``. (The
  lessons' solutions passing, and their wrong answers failing: tests/test_wrong_answers.py.)

Kernel runs cost ~3-8 s each here (kernel start dominates); the fixture part makes about ten.
"""

from __future__ import annotations

import ast
import copy
import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools import check, exercises, grade
from course_tools._cw_common import (
    INTRO_CELL_ID,
    META_KEY,
    STUB_RAISE,
    TAG_CHECK,
    TAG_EXERCISE,
    CourseworkError,
    bound_names,
    cell_source,
    has_solution,
    josa,
    lesson_files,
    make_exercise_notebook,
    read_notebook,
    reference_hash,
    strip_solutions,
    write_notebook,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "coursework"
LESSON = "91_fixture_gates"
OTHER = "92_fixture_other"

SOLVED = {
    "fx-ex-1": 'def my_sigmoid(z):\n    """σ(z) = 1 / (1 + e^(−z)), element-wise."""\n    return 1.0 / (1.0 + np.exp(-z))',
    "fx-ex-2": "c_prev = np.array([1.0, -2.0, 0.5, 3.0])\nf = my_sigmoid(x)\nc = f * c_prev",
    "fx-ex-3": "tanh_sum = float(np.round(np.tanh(x).sum(), 4))",
}
WRONG_SIGMOID = "def my_sigmoid(z):\n    return np.tanh(z)  # wrong: tanh, not the sigmoid"


# ------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def lessons(tmp_path_factory) -> Path:
    """A copy of the fixture lessons with their exercise notebooks generated."""
    folder = tmp_path_factory.mktemp("course") / "lessons"
    shutil.copytree(FIXTURES / "lessons", folder)
    assert exercises.main(["--lessons", str(folder)]) == 0
    return folder


def exercise_nb(lessons: Path, lesson: str = LESSON) -> dict:
    return json.loads((lessons / "exercises" / f"{lesson}.ipynb").read_text(encoding="utf-8"))


def student(lessons: Path, folder: Path, answers: dict, lesson: str = LESSON, name: str | None = None) -> Path:
    """A student's copy of the exercise notebook with some exercise cells answered."""
    nb = exercise_nb(lessons, lesson)
    for cell in nb["cells"]:
        if cell.get("id") in answers:
            cell["source"] = answers[cell["id"]]
    path = folder / f"{name or lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebook(nb, path)
    return path


def statuses(result) -> list:
    return [e.status for e in result.exercises]


def no_merged_copies_left(folder: Path) -> bool:
    return not any(check.MERGED_TAG in p.name for p in folder.iterdir())


def kernel_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_cli(module: str, *args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"course_tools.{module}", *map(str, args)],
        cwd=cwd, env=kernel_env(), capture_output=True, text=True, encoding="utf-8",
    )


# ------------------------------------------------------------------- stripping solutions


def test_stub_replaces_each_block_at_the_marker_indentation():
    src = (
        "def f(x):\n"
        "    y = 2 * x\n"
        "    ### BEGIN SOLUTION\n"
        "    return y + 1\n"
        "    ### END SOLUTION\n"
        "\n"
        "for i in range(2):\n"
        "        ###   BEGIN SOLUTION\n"
        "        print(i)\n"
        "        ### END SOLUTION\n"
        "print('done')"
    )
    out, blocks = strip_solutions(src)
    assert blocks == 2
    assert out == (
        "def f(x):\n"
        "    y = 2 * x\n"
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n"
        "for i in range(2):\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError()\n"
        "print('done')"
    )
    compile(out, "<stub>", "exec")  # the stubbed cell is still valid Python


@pytest.mark.parametrize(
    "src, needle",
    [
        ("### BEGIN SOLUTION\nx = 1", "닫히지 않았습니다"),
        ("x = 1\n### END SOLUTION", "END SOLUTION without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nesting"),
    ],
)
def test_unbalanced_markers_are_reported(src, needle):
    with pytest.raises(CourseworkError) as err:
        strip_solutions(src, "lesson.ipynb")
    assert needle in str(err.value)


def test_bound_names_find_what_an_exercise_defines():
    src = (
        "%matplotlib inline\n"
        "import numpy as np\n"
        "from lstmlib import lstm as L\n"
        "def step(x):\n    inner = 1\n    return x\n"
        "a, (b, *rest) = 1, (2, 3)\n"
        "total += 1\n"
        "params['W'] = 0\n"
        "for k in range(3):\n    acc = k\n"
        "with open('f') as fh:\n    pass\n"
        "class Model:\n    pass\n"
    )
    assert bound_names(src) == sorted(
        ["np", "L", "step", "a", "b", "rest", "total", "k", "acc", "fh", "Model"]
    )
    assert "inner" not in bound_names(src)  # local to the function
    assert bound_names("this is not python (") == []


def test_korean_subject_particle_after_numbers():
    assert [f"{n}{josa(n)}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)] == [
        "1이", "2가", "3이", "4가", "5가", "6이", "7이", "8이", "9가", "10이", "12가",
    ]


# ------------------------------------------------------------------------ generation


def test_exercise_notebook_keeps_everything_but_the_solutions(lessons):
    lesson = read_notebook(lessons / f"{LESSON}.ipynb")
    nb = exercise_nb(lessons)
    assert nb["cells"][0]["id"] == INTRO_CELL_ID
    assert nb["cells"][0]["cell_type"] == "markdown"
    cells = nb["cells"][1:]
    assert [c["id"] for c in cells] == [c["id"] for c in lesson["cells"]]
    by_role = {}
    for old, new in zip(lesson["cells"], cells):
        assert new["cell_type"] == old["cell_type"]
        if old["cell_type"] == "markdown":
            assert new == old  # markdown untouched
            continue
        assert new["outputs"] == old["outputs"]  # the reference is kept
        assert new["execution_count"] == old["execution_count"]
        assert new["metadata"]["slideshow"] == old["metadata"]["slideshow"]
        assert new["metadata"]["deletable"] is False
        role = new["metadata"].get(META_KEY, {}).get("role")
        by_role.setdefault(role, []).append(new)
        if role is None:
            assert cell_source(new) == cell_source(old)
    assert [c["id"] for c in by_role["solution"]] == ["fx-ex-1", "fx-ex-2", "fx-ex-3"]
    assert [c["id"] for c in by_role["check"]] == ["fx-check-1", "fx-check-2", "fx-check-3"]
    for c in by_role["solution"]:
        assert TAG_EXERCISE in c["metadata"]["tags"]
        assert STUB_RAISE in cell_source(c) and not has_solution(cell_source(c))
    for c in by_role["check"]:
        assert TAG_CHECK in c["metadata"]["tags"] and c["metadata"]["editable"] is False
    assert cell_source(by_role["solution"][0]) == (
        'def my_sigmoid(z):\n    """σ(z) = 1 / (1 + e^(−z)), element-wise."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    text = (lessons / "exercises" / f"{LESSON}.ipynb").read_text(encoding="utf-8")
    assert "1.0 / (1.0 + np.exp(-z))" not in text and "c = f * c_prev" not in text
    assert "/tmp" not in text and str(lessons) not in text  # no absolute paths
    meta = nb["metadata"][META_KEY]
    assert meta["lesson"] == LESSON and meta["lesson_file"] == f"{LESSON}.ipynb"
    assert [e["cell_id"] for e in meta["exercises"]] == ["fx-ex-1", "fx-ex-2", "fx-ex-3"]
    assert [e["title"] for e in meta["exercises"]] == ["시그모이드 구현", "망각 게이트 적용", "tanh 합"]
    assert "my_sigmoid" in meta["exercises"][0]["defines"]
    assert {"c", "f", "c_prev"} <= set(meta["exercises"][1]["defines"])
    assert meta["reference_sha256"] == reference_hash(nb)
    assert nb["metadata"]["kernelspec"] == lesson["metadata"]["kernelspec"]
    # a lesson without exercises gets no exercise notebook
    assert sorted(p.name for p in (lessons / "exercises").iterdir()) == [
        f"{LESSON}.ipynb", f"{OTHER}.ipynb", "93_fixture_hidden.ipynb"]


def test_author_metadata_stays_out_of_the_exercise_notebook(lessons):
    lesson = read_notebook(lessons / "93_fixture_hidden.ipynb")
    assert sum("coursework_author" in c["metadata"] for c in lesson["cells"]) == 3
    text = (lessons / "exercises" / "93_fixture_hidden.ipynb").read_text(encoding="utf-8")
    assert "coursework_author" not in text and "def hidden" not in text and "forgot the bias" not in text
    ref = make_exercise_notebook(lesson, "93_fixture_hidden.ipynb")
    assert sorted(ref.hidden) == [1, 2, 3] and "def hidden(rng)" in ref.hidden[1].source
    assert ref.hidden[1].rtol == 1e-7 and ref.hidden[2].atol == 1e-10  # given / default
    # the hash (and so --check) ignores author metadata: editing wrong answers regenerates nothing
    edited = copy.deepcopy(lesson)
    edited["cells"][3]["metadata"]["coursework_author"]["wrong_answers"] = []
    assert make_exercise_notebook(edited, "93_fixture_hidden.ipynb").nb == ref.nb


def test_generation_is_deterministic_and_check_mode_finds_stale_files(tmp_path, capsys):
    folder = tmp_path / "lessons"
    shutil.copytree(FIXTURES / "lessons", folder)
    out = folder / "exercises"
    assert exercises.main(["--lessons", str(folder)]) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    shutil.rmtree(out)
    assert exercises.main(["--lessons", str(folder)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # byte-identical
    capsys.readouterr()
    assert exercises.main(["--lessons", str(folder), "--check"]) == 0

    # a lesson's reference output changes -> its exercise notebook is stale
    path = folder / f"{LESSON}.ipynb"
    nb = read_notebook(path)
    nb["cells"][1]["outputs"][0]["text"] = ["x = [9. 9. 9. 9.]\n"]
    write_notebook(nb, path)
    # another lesson loses its exercises -> its exercise notebook is an orphan
    other = read_notebook(folder / f"{OTHER}.ipynb")
    for cell in other["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = [l for l in cell["source"] if "SOLUTION" not in l]
    write_notebook(other, folder / f"{OTHER}.ipynb")
    capsys.readouterr()
    assert exercises.main(["--lessons", str(folder), "--check"]) == 1
    report = capsys.readouterr().out
    assert f"{LESSON}.ipynb: 레슨과 다름 (out of date)" in report
    assert f"{OTHER}.ipynb: 레슨에 연습이 없음" in report
    assert (out / f"{LESSON}.ipynb").read_bytes() == first[f"{LESSON}.ipynb"]  # --check writes nothing

    assert exercises.main(["--lessons", str(folder)]) == 0
    assert not (out / f"{OTHER}.ipynb").exists()
    assert b"x = [9. 9. 9. 9.]" in (out / f"{LESSON}.ipynb").read_bytes()
    assert exercises.main(["--lessons", str(folder), "--check"]) == 0


def test_reference_hash_follows_what_nbval_compares(lessons):
    nb = exercise_nb(lessons)
    h = reference_hash(nb)
    same = copy.deepcopy(nb)
    cell = next(c for c in same["cells"] if c.get("id") == "fx-check-1")
    lines = cell["outputs"][0]["text"]
    cell["outputs"][0]["text"] = lines[:1]  # the same stream, split in two chunks
    cell["outputs"].append({"name": "stdout", "output_type": "stream", "text": lines[1:]})
    cell["execution_count"] = 99
    setup = next(c for c in same["cells"] if c.get("id") == "fx-setup")
    setup["outputs"].append(
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}}
    )
    changed_image = copy.deepcopy(same)
    next(c for c in changed_image["cells"] if c.get("id") == "fx-setup")["outputs"][-1]["data"]["image/png"] = "AAAA"
    assert reference_hash(same) != h  # a new compared output (the figure's text/plain)
    assert reference_hash(changed_image) == reference_hash(same)  # images are not compared
    rechunked = copy.deepcopy(nb)
    c = next(c for c in rechunked["cells"] if c.get("id") == "fx-check-1")
    c["outputs"] = cell["outputs"]
    c["execution_count"] = 99
    assert reference_hash(rechunked) == h
    c["outputs"][1]["text"] = ["lstmlib과 같음: False\n"]
    assert reference_hash(rechunked) != h


def _lesson_with(cells_patch) -> dict:
    nb = read_notebook(FIXTURES / "lessons" / f"{LESSON}.ipynb")
    cells_patch(nb["cells"])
    return nb


@pytest.mark.parametrize(
    "patch, needle",
    [
        (lambda cells: cells.__delitem__(slice(4, None)), "확인 셀(check cell)이 없습니다"),
        (lambda cells: cells[4]["metadata"].update(tags=["nbval-skip"]), "nbval-skip"),
        (lambda cells: cells[3].update(execution_count=None), "실행되지 않은 채"),
        (lambda cells: cells[4].update(id="fx-ex-1"), "중복"),
        (lambda cells: [c.pop("id") for c in cells], "셀 id가 없는"),
    ],
    ids=["no-check-cell", "skipped-check-cell", "unexecuted", "duplicate-ids", "no-ids"],
)
def test_lessons_that_cannot_be_checked_are_rejected_with_a_reason(patch, needle):
    with pytest.raises(CourseworkError) as err:
        make_exercise_notebook(_lesson_with(patch), f"{LESSON}.ipynb")
    assert needle in err.value.ko


# ----------------------------------------------------------------- corrupt student input


def _corrupt_cases(lessons: Path, folder: Path) -> dict:
    good = student(lessons, folder / "src", SOLVED)
    nb = json.loads(good.read_text(encoding="utf-8"))
    cases = {}

    def put(name, data, filename=f"{LESSON}.ipynb"):
        p = folder / name / filename
        p.parent.mkdir(parents=True)
        p.write_bytes(data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode())
        cases[name] = p

    put("invalid-json", good.read_bytes()[:-200])
    put("not-a-notebook", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    put("python-file", b"import numpy as np\nprint(1)\n", filename=f"{LESSON}.py")
    put("empty-json", b"{}")
    put("other-lesson", json.loads((lessons / "exercises" / f"{OTHER}.ipynb").read_text("utf-8")))
    stripped = json.loads((lessons / "exercises" / f"{OTHER}.ipynb").read_text("utf-8"))
    del stripped["metadata"][META_KEY]
    put("other-lesson-no-metadata", stripped)
    deleted = copy.deepcopy(nb)
    deleted["cells"] = [c for c in deleted["cells"] if c.get("id") != "fx-ex-2"]
    put("deleted-exercise-cell", deleted)
    deleted_check = copy.deepcopy(nb)
    deleted_check["cells"] = [c for c in deleted_check["cells"] if c.get("id") != "fx-check-3"]
    put("deleted-check-cell", deleted_check)
    reordered = copy.deepcopy(nb)
    i = next(k for k, c in enumerate(reordered["cells"]) if c.get("id") == "fx-ex-3")
    j = next(k for k, c in enumerate(reordered["cells"]) if c.get("id") == "fx-ex-1")
    reordered["cells"].insert(j, reordered["cells"].pop(i))
    put("reordered-cells", reordered)
    to_markdown = copy.deepcopy(nb)
    cell = next(c for c in to_markdown["cells"] if c.get("id") == "fx-ex-1")
    cell.update(cell_type="markdown")
    cell.pop("outputs")
    cell.pop("execution_count")
    put("exercise-cell-made-markdown", to_markdown)
    return cases


EXPECTED_CORRUPT = {
    "invalid-json": "JSON 형식 오류",
    "not-a-notebook": "주피터 노트북(.ipynb) 파일이 아닙니다",
    "python-file": "주피터 노트북(.ipynb) 파일이 아닙니다",
    "empty-json": "주피터 노트북(.ipynb) 파일이 아닙니다",
    "other-lesson": f"파일 이름은 '{LESSON}'인데 내용은 '{OTHER}'의 연습 노트북",
    "other-lesson-no-metadata": f"'{OTHER}'의 연습",
    "deleted-exercise-cell": "연습 2의 연습 셀(exercise cell)",
    "deleted-check-cell": "연습 3의 확인 셀(check cell)",
    "reordered-cells": "셀 순서가 바뀌었습니다",
    "exercise-cell-made-markdown": "연습 1의 연습 셀(exercise cell)",
}


def test_corrupt_input_gets_a_clear_message_and_exit_code_2(lessons, tmp_path, capsys):
    cases = _corrupt_cases(lessons, tmp_path)
    assert set(cases) == set(EXPECTED_CORRUPT)
    for name, path in cases.items():
        capsys.readouterr()
        rc = check.main([str(path), "--lessons", str(lessons)])
        out = capsys.readouterr().out
        assert rc == 2, (name, out)
        assert out.startswith("오류: ") and "\nError: " in out, (name, out)
        assert EXPECTED_CORRUPT[name] in out, (name, out)
        assert "Traceback" not in out
        assert no_merged_copies_left(path.parent)


def test_a_reference_that_was_run_or_edited_is_refused(lessons, tmp_path, capsys):
    path = student(lessons, tmp_path, SOLVED)
    reference = json.loads((lessons / "exercises" / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
    reference["cells"][2]["outputs"][0]["text"] = ["x = [0. 0. 0. 0.]\n"]  # e.g. executed and saved
    write_notebook(reference, tmp_path / "reference.ipynb")
    rc = check.main([str(path), "--reference", str(tmp_path / "reference.ipynb")])
    out = capsys.readouterr().out
    assert rc == 2 and "기준(reference) 노트북이 생성된 뒤 수정되었거나 실행되었습니다" in out
    other = lessons / "exercises" / f"{OTHER}.ipynb"
    assert check.main([str(path), "--reference", str(other)]) == 2
    assert f"이 노트북은 '{LESSON}'의 연습인데 기준(reference)은 '{OTHER}'" in capsys.readouterr().out


def test_corrupt_input_through_the_command_line_has_no_traceback(lessons, tmp_path):
    bad = tmp_path / f"{LESSON}.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    proc = run_cli("check", bad, "--lessons", lessons)
    assert proc.returncode == 2
    assert "JSON 형식 오류" in proc.stdout and "invalid JSON" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_notebook_without_cell_ids_is_matched_by_content(lessons, tmp_path):
    path = student(lessons, tmp_path, {"fx-ex-2": SOLVED["fx-ex-2"]})
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell.pop("id", None)
    nb["nbformat_minor"] = 4
    nb["cells"].insert(5, {"cell_type": "code", "execution_count": None, "metadata": {},
                           "outputs": [], "source": "# my scratch cell\nprint(x)"})
    write_notebook(nb, path)
    sub = check.prepare(path, lessons)
    assert sub.answers[2] == SOLVED["fx-ex-2"]
    assert STUB_RAISE in sub.answers[1] and STUB_RAISE in sub.answers[3]
    assert any("셀 id가 없는" in n for n in sub.notes)


def test_exception_is_located_in_the_cell_that_raised_it(lessons, tmp_path):
    # nbval's records, as the probe writes them, for: exercise 1's function raises NameError
    # when the check cell calls it (IPython labels every cell "Cell In[1]" under nbval).
    bad = "def my_sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-zz))"
    sub = check.prepare(student(lessons, tmp_path, {**SOLVED, "fx-ex-1": bad}), lessons)
    traceback = [
        "\x1b[0;31mNameError\x1b[0m    Traceback (most recent call last)",
        'Cell \x1b[0;32mIn[1], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m \x1b[38;5;28mprint\x1b[39m(\"σ(x) =\", ...)',
        "Cell In[1], line 2, in my_sigmoid(z)\n      1 def my_sigmoid(z):\n----> 2     return 1.0 / (1.0 + np.exp(-zz))",
        "\x1b[0;31mNameError\x1b[0m: name 'zz' is not defined",
    ]
    error = {"output_type": "error", "ename": "NameError", "evalue": "name 'zz' is not defined",
             "traceback": traceback}
    n_code = sum(c["cell_type"] == "code" for c in sub.reference.nb["cells"])
    records = [{"cell_num": i, "outcome": "passed", "message": ""} for i in range(n_code)]
    records[2] = {"cell_num": 2, "outcome": "failed", "outputs": [error],
                  "message": "Cell execution caused an exception"}
    result = check.analyse(sub, {"records": records})
    ex1 = result.exercises[0]
    assert ex1.status == "fail" and ex1.failed_cell == "check"
    assert ex1.failure.where == "연습 1의 연습 셀(exercise cell)" and ex1.failure.line == 2
    assert "오류가 난 곳: 연습 1의 연습 셀(exercise cell) 2행" in check.format_report(result)
    assert statuses(result)[1:] == ["pass", "pass"]  # per these records


# ------------------------------------------------------------------- checking (kernel)


def test_untouched_exercise_notebook_fails_exactly_at_its_exercises(lessons, tmp_path, capsys):
    path = student(lessons, tmp_path, {})
    # the reference here is the pristine generated exercise notebook, not the lesson (the way
    # to check when the lessons with their solutions are not handed out)
    result = check.check_notebook(
        path, tmp_path / "no-lessons-here", reference_path=lessons / "exercises" / f"{LESSON}.ipynb",
        sanitize=lessons / "nbval_sanitize.cfg",
    )
    assert result.lesson == LESSON
    assert statuses(result) == ["incomplete"] * 3
    assert all("not attempted" in e.reason for e in result.exercises)
    # nbval itself failed at every exercise (exercise cell or its check cell) ...
    assert [e.failure is not None for e in result.exercises] == [True, True, True]
    assert [e.failure.ename for e in result.exercises] == ["NotImplementedError"] * 3
    assert result.others == []  # ... and nothing outside the exercises is blamed:
    # the later cell that uses exercise 2's `c` fails with NameError, traced to exercise 2
    assert [[(a.label, a.causal) for a in e.affected] for e in result.exercises] == [
        [], [('코드 셀 "print(\"셀 상태 합:\", round(float(c.sum()), 3))"', True)], []
    ]
    assert result.exit_code == 1
    assert no_merged_copies_left(tmp_path)
    report = check.format_report(result)
    assert "연습 1 (시그모이드 구현): 미완성" in report
    assert "결과: 연습 3개 중 0개 통과 — 미완성 3" in report


def test_solved_notebook_passes_with_the_sanitize_rules(lessons, tmp_path, capsys):
    path = student(lessons, tmp_path, SOLVED)
    rc = check.main([str(path), "--lessons", str(lessons)])
    out = capsys.readouterr().out
    assert rc == 0, out
    for n in (1, 2, 3):
        assert f"연습 {n} " in out and out.count(": 통과") == 3
    assert "모두 통과!" in out and "Result: 3 of 3 exercise(s) passed." in out
    assert no_merged_copies_left(tmp_path)


def test_other_cell_failure_is_reported_when_exercises_pass(lessons, tmp_path):
    # Without the sanitize file the printed memory address differs: that cell is outside every
    # exercise and all exercises before it pass, so it is reported on its own.
    empty = tmp_path / "empty.cfg"
    empty.write_text("", encoding="utf-8")
    path = student(lessons, tmp_path, SOLVED)
    result = check.check_notebook(path, lessons, sanitize=empty)
    assert statuses(result) == ["pass"] * 3
    assert [o.label for o in result.others] == ['코드 셀 "print(repr(object()))"']
    assert result.exit_code == 1
    report = check.format_report(result)
    assert "연습 밖의 셀(other cell): 실패" in report
    assert "정답(reference): <object object at 0x" in report and "내 출력(yours):  <object object at 0x" in report


def test_failing_setup_cell_is_named_as_the_cause(tmp_path):
    # A lesson cell that fails in the student's folder (here: a file that is not there) makes
    # every later use of its names fail; the report names that cell instead of blaming answers.
    folder = tmp_path / "lessons"
    shutil.copytree(FIXTURES / "lessons", folder)
    lesson = read_notebook(folder / f"{LESSON}.ipynb")
    setup = next(c for c in lesson["cells"] if c.get("id") == "fx-setup")
    setup["source"] = ["text = open('no-such-data-file.txt').read()\n"] + setup["source"]
    write_notebook(lesson, folder / f"{LESSON}.ipynb")
    assert exercises.main(["--lessons", str(folder)]) == 0
    path = student(folder, tmp_path / "work", SOLVED)
    result = check.check_notebook(path, folder)
    assert [o.label for o in result.others] == ['코드 셀 "text = open(\'no-such-data-file.txt\').read()"']
    assert result.others[0].failure.ename == "FileNotFoundError"
    ex1 = result.exercises[0]
    assert ex1.status == "fail" and ex1.failure.ename == "NameError"
    assert "no-such-data-file" in ex1.hint and "'np'" in ex1.hint


def test_failure_caused_by_an_unsolved_exercise_is_attributed_to_it(lessons, tmp_path):
    answers = {
        "fx-ex-2": SOLVED["fx-ex-2"],  # correct, but needs exercise 1's function
        "fx-ex-3": "tanh_sum = 0.0\n# YOUR CODE HERE\nraise NotImplementedError()",  # started
    }
    result = check.check_notebook(student(lessons, tmp_path, answers), lessons)
    assert statuses(result) == ["incomplete"] * 3
    ex1, ex2, ex3 = result.exercises
    assert ex1.blocked_by is None and "not attempted" in ex1.reason
    assert ex2.blocked_by == 1 and ex2.reason.startswith("연습 1이 풀리지 않아 실행되지 않음")
    assert "stub still in place" in ex3.reason
    assert result.others == []
    report = check.format_report(result)
    assert "연습 2 (망각 게이트 적용): 미완성 (연습 1이 풀리지 않아 실행되지 않음" in report


def _execute_as_student(path: Path) -> None:
    """Run the notebook top to bottom and save it, as a student does in JupyterLab."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, kernel_name="python3", allow_errors=True, record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=kernel_env())
    nbformat.write(nb, path)


def test_wrong_answer_fails_even_after_the_student_saved_own_outputs(lessons, tmp_path):
    answers = dict(SOLVED)
    answers["fx-ex-1"] = WRONG_SIGMOID
    # a debug print, and an nbval marker that must not let the student switch checking off
    answers["fx-ex-3"] = "# NBVAL_IGNORE_OUTPUT\n" + SOLVED["fx-ex-3"] + "\nprint('debug:', tanh_sum)"
    path = student(lessons, tmp_path, answers)
    _execute_as_student(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    check1 = next(c for c in saved["cells"] if c.get("id") == "fx-check-1")
    assert "0.1293" in "".join(check1["outputs"][0]["text"])  # the student's own output

    # The trap: plain nbval compares the saved notebook with itself and passes the wrong answer.
    # (It runs while the checker runs: two kernels on two cores.)
    plain = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--noconftest", "-q",
         "-c", os.devnull, "--rootdir", str(tmp_path),
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(lessons / "nbval_sanitize.cfg"), str(path)],
        cwd=tmp_path, env=kernel_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        result = check.check_notebook(path, lessons)
    finally:
        plain_out, _ = plain.communicate()
    assert plain.returncode == 0, plain_out[-2000:]
    assert "passed" in plain_out and "failed" not in plain_out
    assert statuses(result) == ["fail", "fail", "fail"]
    ex1, ex2, ex3 = result.exercises
    assert ex1.failed_cell == "check" and ex1.failure.kind == "mismatch"
    assert ex1.failure.diff["reference"] == ["σ(x) = [0.5325 0.4675 0.6548 0.525 ]\nlstmlib과 같음: True\n"]
    assert "0.1293" in ex1.failure.diff["yours"][0]
    assert "연습 1" in ex2.hint  # exercise 2 is right but uses exercise 1's function
    assert ex3.failed_cell == "exercise" and ex3.failure.diff["kind"] == "unexpected"
    assert "print" in ex3.hint
    assert any("NBVAL_* 주석은 검사에서 무시됩니다" in n for n in result.notes)
    report = check.format_report(result)
    assert "정답(reference): σ(x) = [0.5325 0.4675 0.6548 0.525 ]" in report
    assert "내 출력(yours):  σ(x) = [ 0.1293 -0.1293  0.5649  0.0997]" in report
    assert check1["outputs"] == json.loads(path.read_text(encoding="utf-8"))["cells"][
        [c.get("id") for c in saved["cells"]].index("fx-check-1")]["outputs"]  # file untouched


# ------------------------------------------------------------------ pytest (CI/Classroom)


def plugin_env() -> dict:
    env = kernel_env()
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the outer run needs no other plugin
    return env


def test_pytest_plugin_reports_one_test_per_exercise(lessons, tmp_path):
    answers = {"fx-ex-1": SOLVED["fx-ex-1"], "fx-ex-2": "c_prev = 0\nf = my_sigmoid(x)\nc = f"}
    path = student(lessons, tmp_path, answers)
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "course_tools.check", "--coursework",
         "--coursework-lessons", str(lessons), "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", str(tmp_path), f"--junitxml={junit}", "-q", str(path)],
        cwd=tmp_path, env=plugin_env(), capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    import xml.etree.ElementTree as ET

    cases = {
        c.get("name"): ("failed" if c.find("failure") is not None else "passed")
        for c in ET.parse(junit).iter("testcase")
    }
    assert cases == {"exercise_1": "passed", "exercise_2": "failed", "exercise_3": "failed",
                     "other_cells": "passed"}
    assert "연습 2 (망각 게이트 적용): 실패" in proc.stdout
    assert "연습 3 (tanh 합): 미완성" in proc.stdout
    assert "정답(reference): c = [ 0.5325 -0.9351  0.3274  1.5749]" in proc.stdout


def test_pytest_plugin_reports_corrupt_input_without_traceback(lessons, tmp_path):
    bad = tmp_path / f"{LESSON}.ipynb"
    bad.write_text("not json at all {", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "course_tools.check", "--coursework",
         "--coursework-lessons", str(lessons), "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", str(tmp_path), "-q", str(bad)],
        cwd=tmp_path, env=plugin_env(), capture_output=True, text=True,
    )
    assert proc.returncode != 0
    assert "주피터 노트북(.ipynb) 파일이 아닙니다" in proc.stdout
    assert "Traceback" not in proc.stdout


# --------------------------------------------------------------------------- grading


def test_grade_writes_students_by_exercises_and_survives_broken_files(lessons, tmp_path, capsys):
    subs = tmp_path / "submissions"
    student(lessons, subs / "alice", SOLVED)
    student(lessons, subs, {"fx-ex-3": SOLVED["fx-ex-3"]}, name=f"eve__{LESSON}")
    student(lessons, subs / "gina", {})  # nothing attempted: reported without running it
    (subs / "carol").mkdir()
    (subs / "carol" / f"{LESSON}.ipynb").write_text('{"cells": [', encoding="utf-8")
    (subs / "dave").mkdir()
    (subs / "dave" / f"{LESSON}.pdf").write_bytes(b"%PDF-1.4")
    frank = subs / "frank" / "notebooks" / "exercises"  # a clone of the course repository
    frank.mkdir(parents=True)
    shutil.copy(lessons / "exercises" / f"{OTHER}.ipynb", frank / f"{LESSON}.ipynb")  # wrong lesson
    (subs / "frank" / "README.md").write_text("ignored in a repository clone", encoding="utf-8")
    (subs / "notes.txt").write_text("not a submission", encoding="utf-8")
    out = tmp_path / "results.csv"

    rc = grade.main([str(subs), "--lessons", str(lessons), "--out", str(out), "--jobs", "2"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    rows = list(csv.reader(out.open(encoding="utf-8")))
    header = rows[0]
    assert header == ["student", f"{LESSON}:1", f"{LESSON}:2", f"{LESSON}:3", "passed", "total", "notes"]
    table = {r[0]: r for r in rows[1:]}
    assert sorted(table) == ["?", "alice", "carol", "dave", "eve", "frank", "gina"]
    assert table["alice"][1:] == ["pass", "pass", "pass", "3", "3", ""]
    assert table["eve"][1:6] == ["incomplete", "incomplete", "pass", "1", "3"]
    assert table["gina"][1:6] == ["incomplete"] * 3 + ["0", "3"] and "not run" in table["gina"][-1]
    assert table["carol"][1:4] == ["error"] * 3 and "invalid JSON" in table["carol"][-1]
    assert table["dave"][1:4] == ["error"] * 3 and "not a notebook" in table["dave"][-1]
    assert table["frank"][1:4] == ["error"] * 3 and OTHER in table["frank"][-1]
    assert "notes.txt" in table["?"][-1] and table["?"][1:4] == [""] * 3
    assert "alice\t91_fixture_gates\t3/3 통과" in printed
    assert "carol" in printed and "dave" in printed and "notes.txt" in printed
    for folder in (subs, subs / "alice"):
        assert no_merged_copies_left(folder)


# ---------------------------------------------------------------------- real lessons

REAL_LESSONS_DIR = ROOT / "notebooks"


def _real_lessons_with_exercises() -> list:
    found = []
    for path in lesson_files(REAL_LESSONS_DIR):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            if any(c.get("cell_type") == "code" and has_solution(cell_source(c)) for c in nb["cells"]):
                found.append(path)
        except (OSError, ValueError, KeyError, TypeError):
            found.append(path)  # let the test report the broken lesson
    return found


REAL = _real_lessons_with_exercises()


def test_committed_exercise_notebooks_are_up_to_date(capsys):
    rc = exercises.main(["--check"])
    assert rc == 0, capsys.readouterr().out + "\nregenerate with: python3 course.py exercises"


def _stub_is_reached(stub_src: str, check_src: str) -> bool:
    """Whether running the untouched exercise cell and its check cell must hit the stub.

    A stub at the top level of the cell raises when the cell runs. A stub inside a function
    raises only if the function is called: by the exercise cell after its definition or by the
    check cell. (Static, so that no lesson has to be executed for it.)
    """
    if re.search(r"^raise NotImplementedError\(\)\s*$", stub_src, re.MULTILINE):
        return True
    tree = ast.parse(stub_src)
    for i, node in enumerate(tree.body):
        has_stub = any(
            isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(node)
        )
        if not has_stub:
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return True  # inside if/for/with/try at top level: runs with the cell
        later = "\n".join(ast.unparse(n) for n in tree.body[i + 1 :]) + "\n" + check_src
        return bool(re.search(rf"\b{re.escape(node.name)}\b", later))
    return False


def _real_reference(lesson: Path):
    try:
        return make_exercise_notebook(read_notebook(lesson), lesson.name)
    except CourseworkError as exc:
        pytest.fail(exc.render(), pytrace=False)


@pytest.mark.parametrize("lesson", REAL, ids=[p.stem for p in REAL])
def test_real_lesson_exercise_notebook_is_well_formed(lesson):
    ref = _real_reference(lesson)
    assert ref is not None
    assert 1 <= len(ref.exercises)
    cells = ref.cell_by_id()
    for ex in ref.exercises:
        src = cell_source(cells[ex.cell_id])
        assert STUB_RAISE in src and not has_solution(src)
        assert _stub_is_reached(src, cell_source(cells[ex.check_cell_id])), (
            f"exercise {ex.number}: the stub sits in a function that neither the exercise cell nor "
            "its check cell calls, so an unsolved (or wrong) answer would pass"
        )


def _real_student_copy(lesson: Path, solved: bool) -> tuple[Path, object]:
    """Exercise notebook of a real lesson, as a student saves it in notebooks/exercises/."""
    ref = _real_reference(lesson)
    nb = copy.deepcopy(ref.nb)
    if solved:
        original = {c.get("id"): c for c in read_notebook(lesson)["cells"]}
        for cell in nb["cells"]:
            if cell.get("id") in {e.cell_id for e in ref.exercises}:
                cell["source"] = original[cell["id"]]["source"]
    folder = REAL_LESSONS_DIR / "exercises"
    path = folder / f".cw-test-{lesson.stem}-{secrets.token_hex(3)}.ipynb"
    return path, nb


def _check_real(lesson: Path, solved: bool):
    path, nb = _real_student_copy(lesson, solved)
    created = not path.parent.exists()
    path.parent.mkdir(exist_ok=True)
    try:
        write_notebook(nb, path)
        if solved:
            return check.check_notebook(path, REAL_LESSONS_DIR)
        # Untouched: cells after the last check cell cannot change any exercise's verdict (a
        # failure there is attributed to an unsolved exercise) and the solved run already shows
        # they pass, so the reference is cut after the last check cell to save time.
        sub = check.prepare(path, REAL_LESSONS_DIR)
        ids = [c.get("id") for c in sub.reference.nb["cells"]]
        last = ids.index(sub.reference.exercises[-1].check_cell_id)
        sub.reference.nb = copy.deepcopy(sub.reference.nb)
        del sub.reference.nb["cells"][last + 1 :]
        sanitize = REAL_LESSONS_DIR / "nbval_sanitize.cfg"
        data, _ = check.run_nbval(sub.merged(), path, sanitize if sanitize.is_file() else None,
                                  check.DEFAULT_TIMEOUT)
        return check.analyse(sub, data)
    finally:
        path.unlink(missing_ok=True)
        if created:
            try:
                path.parent.rmdir()
            except OSError:
                pass


# That every real lesson's own solutions pass the checker (hidden checks included, confined as
# `course.py grade` runs them) is tested in tests/test_wrong_answers.py, in the same runs as the
# lesson's wrong answers.


@pytest.mark.slow
@pytest.mark.parametrize("lesson", REAL, ids=[p.stem for p in REAL])
def test_real_lesson_untouched_fails_only_at_its_exercises(lesson):
    # ~ one execution of the lesson up to its last exercise
    result = _check_real(lesson, solved=False)
    report = check.format_report(result)
    assert statuses(result) == ["incomplete"] * len(result.exercises), report
    assert all(e.failure is not None for e in result.exercises), report  # nbval failed there
    assert result.others == [], report
    assert all(a.causal for e in result.exercises for a in e.affected), report


def test_links_leaving_notebooks_folder_get_one_more_level():
    """The exercise copy sits in notebooks/exercises/: ../data/... must become ../../data/..."""

    def add_links(cells):
        cells.append({"cell_type": "markdown", "id": "fx-links", "metadata": {},
                      "source": ["[data](../data/README.md), [next](01_x.ipynb), [web](https://example.org)"]})

    ref = make_exercise_notebook(_lesson_with(add_links), f"{LESSON}.ipynb")
    links = next(c for c in ref.nb["cells"] if c.get("id") == "fx-links")
    assert cell_source(links) == "[data](../../data/README.md), [next](01_x.ipynb), [web](https://example.org)"
