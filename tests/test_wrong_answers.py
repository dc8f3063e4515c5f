"""Every exercise rejects the mistakes students really make (issue 13), through the real checker.

Each lesson's exercise cells carry ``metadata.coursework_author`` (docs/coursework.md):
``wrong_answers`` (text replacements that turn the solution into a plausible mistake) and a
``hidden_check``. Per lesson, with one fresh seed:

1. one trusted run of the lesson up to its last hidden check gives the reference values;
2. the lesson's own solutions, pasted into its exercise notebook, pass every exercise and cell
   (the full lesson, confined as ``course.py grade`` runs it);
3. every wrong answer, put into the exercise notebook with the other exercises solved, makes
   its exercise not pass.

The k-th wrong answers of all exercises share one run. After the check cell of each mutated
exercise the run re-executes the lesson's solution and check cell of that exercise and fingerprints the kernel's
namespace (arrays, numbers, generator states, function code); a later exercise's verdict in the
same run counts only if every earlier fingerprint equals the one the solved run takes at the same
place, i.e. the later exercise ran on exactly the honest state. Wrong answers whose verdict does
not count that way (or whose exercise a static analysis says is reachable from an earlier one
whose state could not be fingerprinted) are run again on their own. A run stops after the check
cell of its last mutated exercise (later cells cannot change those verdicts). The
fixture lesson ``93_fixture_hidden`` runs the same way, so the machinery is tested whatever
state the real lessons' metadata is in.
"""

from __future__ import annotations

import copy
import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_tools import check
from course_tools.coursework import sandbox as sb
from course_tools.coursework.checker import run_submission
from course_tools.coursework.generate import lesson_files, make_exercise_notebook, sanitize_file
from course_tools.coursework.hidden import hidden_cell, new_seed, reference_values
from course_tools.coursework.lesson import HiddenCheck, author_meta, has_solution, hidden_check_of, wrong_answers_of
from course_tools.coursework.notebook import (
    CourseworkError,
    cell_source,
    read_notebook,
    write_notebook,
)
from course_tools.coursework.run import _probe_env

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT / "notebooks"
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "coursework" / "lessons"


def _with_exercises(folder: Path) -> list:
    out = []
    for path in lesson_files(folder):
        try:
            nb = read_notebook(path)
        except CourseworkError:
            out.append(path)
            continue
        if any(c["cell_type"] == "code" and has_solution(cell_source(c)) for c in nb["cells"]):
            out.append(path)
    return out


REAL = _with_exercises(REAL_DIR)
FIXTURE = FIXTURE_DIR / "93_fixture_hidden.ipynb"
ALL = REAL + [FIXTURE]


def _reference(lesson: Path):
    try:
        return make_exercise_notebook(read_notebook(lesson), lesson.name)
    except CourseworkError as exc:
        pytest.fail(exc.render(), pytrace=False)


# ------------------------------------------------------------------------ the registry


def test_every_exercise_has_wrong_answers_and_a_hidden_check():
    lacking = []
    for lesson in REAL:
        ref = _reference(lesson)
        cells = {c.get("id"): c for c in read_notebook(lesson)["cells"]}
        for ex in ref.exercises:
            cell = cells[ex.cell_id]
            what = []
            if not wrong_answers_of(cell):
                what.append("wrong_answers")
            if ex.number not in ref.hidden:
                what.append("hidden_check")
            if what:
                lacking.append(f"{lesson.stem} exercise {ex.number} ({ex.title}, cell {ex.cell_id}): no {' / '.join(what)}")
    assert not lacking, (
        f"{len(lacking)} exercise(s) lack coursework_author metadata (docs/coursework.md):\n  " + "\n  ".join(lacking)
    )


