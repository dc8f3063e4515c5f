"""Every exercise rejects the mistakes students really make (issue 13), through the real checker.

Each lesson's exercise cells carry ``metadata.coursework_author`` (docs/coursework.md):
``wrong_answers`` (text replacements that turn the solution into a plausible mistake) and a
``hidden_check``. Per lesson, with one fresh seed:

1. one trusted run of the lesson up to its last hidden check gives the reference values;
2. the lesson's own solutions, pasted into its exercise notebook, pass every exercise and cell
   (the full lesson, confined as ``course.py grade`` runs it);
3. every wrong answer, put into the exercise notebook with the other exercises solved, makes
   its exercise not pass.

Several wrong answers share one run when their exercises cannot influence each other (no name
that one defines or uses reaches the other's cells, found statically); a run stops after the
check cell of its last mutated exercise (later cells cannot change those verdicts). The
fixture lesson ``93_fixture_hidden`` runs the same way, so the machinery is tested whatever
state the real lessons' metadata is in.
"""

from __future__ import annotations

import builtins
import copy
import secrets
import shutil
import symtable
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_tools import check
from course_tools.coursework import sandbox as sb
from course_tools.coursework.checker import run_submission
from course_tools.coursework.generate import lesson_files, make_exercise_notebook, sanitize_file
from course_tools.coursework.hidden import new_seed, reference_values
from course_tools.coursework.lesson import author_meta, has_solution, hidden_check_of, wrong_answers_of
from course_tools.coursework.notebook import (
    CourseworkError,
    bound_names,
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


def globals_used(source: str) -> set:
    """Names a cell (or a hidden check) looks up at module level, found with symtable."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
        table = symtable.symtable(source, "<cell>", "exec")
    except Exception:  # not Python: count every word, which only makes runs smaller
        import re

        return set(re.findall(r"[A-Za-z_]\w*", source))
    names, todo = set(), [table]
    while todo:
        t = todo.pop()
        for s in t.get_symbols():
            if t.get_type() == "module" and (s.is_referenced() or s.is_assigned()):
                names.add(s.get_name())
            elif t.get_type() != "module" and (s.is_global() or s.is_declared_global()):
                names.add(s.get_name())
        todo.extend(t.get_children())
    return names


@dataclass
class Mutant:
    exercise: int
    name: str
    source: str


def _imports(nb: dict) -> set:
    """Names bound by import statements (modules, library functions): shared by all, never tainted."""
    out = set()
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            for line in cell_source(c).splitlines():
                if line.lstrip().startswith(("import ", "from ")):
                    out |= set(bound_names(line.strip()))
    return out


def dependencies(nb: dict, ref) -> dict:
    """``{i: {j, ...}}``: exercises j > i whose cells a change in exercise i can reach."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    pos = {c.get("id"): k for k, c in enumerate(code)}
    shared = _imports(nb) | set(dir(builtins))
    mutants = {ex.number: [cell_source(code[pos[ex.cell_id]])] for ex in ref.exercises}
    for ex in ref.exercises:
        for w in wrong_answers_of(code[pos[ex.cell_id]]):
            try:
                mutants[ex.number].append(mutate(mutants[ex.number][0], w))
            except ValueError:
                pass
    reads = {}
    for ex in ref.exercises:
        hidden = ref.hidden.get(ex.number)
        reads[ex.number] = set().union(
            *(globals_used(s) for s in mutants[ex.number]),
            globals_used(cell_source(code[pos[ex.check_cell_id]])),
            globals_used(hidden.source) - {"hidden"} if hidden else set(),
        )
    deps = {}
    for ex in ref.exercises:
        tainted = set().union(*(globals_used(s) for s in mutants[ex.number])) - shared
        deps[ex.number] = set()
        for k in range(pos[ex.cell_id] + 1, len(code)):
            src = cell_source(code[k])
            if globals_used(src) & tainted:
                tainted |= set(bound_names(src)) - shared
        for later in ref.exercises:
            if later.number > ex.number and reads[later.number] & tainted:
                deps[ex.number].add(later.number)
    return deps


def plan_runs(nb: dict, ref) -> list:
    """Groups of mutants, each group one run: at most one mutant per exercise, and no mutated
    exercise that an earlier mutated exercise of the same run can reach."""
    cells = {c.get("id"): c for c in nb["cells"]}
    pending = []
    for ex in ref.exercises:
        src = cell_source(cells[ex.cell_id])
        for k, w in enumerate(wrong_answers_of(cells[ex.cell_id])):
            pending.append((k, Mutant(ex.number, w["name"], mutate(src, w))))
    deps = dependencies(nb, ref)
    runs = []
    pending.sort(key=lambda km: (km[0], km[1].exercise))
    while pending:
        run, rest = [], []
        for k, m in pending:
            if any(r.exercise == m.exercise or m.exercise in deps[r.exercise] or r.exercise in deps[m.exercise]
                   for r in run):
                rest.append((k, m))
            else:
                run.append(m)
        runs.append(run)
        pending = rest
    return runs


# --------------------------------------------------------------------------- the runs


def _student(lesson: Path, ref, answers: dict, cut_after: str | None = None):
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
    return sub


@pytest.mark.parametrize("lesson", ALL, ids=[p.stem for p in ALL])
def test_solution_passes_and_every_wrong_answer_fails(lesson, tmp_path, capsys):
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
    # two kernels at a time (a 2-core machine): the trusted run first, the solved notebook and the
    # mutant runs wait for its values only after their own run
    with ThreadPoolExecutor(max_workers=2) as pool:
        trusted = pool.submit(reference_values, ref, seed, lesson.parent, check.DEFAULT_TIMEOUT, _probe_env())

        def run(answers, cut_after=None):
            sub = _student(lesson, ref, answers, cut_after)
            return run_submission(sub, sanitize, lessons_dir=lesson.parent, sandbox=level, seed=seed,
                                  hidden_reference=trusted)

        solved_run = pool.submit(run, solved)
        mutant_runs = []
        for group in runs:
            answers = {**solved, **{m.exercise: m.source for m in group}}
            last = max(m.exercise for m in group)
            mutant_runs.append((group, pool.submit(run, answers, ref.exercises[last - 1].check_cell_id)))
        broken = {n: why for n, (values, why) in trusted.result().items() if values is None}
        assert not broken, f"hidden checks fail on the lesson's own solution: {broken}"
        result = solved_run.result()
        assert result.ok, check.format_report(result)
        let_through = []
        for group, fut in mutant_runs:
            res = fut.result()
            for m in group:
                e = res.exercises[m.exercise - 1]
                if e.status == "pass":
                    let_through.append(f"exercise {m.exercise} ({e.title}): wrong answer {m.name!r} passes")
    with capsys.disabled():
        n = sum(len(r) for r in runs)
        print(f"\n[wrong answers] {lesson.stem}: {n} wrong answer(s) in {len(runs)} run(s), "
              f"{time.perf_counter() - start:.1f} s")
    assert not let_through, "the checker lets wrong answers through:\n" + "\n".join(let_through)


def test_grouping_keeps_dependent_exercises_apart():
    nb = read_notebook(FIXTURE_DIR / "91_fixture_gates.ipynb")
    ref = _reference(FIXTURE_DIR / "91_fixture_gates.ipynb")
    deps = dependencies(nb, ref)
    assert 2 in deps[1]  # exercise 2 calls exercise 1's my_sigmoid
    assert 3 not in deps[1] and deps[2] == {3}  # exercise 2 reads x, exercise 3 too (conservative)
    nb93 = read_notebook(FIXTURE)
    ref93 = _reference(FIXTURE)
    assert dependencies(nb93, ref93) == {1: set(), 2: set(), 3: set()}
    runs = plan_runs(nb93, ref93)
    assert [sorted(m.exercise for m in r) for r in runs] == [[1, 2, 3], [1, 2]]
