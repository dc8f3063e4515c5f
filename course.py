#!/usr/bin/env python3
"""One entry point for the course. Needs only python3 (>= 3.10); everything else goes into a
local virtual environment `.venv/` next to this file (nothing is installed globally).

    python3 course.py lab          set up, then open JupyterLab on notebooks/
    python3 course.py test         set up, then run the whole test suite
                                   (unit tests + strict nbval on every lesson + tool tests),
                                   then strict nbval on every lesson again under other
                                   OpenBLAS kernels (see KERNELS below)

Other commands (each sets up first):
    python3 course.py setup        only create/update .venv
    python3 course.py execute [NB ...]   re-run lessons, storing their outputs (authors)
    python3 course.py exercises [--check]  regenerate notebooks/exercises/ from the lessons
    python3 course.py check NB     check a student's exercise notebook
    python3 course.py grade DIR    grade a folder of submissions into a CSV
    python3 course.py slides       build offline lecture decks into slides/
    python3 course.py bench        run the speed benchmark (benchmarks/bench.py)

Extra arguments after `test` go to pytest (e.g. `python3 course.py test -k lstm`); the kernel
runs are then skipped (they re-check the stored outputs, which a filtered run does not need).
`lab` run as root (containers, cloud machines) adds JupyterLab's --allow-root and says so.
Setting up again is skipped when pyproject.toml has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
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


# The stored outputs are what nbval and the coursework checker compare against, so they must not
# depend on the BLAS kernel a student's machine picks. `test` re-runs strict nbval on every lesson
# under these OpenBLAS kernels (each set for that run only): SSE3 (any x86-64), AVX, AVX2, and
# AVX-512 where the CPU has it (a kernel the CPU lacks would crash). OpenBLAS reports Prescott as
# its "Katmai" core name. The machine's own default kernel is the main run.
KERNELS = {"Prescott": ("prescott", "katmai"), "Sandybridge": ("sandybridge",), "Haswell": ("haswell",)}
AVX512_KERNEL = {"SkylakeX": ("skylakex",)}


def run(cmd, single_thread: bool = False, cwd=ROOT, extra_env: dict | None = None) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    env = {**os.environ, **SINGLE_THREAD} if single_thread else None
    if extra_env:
        env = {**(env or os.environ), **extra_env}
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
    return [
        "-m", "pytest",
        "-n", "2", "--dist", "loadfile",  # two workers; a notebook's cells stay on one worker
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
        "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg",
        "tests", *lessons(), *extra,
    ]


def lessons() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def nbval_args() -> list[str]:
    """Strict nbval on every lesson only (no unit tests): the run repeated per forced BLAS kernel."""
    return [
        "-m", "pytest", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider",
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
        "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg",
        *lessons(),
    ]


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def kernel_plan(machine: str, cpuinfo: str) -> tuple[dict, str]:
    """Which OpenBLAS kernels to force here, or why none (message for the log)."""
    if machine.lower() not in ("x86_64", "amd64"):
        return {}, f"BLAS kernel runs skipped: OpenBLAS kernel names are for x86-64, this machine is {machine}"
    kernels = dict(KERNELS)
    if re.search(r"\bavx512f\b", cpuinfo):
        kernels.update(AVX512_KERNEL)
    return kernels, ""


def blas_kernel(py: Path, coretype: str | None) -> tuple[str, str]:
    """(library, kernel) that NumPy's BLAS reports in a fresh process with OPENBLAS_CORETYPE=coretype."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    code = ("import numpy, threadpoolctl\n"
            "i = [d for d in threadpoolctl.threadpool_info() if d.get('user_api') == 'blas']\n"
            "print(i[0].get('internal_api', '?') if i else 'none', (i[0].get('architecture') or '?') if i else '?')")
    out = subprocess.run([str(py), "-c", code], env=env, capture_output=True, text=True, timeout=120)
    parts = out.stdout.split()
    return (parts[0], parts[1]) if out.returncode == 0 and len(parts) == 2 else ("error", out.stderr.strip()[-200:])


def kernel_runs(py: Path) -> int:
    """Strict nbval on every lesson under each forced OpenBLAS kernel other than the default."""
    kernels, why_not = kernel_plan(platform.machine(), _cpu_flags())
    library, default = blas_kernel(py, os.environ.get("OPENBLAS_CORETYPE"))
    if not why_not and library != "openblas":
        why_not = f"BLAS kernel runs skipped: NumPy uses {library}, not OpenBLAS"
    if why_not:
        print(why_not, flush=True)
        return 0
    status = 0
    for name, aliases in kernels.items():
        if default.lower() in aliases:
            print(f"BLAS kernel {name}: the machine's default, checked by the main run", flush=True)
            continue
        library, got = blas_kernel(py, name)
        if got.lower() not in aliases:
            print(f"BLAS kernel {name}: OpenBLAS ran {got!r} instead; not a valid check", flush=True)
            status = status or 1
            continue
        print(f"BLAS kernel {name} (OpenBLAS reports {got}): strict nbval on every lesson", flush=True)
        status = run([py, *nbval_args()], single_thread=True, extra_env={"OPENBLAS_CORETYPE": name}) or status
    return status


def lab_args(rest: list[str], is_root: bool) -> list[str]:
    """JupyterLab refuses to start as root unless told; containers and cloud machines run as root."""
    if is_root and "--allow-root" not in rest:
        print("root로 실행 중이므로 JupyterLab에 --allow-root를 붙입니다 / running as root: adding --allow-root", flush=True)
        return ["--allow-root", *rest]
    return list(rest)


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
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        return run([py, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *lab_args(rest, is_root)])
    if cmd == "test":
        status = run([py, *pytest_args(rest)], single_thread=True)
        if rest:
            print("pytest arguments given: BLAS kernel runs skipped", flush=True)
            return status
        return kernel_runs(py) or status
    if cmd == "bench":
        return run([py, ROOT / "benchmarks" / "bench.py", *rest])
    # tools run in the caller's folder, so paths given relative to it (a student's notebook) work
    return run([py, "-m", modules[cmd], *rest], single_thread=True, cwd=None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