@pytest.mark.parametrize("lesson", ALL, ids=[p.stem for p in ALL])
def test_wrong_answers_are_well_formed(lesson):
    nb = read_notebook(lesson)
    ref = _reference(lesson)
    cells = {c.get("id"): c for c in nb["cells"]}
    problems = []
    for ex in ref.exercises:
        cell = cells[ex.cell_id]
        meta = author_meta(cell)
        _, warning = hidden_check_of(cell, f"exercise {ex.number}")
        if warning:
            problems.append(warning)
        if set(meta) - {"wrong_answers", "hidden_check"}:
            problems.append(f"exercise {ex.number}: unknown keys {sorted(set(meta) - {'wrong_answers', 'hidden_check'})}")
        wrong = wrong_answers_of(cell)
        if "wrong_answers" in meta and not isinstance(meta["wrong_answers"], list):
            problems.append(f"exercise {ex.number}: wrong_answers must be a list")
        if len(wrong) > 3:
            problems.append(f"exercise {ex.number}: {len(wrong)} wrong answers (1-3 wanted)")
        names = [w.get("name") if isinstance(w, dict) else None for w in wrong]
        if len(set(names)) != len(names):
            problems.append(f"exercise {ex.number}: duplicate wrong-answer names {names}")
        src = cell_source(cell)
        for w in wrong:
            try:
                mutate(src, w)
            except ValueError as exc:
                problems.append(f"exercise {ex.number}: {exc}")
    assert not problems, "\n".join(problems)


def mutate(source: str, wrong) -> str:
    """Apply a wrong answer's [old, new] pairs to the solution cell; each old occurs once."""
    if not isinstance(wrong, dict) or not isinstance(wrong.get("name"), str) or not wrong["name"]:
        raise ValueError(f"a wrong answer needs a name: {wrong!r}")
    pairs = wrong.get("replace")
    if not isinstance(pairs, list) or not pairs:
        raise ValueError(f"{wrong['name']!r}: replace must be a non-empty list of [old, new]")
    out = source
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair) and pair[0]):
            raise ValueError(f"{wrong['name']!r}: bad pair {pair!r}")
        old, new = pair
        n = source.count(old)
        if n != 1:
            raise ValueError(f"{wrong['name']!r}: {old!r} occurs {n} times in the solution cell (must be once)")
        out = out.replace(old, new)
    if out == source:
        raise ValueError(f"{wrong['name']!r}: changes nothing")
    return out


# ----------------------------------------------------------------- grouping the mutants


@dataclass
class Mutant:
    exercise: int
    name: str
    source: str


def plan_runs(nb: dict, ref) -> list:
    """Groups of mutants, one run each: the k-th wrong answer of every exercise (their
    independence is checked at run time with fingerprints, see the module docstring)."""
    cells = {c.get("id"): c for c in nb["cells"]}
    runs: list = []
    for ex in ref.exercises:
        src = cell_source(cells[ex.cell_id])
        for k, w in enumerate(wrong_answers_of(cells[ex.cell_id])):
            if len(runs) <= k:
                runs.append([])
            runs[k].append(Mutant(ex.number, w["name"], mutate(src, w)))
    return runs


# --------------------------------------------------------------------------- the runs

FP_BASE = 1000  # hidden-cell numbers of the fingerprints (never an exercise number)
FINGERPRINT = '''def hidden(rng):
    import hashlib, types
    import numpy as np
    h = hashlib.sha256()
    opaque = ("matplotlib", "ipywidgets", "IPython", "traitlets", "ipykernel", "tqdm", "lstmlib.widgets")

    def code(c):
        h.update(c.co_code + repr(c.co_names).encode())
        for k in c.co_consts:
            code(k) if isinstance(k, types.CodeType) else h.update(repr(k).encode())

    def feed(v, depth=0):
        if depth > 5:
            h.update(b"deep")
        elif isinstance(v, np.ndarray):
            h.update(repr((v.dtype.str, v.shape)).encode())
            h.update(np.ascontiguousarray(v).tobytes() if v.dtype.kind in "biufc" else repr(v.tolist()).encode())
        elif isinstance(v, (bool, int, float, complex, str, bytes, type(None), np.generic)):
            h.update(repr(v).encode())
        elif isinstance(v, (list, tuple)):
            h.update(b"[%d" % len(v))
            for x in v:
                feed(x, depth + 1)
        elif isinstance(v, dict):
            h.update(b"{%d" % len(v))
            for k in v:
                feed(k, depth + 1)
                feed(v[k], depth + 1)
        elif isinstance(v, (set, frozenset)):
            h.update(repr(sorted(repr(x) for x in v)).encode())
        elif isinstance(v, np.random.Generator):
            h.update(repr(v.bit_generator.state).encode())
        elif isinstance(v, types.FunctionType):
            code(v.__code__)
        elif isinstance(v, (types.ModuleType, type)) or type(v).__module__.startswith(opaque):
            h.update(str(getattr(v, "__name__", type(v).__name__)).encode())
        elif hasattr(v, "__dict__"):
            h.update(type(v).__name__.encode())
            feed(dict(vars(v)), depth + 1)
        else:
            h.update(type(v).__name__.encode())

    ns = globals()
    for name in sorted(ns):
        if not name.startswith("_") and name not in ("In", "Out", "exit", "quit", "get_ipython", "hidden"):
            h.update(name.encode())
            feed(ns[name])
    return {"fp": np.frombuffer(h.digest(), dtype=np.uint8).copy()}
'''


