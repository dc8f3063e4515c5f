#!/usr/bin/env python3
"""One entry point for the course. Needs only python3 (>= 3.10); everything else goes into a
local virtual environment `.venv/` next to this file (nothing is installed globally).

    python3 course.py lab          set up, then open JupyterLab on notebooks/
    python3 course.py test         set up, then run the whole test suite
                                   (unit tests + strict nbval on every lesson + tool tests)

Other commands (each sets up first):
    python3 course.py setup        only create/update .venv
    python3 course.py execute [NB ...]   re-run lessons, storing their outputs (authors)
    python3 course.py exercises [--check]  regenerate notebooks/exercises/ from the lessons
    python3 course.py check NB     check a student's exercise notebook
    python3 course.py grade DIR    grade a folder of submissions into a CSV
    python3 course.py slides       build offline lecture decks into slides/
    python3 course.py bench        run the speed benchmark (benchmarks/bench.py)

Extra arguments after `test` go to pytest (e.g. `python3 course.py test -k lstm`).
Setting up again is skipped when pyproject.toml has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-setup"
EXTRAS = "lab,test"

if sys.version_info < (3, 10):
    sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}")


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


# Notebooks are executed, checked and graded with single-threaded BLAS: the stored outputs are
# then reproducible bit for bit on any machine with the same libraries (a thread count can change
# the last digits of a sum), and two pytest workers on two cores don't oversubscribe them.
# JupyterLab and the benchmark keep the library defaults.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(cmd, single_thread: bool = False, cwd=ROOT) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    env = {**os.environ, **SINGLE_THREAD} if single_thread else None
    return subprocess.call([str(c) for c in cmd], cwd=cwd, env=env)


def _fingerprint() -> str:
    text = (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes() + EXTRAS.encode() + sys.version.encode()
    return hashlib.sha256(text).hexdigest()


def _lab_settings(py: Path) -> None:
    """JupyterLab defaults for the course: no news pop-up, widget state saved with notebooks."""
    prefix = subprocess.check_output([str(py), "-c", "import sys; print(sys.prefix)"], text=True).strip()
    settings = Path(prefix) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    overrides = {
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
        # RISE's default theme loads web fonts; "white" works offline (sizes must be strings)
        "jupyterlab-rise:plugin": {"theme": "white", "width": "1280px", "height": "720px"},
    }
    (settings / "overrides.json").write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")


def setup(force: bool = False) -> Path:
    py = venv_python()
    if not py.exists():
        print(f"creating virtual environment {VENV.name}/", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (subprocess.CalledProcessError, OSError) as err:
            import shutil

            shutil.rmtree(VENV, ignore_errors=True)  # a half-made .venv would be taken as ready next time
            sys.exit(
                f"가상 환경을 만들 수 없습니다 / could not create {VENV.name}/: {err}\n"
                "Debian/Ubuntu에서는 venv 모듈이 따로 있습니다 / on Debian or Ubuntu install it first:\n"
                "    sudo apt-get install python3-venv"
            )
    if force or not STAMP.exists() or STAMP.read_text() != _fingerprint():
        if run([py, "-m", "pip", "install", "--upgrade", "--quiet", "pip"]) != 0:
            sys.exit("pip upgrade failed")
        if run([py, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", f".[{EXTRAS}]"]) != 0:
            sys.exit("installing the course's packages failed (see pip's message above)")
        _lab_settings(py)
        STAMP.write_text(_fingerprint())
    return py


def pytest_args(extra: list[str]) -> list[str]:
    lessons = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [
        "-m", "pytest",
        "-n", "2", "--dist", "loadfile",  # two workers; a notebook's cells stay on one worker
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
        "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg",
        "tests", *lessons, *extra,
    ]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    modules = {"execute": "course_tools.execute", "exercises": "course_tools.exercises", "check": "course_tools.check",
               "grade": "course_tools.grade", "slides": "course_tools.slides"}
    if cmd not in ("setup", "lab", "test", "bench", *modules):
        print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    py = setup(force=cmd == "setup" and "--force" in rest)
    if cmd == "setup":
        return 0
    if cmd == "lab":
        return run([py, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *rest])
    if cmd == "test":
        return run([py, *pytest_args(rest)], single_thread=True)
    if cmd == "bench":
        return run([py, ROOT / "benchmarks" / "bench.py", *rest])
    # tools run in the caller's folder, so paths given relative to it (a student's notebook) work
    return run([py, "-m", modules[cmd], *rest], single_thread=True, cwd=None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
