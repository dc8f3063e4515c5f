"""One submission, start to end: match -> merge -> run (sandbox) -> hidden checks -> verdict.

    prepare()            match.py    the student's answers, the lesson's reference
    sub.merged(seed)     merge.py    the notebook to run, hidden-check cells injected
    run_nbval()          run.py      nbval in a child process (sandbox.py when asked)
    reference_values()   hidden.py   the lesson's own values, same seed, trusted kernel
    analyse()            verdict.py  nbval's records -> one status per exercise
    apply_hidden()       verdict.py  ... which passes only if the hidden values match too
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import sandbox as sb
from .generate import sanitize_file
from .hidden import new_seed, reference_values
from .lesson import LESSONS_DIR
from .match import Submission, prepare
from .merge import without_hidden_records
from .run import DEFAULT_TIMEOUT, SubmissionKilled, _probe_env, run_nbval
from .verdict import ERROR, INCOMPLETE, CheckResult, ExerciseResult, analyse, apply_hidden, untouched


def _all(sub: Submission, status: str, reason: str, notes: list) -> CheckResult:
    return CheckResult(
        path=sub.path, lesson=sub.reference.lesson,
        exercises=[ExerciseResult(e.number, e.title, status, reason) for e in sub.reference.exercises],
        others=[], notes=list(sub.notes) + notes,
    )


def run_submission(
    sub: Submission,
    sanitize: Path | None,
    timeout: float = DEFAULT_TIMEOUT,
    lessons_dir: Path | None = None,
    sandbox: str | None = None,
    limits: sb.Limits | None = None,
    seed: int | None = None,
    hidden_reference: dict | None = None,
) -> CheckResult:
    """Run a prepared submission and decide. ``hidden_reference`` (from :func:`reference_values`
    with the same ``seed``) is computed here, in parallel with the student's run, when not given."""
    ref = sub.reference
    hidden = bool(ref.hidden)
    seed = new_seed() if seed is None else seed
    merged = sub.merged(seed if hidden else None)
    notes = []
    if not hidden and ref.lesson_nb is None:
        notes.append("레슨 없이 기준 연습 노트북으로 검사해 숨은 검사(hidden check)는 하지 않았습니다 "
                     "(no lesson at hand: hidden checks not run).")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = None
        if hidden and hidden_reference is None:
            future = pool.submit(reference_values, ref, seed, lessons_dir or LESSONS_DIR, timeout, _probe_env())
        try:
            data, _ = run_nbval(merged, sub.path, sanitize, timeout, hidden_numbers=sorted(ref.hidden),
                                sandbox=sandbox, limits=limits)
        except SubmissionKilled as exc:
            if future is not None:
                future.result()
            first = str(exc).splitlines()[0]
            return _all(sub, ERROR, f"실행 중단 / run stopped: {first}", notes + [str(exc)])
        if future is not None:
            hidden_reference = future.result()
        elif hasattr(hidden_reference, "result"):  # computed elsewhere (grading: once per lesson)
            hidden_reference = hidden_reference.result()
    result = analyse(sub, without_hidden_records(merged, data))
    result.notes.extend(notes)
    result.hidden = data.get("hidden", {})
    if hidden:
        apply_hidden(result, sub, data.get("hidden", {}), hidden_reference or {})
    return result


def check_notebook(
    path: Path,
    lessons_dir: Path | None = None,
    reference_path: Path | None = None,
    expected_lesson: str | None = None,
    sanitize: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    run_untouched: bool = True,
    sandbox: str | None = None,
    limits: sb.Limits | None = None,
    seed: int | None = None,
    hidden_reference: dict | None = None,
) -> CheckResult:
    """Check one student notebook. Raises CourseworkError (bad input) or CheckerError.

    ``run_untouched=False`` (grading): a notebook in which no exercise was touched is reported
    as all incomplete without executing it. ``sandbox``: ``None`` runs next to the student's
    file, unconfined; a level from :func:`.sandbox.detect` confines the run.
    """
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    sub = prepare(path, lessons_dir, reference_path, expected_lesson)
    if not run_untouched and len(untouched(sub)) == len(sub.reference.exercises):
        return _all(sub, INCOMPLETE, "아직 답을 쓰지 않음 / not attempted",
                    ["연습을 하나도 풀지 않아 실행하지 않았습니다 (nothing attempted; not run)."])
    if sanitize is None:
        sanitize = sanitize_file(lessons_dir)
    return run_submission(sub, sanitize, timeout, lessons_dir, sandbox, limits, seed, hidden_reference)
