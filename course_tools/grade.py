"""Grade a folder of submitted exercise notebooks into a CSV (students × exercises).

    python3 course.py grade submissions/ --out results.csv [--jobs 2]

Layouts accepted inside the submissions folder (hidden files and folders are ignored):

    submissions/<student>/<NN_name>.ipynb                      one folder per student
    submissions/<student>/notebooks/exercises/<NN_name>.ipynb  a student's clone of the course
                                                               repository (GitHub Classroom)
    submissions/<student>__<NN_name>.ipynb                     flat, two underscores

In a student folder without ``notebooks/exercises/``, every file is a submission: a file that
is not a usable notebook is reported (stdout and CSV), never fatal. The lesson of a submission
comes from its file name (``NN_name``) and from the notebook's ``metadata.coursework``; if they
disagree, the submission is reported as from another lesson.

Each submission is checked like ``course.py check`` (reference from the lesson, nbval on a merged
copy, hidden checks on fresh inputs compared outside the kernel), but confined: each run gets a
sandbox (bubblewrap if installed, see ``course_tools.coursework.sandbox``) with its own folder, no
network, and no view of the lessons, the other submissions or the results. One seed per lesson is
drawn when grading starts; the lesson's reference values for it are computed once, in a trusted
kernel. Symbolic links are not followed (a link could point at another student's file). Cells in the CSV:
``pass``, ``fail``, ``incomplete``, ``error`` (could not be checked) or ``missing``.
Exit code 0 when every submission could be processed (whatever the students' results), 2 for
a bad command line, 3 when the checker itself failed for some submission.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import threading
from concurrent.futures import Future

from .coursework import sandbox as sb
from .coursework.checker import _all, run_submission, untouched
from .coursework.generate import lesson_files, load_reference, sanitize_file
from .coursework.hidden import new_seed, reference_values
from .coursework.lesson import EXERCISES_SUBDIR, LESSON_NAME_RE, LESSONS_DIR
from .coursework.match import prepare
from .coursework.notebook import CheckerError, CourseworkError
from .coursework.run import DEFAULT_TIMEOUT, MERGED_TAG, _probe_env
from .coursework.verdict import ERROR, INCOMPLETE, PASS, STATUS_KO

MISSING = "missing"


@dataclass
class Submission:
    student: str
    path: Path
    lesson: str | None  # expected from the file name, if it names a known lesson
    statuses: dict = field(default_factory=dict)  # exercise number -> status
    lesson_found: str | None = None
    notes: list = field(default_factory=list)
    checker_failed: bool = False


def _visible(p: Path) -> bool:
    return not p.name.startswith(".") and MERGED_TAG not in p.name


_LINK = "심볼릭 링크는 채점하지 않습니다 (symbolic link: not followed)"


def discover(folder: Path, known_lessons: set) -> tuple[list, list]:
    """``(submissions, problems)``; problems are ``(path, message)`` for files outside the scheme."""
    subs: list[Submission] = []
    problems: list[tuple[Path, str]] = []

    def lesson_of(stem: str) -> str | None:
        return stem if LESSON_NAME_RE.match(stem) and stem in known_lessons else None

    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not _visible(entry):
            continue
        if entry.is_dir():
            classroom = entry / "notebooks" / EXERCISES_SUBDIR
            if entry.is_symlink():
                problems.append((entry, _LINK))
                continue
            if classroom.is_dir() and not any(p.is_symlink() for p in (entry / "notebooks", classroom)):
                files = sorted(p for p in classroom.glob("*.ipynb") if _visible(p) and (p.is_file() or p.is_symlink()))
            else:
                files = sorted(p for p in entry.iterdir() if _visible(p) and (p.is_file() or p.is_symlink()))
            if not files:
                problems.append((entry, "제출 파일이 없습니다 (no files)"))
            for f in files:
                sub = Submission(entry.name, f, lesson_of(f.stem))
                if f.is_symlink():
                    sub.notes.append(_LINK)
                subs.append(sub)
        elif entry.is_symlink():
            problems.append((entry, _LINK))
        elif entry.is_file():
            if "__" in entry.stem:
                student, _, rest = entry.stem.partition("__")
                if student:
                    subs.append(Submission(student, entry, lesson_of(rest)))
                    continue
            problems.append(
                (entry, "이름이 <학생>__<NN_name>.ipynb 규칙에 맞지 않습니다 "
                        "(name does not follow <student>__<NN_name>.ipynb)")
            )
    return subs, problems


class HiddenReferences:
    """One fresh seed per lesson for this grading run, and the lesson's reference values for it
    (computed once, in a trusted kernel, the first time a submission of that lesson needs them)."""

    def __init__(self, lessons_dir: Path, timeout: float):
        self.lessons_dir, self.timeout = lessons_dir, timeout
        self._lock = threading.Lock()
        self._by_lesson: dict = {}

    def get(self, ref) -> tuple[int, Future | None]:
        with self._lock:
            if ref.lesson not in self._by_lesson:
                seed = new_seed()
                fut = None
                if ref.hidden:
                    fut = Future()
                    threading.Thread(target=self._compute, args=(ref, seed, fut), daemon=True).start()
                self._by_lesson[ref.lesson] = (seed, fut)
            return self._by_lesson[ref.lesson]

    def _compute(self, ref, seed, fut):
        try:
            fut.set_result(reference_values(ref, seed, self.lessons_dir, self.timeout, _probe_env()))
        except BaseException as exc:
            fut.set_exception(exc)


def grade_one(sub: Submission, lessons_dir: Path, timeout: float, sanitize: Path | None,
              level: str = "none", limits: sb.Limits | None = None,
              hidden: HiddenReferences | None = None) -> Submission:
    if sub.path.is_symlink():
        sub.lesson_found = sub.lesson
        return sub
    if sub.path.suffix != ".ipynb":
        sub.notes.append("노트북(.ipynb)이 아닙니다 (not a notebook)")
        sub.lesson_found = sub.lesson
        return sub
    hidden = hidden or HiddenReferences(lessons_dir, timeout)
    try:
        prepared = prepare(sub.path, lessons_dir, expected_lesson=sub.lesson)
        if len(untouched(prepared)) == len(prepared.reference.exercises):
            result = _all(prepared, INCOMPLETE, "아직 답을 쓰지 않음 / not attempted",
                          ["연습을 하나도 풀지 않아 실행하지 않았습니다 (nothing attempted; not run)."])
        else:
            seed, reference = hidden.get(prepared.reference)
            result = run_submission(
                prepared, sanitize if sanitize is not None else sanitize_file(lessons_dir), timeout,
                lessons_dir, level, limits, seed, reference,
            )
    except CourseworkError as exc:
        sub.notes.append(f"{exc.ko} / {exc.en}")
        sub.lesson_found = sub.lesson
        return sub
    except CheckerError as exc:
        sub.notes.append(f"검사 도구 오류 (checker error): {str(exc).splitlines()[0]}")
        sub.lesson_found = sub.lesson
        sub.checker_failed = True
        return sub
    sub.lesson_found = result.lesson
    sub.statuses = {e.number: e.status for e in result.exercises}
    if result.others:
        sub.notes.append(f"연습 밖의 셀 {len(result.others)}개 실패 ({len(result.others)} other cell(s) failed)")
    sub.notes.extend(n.splitlines()[0] for n in result.notes)
    return sub


def write_csv(subs: list, problems: list, exercises: dict, out: Path) -> list:
    """Write the wide CSV; return its rows (for printing and tests)."""
    lessons = sorted(exercises)
    columns = [f"{lesson}:{n}" for lesson in lessons for n in exercises[lesson]]
    rows: dict[str, dict] = {}
    for sub in subs:
        row = rows.setdefault(sub.student, {"student": sub.student, "notes": []})
        lesson = sub.lesson_found
        label = f"{sub.path.name}: "
        if lesson in exercises:
            keys = [f"{lesson}:{n}" for n in exercises[lesson]]
            if any(k in row for k in keys):
                row["notes"].append(label + "같은 레슨을 두 번 제출 — 먼저 것을 씀 (duplicate submission ignored)")
                continue
            for n in exercises[lesson]:
                row[f"{lesson}:{n}"] = sub.statuses.get(n, ERROR)
        row["notes"].extend(label + n for n in sub.notes)
    for path, msg in problems:
        student = path.name if path.is_dir() else "?"
        row = rows.setdefault(student, {"student": student, "notes": []})
        row["notes"].append(f"{path.name}: {msg}")
    table = []
    for student in sorted(rows):
        row = rows[student]
        cells = [row.get(c, MISSING) for c in columns]
        if len(row) == 2 and student == "?":  # only files outside the naming scheme
            cells = [""] * len(columns)
        table.append(
            [student] + cells + [sum(c == PASS for c in cells), len(columns), " | ".join(row["notes"])]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student"] + columns + ["passed", "total", "notes"])
        w.writerows(table)
    return table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="course.py grade",
        description="Check every submitted exercise notebook and write a CSV of students x exercises.",
    )
    ap.add_argument("folder", type=Path, help="folder of submissions")
    ap.add_argument("--out", type=Path, default=Path("results.csv"), help="CSV to write (default: results.csv)")
    ap.add_argument("--lessons", type=Path, default=LESSONS_DIR, help="lessons folder (default: notebooks/)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="notebooks checked at once (default: 2; each runs its own kernel)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell")
    ap.add_argument("--sanitize", type=Path, default=None,
                    help="nbval sanitize file (default: <lessons>/nbval_sanitize.cfg if it exists)")
    ap.add_argument("--sandbox", choices=["auto", "bwrap", "unshare", "none"], default="auto",
                    help="confinement of each run (default: the best available; none = unconfined)")
    ap.add_argument("--wall-timeout", type=float, default=sb.Limits.wall_seconds,
                    help="seconds one submission may run in all before it is killed")
    ap.add_argument("--max-memory-mb", type=int, default=sb.Limits.memory_bytes // 2**20,
                    help="address space per process of a run, MiB")
    ap.add_argument("--max-procs", type=int, default=sb.Limits.processes,
                    help="processes/threads a run may have")
    args = ap.parse_args(argv)
    if not args.folder.is_dir():
        print(f"오류: 제출 폴더가 없습니다 / Error: no such folder: {args.folder}")
        return 2
    if args.jobs < 1:
        print("오류: --jobs는 1 이상이어야 합니다 / Error: --jobs must be at least 1")
        return 2
    known = {p.stem for p in lesson_files(args.lessons)}
    subs, problems = discover(args.folder, known)
    level = sb.detect(args.sandbox)
    print(sb.LEVEL_TEXT[level] + (f" — '{args.sandbox}' not available here" if args.sandbox not in ("auto", level) else ""))
    limits = sb.Limits(wall_seconds=args.wall_timeout, memory_bytes=args.max_memory_mb * 2**20,
                       processes=args.max_procs)
    hidden = HiddenReferences(args.lessons, args.timeout)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        done = list(pool.map(
            lambda s: grade_one(s, args.lessons, args.timeout, args.sanitize, level, limits, hidden), subs))

    exercises: dict[str, list] = {}
    for sub in done:
        lesson = sub.lesson_found
        if lesson and lesson not in exercises:
            try:
                exercises[lesson] = [e.number for e in load_reference(lesson, args.lessons).exercises]
            except CourseworkError:
                pass
    for sub in done:
        rel = sub.path.relative_to(args.folder)
        if sub.statuses:
            n_pass = sum(s == PASS for s in sub.statuses.values())
            detail = ", ".join(f"{n}:{STATUS_KO[s]}" for n, s in sorted(sub.statuses.items()))
            print(f"{sub.student}\t{sub.lesson_found}\t{n_pass}/{len(sub.statuses)} 통과 ({detail})")
        else:
            print(f"{sub.student}\t{rel}\t오류(error): {sub.notes[0] if sub.notes else ''}")
    for path, msg in problems:
        print(f"?\t{path.relative_to(args.folder)}\t{msg}")
    write_csv(done, problems, exercises, args.out)
    print(f"CSV: {args.out} ({len(done)}개 제출 / {len(done)} submission(s))")
    return 3 if any(s.checker_failed for s in done) else 0


if __name__ == "__main__":
    sys.exit(main())