def _fingerprint_cell(number: int) -> dict:
    cell = hidden_cell(FP_BASE + number, HiddenCheck(FINGERPRINT), 0)
    cell["id"] = f"cw-test-fp-{number}"
    cell["metadata"]["tags"] = ["nbval-ignore-output"]  # an ordinary cell to the checker
    return cell


def _restore_cell(number: int, solution: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"cw-test-restore-{number}",
            "metadata": {"tags": ["nbval-ignore-output"]}, "outputs": [], "source": solution}


def _fingerprints(result) -> dict:
    return {n - FP_BASE: bytes(v["fp"]) if v is not None else None
            for n, (v, _) in result.hidden.items() if n >= FP_BASE}


def _student(lesson: Path, ref, answers: dict, cut_after: str | None = None, after: dict | None = None):
    """A prepared submission with ``answers`` (exercise number -> source) in the exercise cells,
    saved where students keep it (notebooks/exercises/ for real lessons)."""
    nb = copy.deepcopy(ref.nb)
    ids = {e.cell_id: e.number for e in ref.exercises}
    for cell in nb["cells"]:
        if cell.get("id") in ids:
            cell["source"] = answers[ids[cell["id"]]]
    folder = lesson.parent / "exercises"
    folder.mkdir(exist_ok=True)
    path = folder / f".cw-wrong-{lesson.stem}-{secrets.token_hex(3)}.ipynb"
    write_notebook(nb, path)
    try:
        sub = check.prepare(path, lesson.parent)
    finally:
        path.unlink()
    if cut_after is not None:
        sub.reference = copy.copy(sub.reference)
        sub.reference.nb = copy.deepcopy(sub.reference.nb)
        last = [c.get("id") for c in sub.reference.nb["cells"]].index(cut_after)
        del sub.reference.nb["cells"][last + 1:]
        kept = {c.get("id") for c in sub.reference.nb["cells"]}
        sub.reference.exercises = [e for e in sub.reference.exercises if e.check_cell_id in kept]
        sub.reference.hidden = {e.number: sub.reference.hidden[e.number] for e in sub.reference.exercises
                                if e.number in sub.reference.hidden}
    if after:  # extra cells after some check cells; fingerprints are read back as hidden values
        sub.reference = copy.copy(sub.reference)
        sub.reference.hidden = dict(sub.reference.hidden)
        cells = []
        for cell in copy.deepcopy(sub.reference.nb["cells"]):
            cells.append(cell)
            for extra in after.get(cell.get("id"), []):
                cells.append(extra)
                if extra["id"].startswith("cw-test-fp-"):
                    n = int(extra["id"].rsplit("-", 1)[1])
                    sub.reference.hidden[FP_BASE + n] = HiddenCheck(FINGERPRINT)
        sub.reference.nb = {**sub.reference.nb, "cells": cells}
    return sub


# The slow lessons (08-10 train models) run from tests/test_wrong_answers_late.py, so that
# pytest-xdist's --dist loadfile gives them the other worker.
LATE = [p for p in REAL if p.name[:2] >= "08"]
EARLY = [p for p in ALL if p not in LATE]


@pytest.mark.parametrize("lesson", EARLY, ids=[p.stem for p in EARLY])
def test_solution_passes_and_every_wrong_answer_fails(lesson, tmp_path, capsys):
    check_wrong_answers(lesson, tmp_path, capsys)


