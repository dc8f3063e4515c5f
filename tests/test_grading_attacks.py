"""Grading that can't be fooled or escaped (issue 17): attack submissions through `course.py grade`.

Every attack goes into exercise 1 (`forget_gate`) of the fixture lesson ``93_fixture_hidden``
(three independent exercises, each with a hidden check); the other two exercises are solved.
One grading run holds all attacks plus an honest control, two at a time, in the sandbox: each
attacked exercise must not pass, nothing outside the sandbox may change, the control passes.
The attacks that need the sandbox's file and network confinement are skipped (with a reason)
where bubblewrap is not installed; CI installs it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from course_tools import check, exercises, grade
from course_tools.coursework import sandbox as sb
from course_tools.coursework.notebook import cell_source, read_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "coursework" / "lessons"
LESSON = "93_fixture_hidden"
EX = ("hx-ex-1", "hx-ex-2", "hx-ex-3")
WRONG_FG = "def forget_gate(x, h_prev, W, U, b):\n    return np.zeros(len(b))\n"

ATTACKS = {
    # the check cell prints np.allclose(f, f_expected): make every allclose say True
    "patch_allclose": "np.allclose = lambda *a, **k: True\n" + WRONG_FG,
    # every print in the kernel prints the reference line of check cell 1
    "patch_print": "import builtins\n_p = builtins.print\nbuiltins.print = lambda *a, **k: _p('f 맞음: True')\n" + WRONG_FG,
    # replay the stored reference output of every cell from the notebook being run
    "replay_reference": (
        "import builtins, glob, json, sys\n"
        "_outs = {}\n"
        "for _f in glob.glob('*.ipynb') + glob.glob('.*.ipynb'):\n"
        "    for _c in json.load(open(_f))['cells']:\n"
        "        if _c['cell_type'] == 'code':\n"
        "            _outs[''.join(_c['source'])] = _c.get('outputs', [])\n"
        "def _replay(info):\n"
        "    for _o in _outs.get(info.raw_cell, []):\n"
        "        if _o.get('output_type') == 'stream':\n"
        "            sys.__stdout__.flush(); sys.stdout.write(''.join(_o['text']))\n"
        "get_ipython().events.register('pre_run_cell', _replay)\n"
        "builtins.print = lambda *a, **k: None\n" + WRONG_FG
    ),
    # the lesson holds the solution: read it and run it
    "read_lesson": (
        "import json\n"
        "_nb = json.load(open(@lesson!r@))\n"
        "exec(''.join(next(c for c in _nb['cells'] if c.get('id') == 'hx-ex-1')['source']))\n"
    ),
    # leave files in the grader's home, the submissions folder, /tmp and the results
    "write_outside": (
        "import pathlib\n"
        "for _p in (@home!r@, @subs!r@, '/tmp/cw-attack-@token@', @results!r@):\n"
        "    try:\n"
        "        pathlib.Path(_p).parent.mkdir(parents=True, exist_ok=True)\n"
        "        open(_p, 'a').write('pwned')\n"
        "    except OSError:\n"
        "        pass\n"
        "open(@subs!r@, 'a').write('pwned')\n" + WRONG_FG
    ),
    # phone home: a listener the test runs on the grader's loopback, then the internet
    "network": (
        "import socket\n"
        "socket.create_connection(('127.0.0.1', @port@), timeout=3).sendall(b'answers please')\n"
        "socket.create_connection(('pypi.org', 443), timeout=3)\n" + WRONG_FG
    ),
    "endless_loop": "while True:\n    pass\n",
    "fork_bomb": "import os\nwhile True:\n    os.fork()\n",
    "gigabyte_output": "import sys\n_chunk = 'x' * 2**20\nfor _ in range(1024):\n    sys.stdout.write(_chunk)\n" + WRONG_FG,
    "kill_the_grader": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + WRONG_FG,
}

needs_bwrap = pytest.mark.skipif(sb.detect() != "bwrap", reason="bubblewrap (bwrap) not installed or not usable here")


@pytest.fixture(scope="module")
def lessons(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("attack-course") / "lessons"
    shutil.copytree(FIXTURES, folder)
    assert exercises.main(["--lessons", str(folder)]) == 0
    return folder


def solutions(lessons: Path) -> dict:
    lesson = read_notebook(lessons / f"{LESSON}.ipynb")
    return {c["id"]: cell_source(c) for c in lesson["cells"] if c.get("id") in EX}


def submit(lessons: Path, path: Path, answers: dict) -> Path:
    nb = read_notebook(lessons / "exercises" / f"{LESSON}.ipynb")
    for cell in nb["cells"]:
        if cell.get("id") in answers:
            cell["source"] = answers[cell["id"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebook(nb, path)
    return path


def fill_in(code: str, values: dict) -> str:
    for key, value in values.items():
        code = code.replace(f"@{key}!r@", repr(value)).replace(f"@{key}@", str(value))
    return code


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@needs_bwrap
def test_attacks_are_not_passed_and_change_nothing_outside_the_sandbox(lessons, tmp_path, capsys):
    token = secrets.token_hex(4)
    subs = tmp_path / "submissions"
    results = tmp_path / "results" / "results.csv"
    home_file = Path.home() / f".cw-attack-{token}"
    subs_file = subs / f"pwned-{token}.txt"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    fill = dict(lesson=str(lessons / f"{LESSON}.ipynb"), home=str(home_file), subs=str(subs_file),
                token=token, results=str(results), port=listener.getsockname()[1])
    solved = solutions(lessons)
    submit(lessons, subs / "honest" / f"{LESSON}.ipynb", solved)
    for name, code in ATTACKS.items():
        submit(lessons, subs / name / f"{LESSON}.ipynb", {**solved, "hx-ex-1": fill_in(code, fill)})
    # a repository clone whose exercise notebook is a link to the lesson (which holds the answers)
    linker = subs / "symlink_to_lesson" / "notebooks" / "exercises"
    linker.mkdir(parents=True)
    (linker / f"{LESSON}.ipynb").symlink_to(lessons / f"{LESSON}.ipynb")
    lessons_before, subs_before = snapshot(lessons), snapshot(subs)
    home_before = sorted(p.name for p in Path.home().iterdir())
    tmp_before = sorted(p.name for p in Path("/tmp").iterdir() if "cw-attack" in p.name)

    start = time.perf_counter()
    rc = grade.main([str(subs), "--lessons", str(lessons), "--out", str(results), "--jobs", "2",
                     "--timeout", "15", "--wall-timeout", "90"])
    elapsed = time.perf_counter() - start
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "bubblewrap" in printed.splitlines()[0]

    rows = {r[0]: r for r in csv.reader(results.open(encoding="utf-8"))}
    header = rows.pop("student")
    col = header.index(f"{LESSON}:1")
    assert rows["honest"][1:6] == ["pass", "pass", "pass", "3", "3"], rows["honest"]
    verdicts = {name: rows[name][col] for name in [*ATTACKS, "symlink_to_lesson"]}
    assert all(v in ("fail", "error", "incomplete") for v in verdicts.values()), verdicts
    assert "symbolic link" in rows["symlink_to_lesson"][-1]
    # the attacks that leave the kernel alive do not cost the student the other exercises
    for name in ("patch_allclose", "read_lesson", "write_outside", "network"):
        assert rows[name][col + 2] == "pass", (name, rows[name])

    # nothing outside the sandbox changed
    assert not home_file.exists() and not subs_file.exists()
    assert sorted(p.name for p in Path.home().iterdir()) == home_before
    assert sorted(p.name for p in Path("/tmp").iterdir() if "cw-attack" in p.name) == tmp_before
    assert snapshot(lessons) == lessons_before and snapshot(subs) == subs_before
    assert "pwned" not in results.read_text(encoding="utf-8")
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    listener.close()
    # no process of a run survives it
    # (runs of another pytest-xdist worker, e.g. tests/test_wrong_answers*.py, are not ours)
    leftovers = [p for p in Path("/proc").iterdir()
                 if p.name.isdigit() and _owned_by_sandbox(p) and not _under_another_worker(p)]
    assert leftovers == []
    print(f"\n[attacks] {len(ATTACKS) + 2} submissions graded in {elapsed:.1f} s: {verdicts}", file=sys.stderr)


def _under_another_worker(proc: Path) -> bool:
    """True if an ancestor of ``proc`` is a live pytest process other than this one."""
    me, pid = os.getpid(), proc.name
    for _ in range(64):
        try:
            status = dict(l.split(":", 1) for l in (Path("/proc") / pid / "status").read_text().splitlines() if ":" in l)
            pid = status["PPid"].strip()
            cmdline = (Path("/proc") / pid / "cmdline").read_bytes()
        except (OSError, KeyError):
            return False
        if pid in ("0", "1"):
            return False  # reparented to init: a leak
        if int(pid) == me:
            return False
        if b"pytest" in cmdline or b"exec(eval(sys.stdin.readline()))" in cmdline:
            return True
    return False


def _owned_by_sandbox(proc: Path) -> bool:
    try:
        uid = int(dict(l.split(":", 1) for l in (proc / "status").read_text().splitlines() if ":" in l)["Uid"].split()[0])
    except (OSError, KeyError, ValueError):
        return False
    return 200000 <= uid < 1000000


def test_patched_allclose_fails_even_unconfined_since_values_are_compared_outside(lessons, tmp_path):
    # `course.py check` (no sandbox): the check cell prints True, nbval passes it, the hidden
    # check's values (fresh inputs, compared in the checker's process) do not match
    solved = solutions(lessons)
    path = submit(lessons, tmp_path / f"{LESSON}.ipynb", {**solved, "hx-ex-1": ATTACKS["patch_allclose"]})
    result = check.check_notebook(path, lessons)
    ex1 = result.exercises[0]
    assert ex1.status == "fail" and ex1.failed_cell == "hidden", check.format_report(result)
    assert [e.status for e in result.exercises[1:]] == ["pass", "pass"]
    assert "숨은 검사(hidden check)" in check.format_report(result)


def test_without_a_sandbox_tool_grading_runs_and_says_it_is_unconfined(lessons, tmp_path, capsys):
    subs = tmp_path / "submissions"
    submit(lessons, subs / "honest" / f"{LESSON}.ipynb", solutions(lessons))
    out = tmp_path / "results.csv"
    assert grade.main([str(subs), "--lessons", str(lessons), "--out", str(out), "--sandbox", "none"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("격리 없음(UNCONFINED)") and "install bubblewrap" in printed
    assert list(csv.reader(out.open(encoding="utf-8")))[1][1:4] == ["pass"] * 3


def test_hidden_values_are_loaded_as_plain_data_only(tmp_path):
    import numpy as np

    from course_tools.coursework.hidden import compare, load_values

    (tmp_path / "hidden-1.json").write_text(json.dumps({"ok": True}))
    np.savez(tmp_path / "hidden-1.npz", f=np.array([object()], dtype=object))  # a pickle inside
    values, reason = load_values(tmp_path, 1)
    assert values is None and reason
    np.savez(tmp_path / "hidden-1.npz", f=np.arange(3.0), ok=np.array(True), n=np.array(7))
    values, reason = load_values(tmp_path, 1)
    assert reason is None and sorted(values) == ["f", "n", "ok"]
    ref = {"f": np.arange(3.0), "ok": np.array(True), "n": np.array(7)}
    assert compare(ref, values, 1e-7, 0) is None
    assert "shape" in compare(ref, {**values, "f": np.arange(4.0)}, 1e-7, 0)
    assert "bool" in compare(ref, {**values, "ok": np.array(1)}, 1e-7, 0)
    assert "integer" in compare(ref, {**values, "n": np.array(7.0)}, 1e-7, 0)
    assert "differ" in compare(ref, {**values, "f": np.arange(3.0) + 1e-3}, 1e-7, 0)
    assert "keys" in compare(ref, {"f": values["f"]}, 1e-7, 0)
    (tmp_path / "hidden-2.json").write_text(json.dumps({"ok": False, "error": "ValueError: shapes"}))
    assert "ValueError" in load_values(tmp_path, 2)[1]
    assert load_values(tmp_path, 3)[0] is None  # never written
