"""``python3 course.py check NOTEBOOK``: check one exercise notebook, print the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import sandbox as sb
from .checker import check_notebook
from .notebook import CheckerError, CourseworkError
from .report import format_report
from .run import DEFAULT_TIMEOUT


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="course.py check",
        description="Check an exercise notebook against the lesson's reference outputs (nbval) "
                    "and its hidden checks (fresh inputs, compared outside the kernel).",
    )
    ap.add_argument("notebook", type=Path, help="the exercise notebook you edited")
    ap.add_argument("--lessons", type=Path, default=None, help="lessons folder (default: notebooks/)")
    ap.add_argument("--reference", type=Path, default=None,
                    help="a pristine generated exercise notebook (or the lesson) to check against")
    ap.add_argument("--sanitize", type=Path, default=None,
                    help="nbval sanitize file (default: <lessons>/nbval_sanitize.cfg if it exists)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per cell")
    ap.add_argument("--sandbox", action="store_true",
                    help="run confined as `grade` does (bubblewrap if installed) instead of next to the notebook")
    args = ap.parse_args(argv)
    level = sb.detect() if args.sandbox else None
    try:
        result = check_notebook(
            args.notebook, args.lessons, args.reference, sanitize=args.sanitize, timeout=args.timeout,
            sandbox=level,
        )
    except CourseworkError as exc:
        print(exc.render())
        return 2
    except CheckerError as exc:
        print(f"오류: 검사 도구를 실행할 수 없습니다 / Error: the checker could not run.\n{exc}")
        return 3
    if level is not None:
        print(sb.LEVEL_TEXT[level])
    print(format_report(result, str(args.notebook)))
    return result.exit_code