def check_wrong_answers(lesson, tmp_path, capsys):
    # Runs: one trusted reference run (hidden checks), the solved notebook, then ~max(#wrong
    # answers per exercise) mutant runs.
    if lesson.parent == FIXTURE_DIR:  # students' copies go next to the lesson: not into tests/
        shutil.copytree(FIXTURE_DIR, tmp_path / "lessons")
        lesson = tmp_path / "lessons" / lesson.name
    nb = read_notebook(lesson)
    ref = _reference(lesson)
    cells = {c.get("id"): c for c in nb["cells"]}
    solved = {ex.number: cell_source(cells[ex.cell_id]) for ex in ref.exercises}
    level = sb.detect()
    sanitize = sanitize_file(lesson.parent)
    seed = new_seed()
    start = time.perf_counter()
    runs = plan_runs(nb, ref)
    checks = {e.number: e.check_cell_id for e in ref.exercises}
    check_src = {e.number: cell_source(cells[e.check_cell_id]) for e in ref.exercises}
    fp_everywhere = {checks[e.number]: [_fingerprint_cell(e.number)] for e in ref.exercises[:-1]}

    def run_plan(group):
        mutated = {m.exercise for m in group}
        last = max(mutated)
        after = {checks[n]: ([_restore_cell(n, solved[n] + "\n" + check_src[n])] if n in mutated else [])
                 + [_fingerprint_cell(n)]
                 for n in range(1, last)}
        return {**solved, **{m.exercise: m.source for m in group}}, checks[last], after

    # two kernels at a time (a 2-core machine): the trusted run first, the solved notebook and the
    # mutant runs wait for its values only after their own run
    with ThreadPoolExecutor(max_workers=2) as pool:
        trusted = pool.submit(reference_values, ref, seed, lesson.parent, check.DEFAULT_TIMEOUT, _probe_env())

        def run(answers, cut_after=None, after=None):
            sub = _student(lesson, ref, answers, cut_after, after)
            return run_submission(sub, sanitize, lessons_dir=lesson.parent, sandbox=level, seed=seed,
                                  hidden_reference=trusted)

        solved_run = pool.submit(run, solved, None, fp_everywhere)
        mutant_runs = [(group, pool.submit(run, *run_plan(group))) for group in runs]
        broken = {n: why for n, (values, why) in trusted.result().items() if values is None}
        assert not broken, f"hidden checks fail on the lesson's own solution: {broken}"
        result = solved_run.result()
        assert result.ok, check.format_report(result)
        honest = _fingerprints(result)
        let_through, again = [], []
        for group, fut in mutant_runs:
            res = fut.result()
            seen = _fingerprints(res)
            for m in sorted(group, key=lambda m: m.exercise):
                earlier = [i.exercise for i in group if i.exercise < m.exercise]
                if any(seen.get(i) is None or seen.get(i) != honest.get(i) for i in earlier):
                    again.append(m)  # an earlier wrong answer may have left a trace: run alone
                elif res.exercises[m.exercise - 1].status == "pass":
                    let_through.append(m)
        alone = [(m, pool.submit(run, *run_plan([m]))) for m in again]
        let_through += [m for m, fut in alone if fut.result().exercises[m.exercise - 1].status == "pass"]
    let_through = [f"exercise {m.exercise} ({ref.exercises[m.exercise - 1].title}): wrong answer {m.name!r} passes"
                   for m in let_through]
    with capsys.disabled():
        n = sum(len(r) for r in runs)
        print(f"\n[wrong answers] {lesson.stem}: {n} wrong answer(s) in {len(runs)} + {len(again)} run(s), "
              f"{time.perf_counter() - start:.1f} s")
    assert not let_through, "the checker lets wrong answers through:\n" + "\n".join(let_through)


def test_kth_wrong_answers_share_a_run():
    runs = plan_runs(read_notebook(FIXTURE), _reference(FIXTURE))
    assert [[m.exercise for m in r] for r in runs] == [[1, 2, 3], [1, 2]]
    assert [m.name for m in runs[1]] == ["tanh instead of sigmoid", "always rescales"]
