"""Generate the exercise notebooks from the lessons (or check that they are up to date).

    python3 course.py exercises            # notebooks/NN_name.ipynb -> notebooks/exercises/NN_name.ipynb
    python3 course.py exercises --check    # exit 1 and list the stale files, write nothing

Every lesson with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` blocks gets an exercise notebook:
each block becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at the marker's
indentation; stored outputs (the reference), execution counts, cell ids and markdown stay; the
exercise cells are tagged ``exercise``, the check cells ``exercise-check``; the notebook's
``metadata.coursework`` records the source lesson, the exercises and a SHA-256 of the reference.
The authors' ``metadata.coursework_author`` (wrong answers, hidden checks) is left out.
The output is deterministic: re-running on unchanged lessons rewrites nothing. Generated
notebooks whose lesson lost its exercises (or was renamed) are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .coursework.generate import lesson_files, make_exercise_notebook
from .coursework.lesson import EXERCISES_SUBDIR, GENERATOR, LESSONS_DIR, META_KEY
from .coursework.notebook import CourseworkError, dumps_notebook, read_notebook


def display_path(p: Path) -> str:
    p = Path(p)
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return str(p)
    return str(p) if rel.startswith("..") else rel


def is_generated(path: Path) -> bool:
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        return nb.get("metadata", {}).get(META_KEY, {}).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def plan(lessons_dir: Path, out_dir: Path) -> tuple[dict, list, list, set]:
    """What the exercise folder should contain.

    Returns ``(expected, errors, warnings, failed_names)``: ``expected`` maps an output path to
    its bytes; ``failed_names`` are exercise file names whose lesson could not be processed
    (their existing files are left alone).
    """
    expected: dict[Path, bytes] = {}
    errors: list[CourseworkError] = []
    warnings: list[str] = []
    failed: set[str] = set()
    for lesson in lesson_files(lessons_dir):
        try:
            ref = make_exercise_notebook(read_notebook(lesson), lesson.name)
        except CourseworkError as exc:
            errors.append(exc)
            failed.add(lesson.name)
            continue
        if ref is None:
            continue
        warnings.extend(ref.warnings)
        expected[out_dir / lesson.name] = dumps_notebook(ref.nb).encode("utf-8")
    return expected, errors, warnings, failed


def existing_generated(out_dir: Path) -> list[Path]:
    if not out_dir.is_dir():
        return []
    return sorted(
        p for p in out_dir.glob("*.ipynb") if not p.name.startswith(".") and is_generated(p)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="course.py exercises",
        description="Generate notebooks/exercises/*.ipynb from the lessons' solution blocks.",
    )
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 and list files that are out of date")
    ap.add_argument("--lessons", type=Path, default=LESSONS_DIR,
                    help="folder with the lessons NN_name.ipynb (default: notebooks/)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder (default: <lessons>/exercises)")
    args = ap.parse_args(argv)
    lessons_dir = args.lessons
    out_dir = args.out if args.out is not None else lessons_dir / EXERCISES_SUBDIR
    if not lessons_dir.is_dir():
        print(f"오류: 레슨 폴더가 없습니다 / Error: no lessons folder: {display_path(lessons_dir)}",
              file=sys.stderr)
        return 2

    expected, errors, warnings, failed = plan(lessons_dir, out_dir)
    for w in warnings:
        print(f"경고(warning): {w}", file=sys.stderr)
    for e in errors:
        print(e.render(), file=sys.stderr)

    stale, missing = [], []
    for path, data in sorted(expected.items()):
        if not path.exists():
            missing.append(path)
        elif path.read_bytes() != data:
            stale.append(path)
    orphans = [p for p in existing_generated(out_dir) if p not in expected and p.name not in failed]

    if args.check:
        problems = (
            [(p, "레슨과 다름 (out of date)") for p in stale]
            + [(p, "없음 (missing)") for p in missing]
            + [(p, "레슨에 연습이 없음 — 지워야 함 (orphan: no lesson with exercises)") for p in orphans]
        )
        for p, why in problems:
            print(f"{display_path(p)}: {why}")
        if problems or errors:
            print(
                f"연습 노트북이 레슨과 맞지 않습니다: {len(problems)}개, 레슨 오류 {len(errors)}개. "
                "'python3 course.py exercises'로 다시 만드세요.\n"
                f"Exercise notebooks are out of date: {len(problems)} file(s), {len(errors)} lesson "
                "error(s); regenerate with 'python3 course.py exercises'."
            )
            return 1
        print(f"연습 노트북 {len(expected)}개가 최신입니다 / {len(expected)} exercise notebook(s) up to date.")
        return 0

    if expected:
        out_dir.mkdir(parents=True, exist_ok=True)
    for path in missing + stale:
        path.write_bytes(expected[path])
        print(f"{'만듦(created)' if path in missing else '갱신(updated)'}: {display_path(path)}")
    for path in orphans:
        path.unlink()
        print(f"지움(removed): {display_path(path)}")
    unchanged = len(expected) - len(missing) - len(stale)
    print(
        f"연습 노트북 {len(expected)}개 (새로 {len(missing)}, 갱신 {len(stale)}, 그대로 {unchanged}, "
        f"지움 {len(orphans)}) / {len(expected)} exercise notebook(s)."
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
