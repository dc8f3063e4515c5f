"""Run nbval on the merged notebook and read back what the probe recorded.

Two ways: next to the student's file, unconfined (``course.py check``, as in JupyterLab), or in
a sandbox (:mod:`.sandbox`; ``course.py grade``, ``check --sandbox``) in a fresh folder holding
only the merged notebook. Either way nbval runs in a child process with single-threaded BLAS,
and the files the run leaves (the probe's records, the hidden checks' values) are read back as
untrusted data.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import sandbox as sb
from .hidden import OUT_ENV, load_values
from .lesson import ROOT
from .notebook import CheckerError, write_notebook

DEFAULT_TIMEOUT = 300  # seconds per cell
MERGED_TAG = ".cw-check-"
MAX_PROBE_BYTES = 64 * 2**20

# Lessons are executed with single-threaded BLAS (course_tools.execute); the check runs the same
# way whatever the entry point (course.py, python -m, the pytest plugin in CI), since a thread
# count can change the last digits of a float.
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_PASS_ENV = ("OPENBLAS_CORETYPE", "LANG", "LC_ALL", "TZ")


class SubmissionKilled(Exception):
    """A sandboxed run was stopped (wall-clock timeout, a limit) before nbval could report."""


def _probe_env() -> dict:
    env = dict(os.environ)
    env.update(SINGLE_THREAD)
    env.pop("PYTEST_ADDOPTS", None)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def _sandbox_env(base: str) -> dict:
    """A minimal environment for a confined run: nothing of the grader's but what numbers need."""
    env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
    env.update(SINGLE_THREAD)
    home = f"{base}/.cw/home"
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME=home, IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.matplotlib",
        JUPYTER_RUNTIME_DIR=f"{home}/.runtime", JUPYTER_PLATFORM_DIRS="1", TMPDIR="/tmp",
        PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    return env


def _copy_font_cache(dest: Path) -> None:
    """Matplotlib's font list from the grader's cache, so each run does not rebuild it (~s)."""
    home = Path.home()
    for folder in (os.environ.get("MPLCONFIGDIR"), home / ".cache" / "matplotlib", home / ".matplotlib"):
        if folder and Path(folder).is_dir():
            for f in Path(folder).glob("fontlist-*.json"):
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, dest / f.name)
            return


def _merged_path(student_path: Path) -> tuple[Path, str | None]:
    folder = student_path.resolve().parent
    stem = re.sub(r"[^\w.-]", "_", student_path.stem)  # safe as a pytest argument
    name = f".{stem}{MERGED_TAG}{secrets.token_hex(4)}.ipynb"
    if os.access(folder, os.W_OK):
        return folder / name, None
    tmp = Path(tempfile.mkdtemp(prefix="cw-check-"))
    return tmp / name, (
        "노트북 폴더에 쓸 수 없어 임시 폴더에서 실행했습니다 — 상대 경로를 쓰는 셀은 다르게 동작할 수 있습니다 "
        "(notebook folder not writable; ran in a temporary folder)."
    )


def _pytest_cmd(ini: str, rootdir: str, timeout: float, sanitize: str | None, notebook: str) -> list:
    cmd = [
        sys.executable, "-m", "pytest",
        "-c", ini, "--rootdir", rootdir,
        "-p", "nbval.plugin", "-p", "course_tools.coursework.probe",
        "-p", "no:cacheprovider", "--noconftest", "--color=no", "-q",
        "--nbval", "--nbval-current-env",
        "--nbval-cell-timeout", str(timeout),
    ]
    if sanitize is not None:
        cmd += ["--nbval-sanitize-with", sanitize]
    return cmd + [notebook]


def _read_probe(path: Path) -> dict | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_PROBE_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return None
    data["records"] = [r for r in data["records"] if isinstance(r, dict) and isinstance(r.get("cell_num"), int)]
    return data


def run_nbval(
    nb: dict,
    student_path: Path,
    sanitize: Path | None,
    timeout: float,
    hidden_numbers=(),
    sandbox: str | None = None,
    limits: sb.Limits | None = None,
) -> tuple[dict, str]:
    """Run nbval on ``nb``; return the probe's records (``data["records"]``), the hidden checks'
    values (``data["hidden"]``: number -> (values, reason)) and pytest's output.

    ``sandbox=None``: written next to the student's file, unconfined. Otherwise a sandbox level
    (see :func:`.sandbox.detect`) and the run happens in a fresh folder.
    """
    if sandbox is None:
        return _run_beside(nb, Path(student_path), sanitize, timeout, hidden_numbers)
    return _run_confined(nb, Path(student_path), sanitize, timeout, hidden_numbers, sandbox,
                         limits or sb.Limits())


def _run_beside(nb, student_path, sanitize, timeout, hidden_numbers):
    merged, note = _merged_path(student_path)
    with tempfile.TemporaryDirectory(prefix="cw-nbval-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        out = Path(tmp) / "probe.json"
        hidden_dir = Path(tmp) / "hidden"
        hidden_dir.mkdir()
        cmd = _pytest_cmd(str(ini), str(merged.parent), timeout,
                          str(Path(sanitize).resolve()) if sanitize is not None else None, str(merged))
        env = _probe_env()
        env["CW_PROBE_OUT"] = str(out)
        env[OUT_ENV] = str(hidden_dir)
        try:
            write_notebook(nb, merged)
            proc = subprocess.run(
                cmd, cwd=str(merged.parent), env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                encoding="utf-8", errors="replace",
            )
        finally:
            try:
                merged.unlink()
            except FileNotFoundError:
                pass
            if note:
                try:
                    merged.parent.rmdir()
                except OSError:
                    pass
        data = _read_probe(out)
        if data is None:
            raise CheckerError("nbval을 실행하지 못했습니다 (could not run nbval):\n" + _tail(proc.stdout))
        data["hidden"] = {n: load_values(hidden_dir, n) for n in hidden_numbers}
    data["pytest_output"] = proc.stdout
    data["note"] = note
    data["sandbox"] = None
    return data, proc.stdout


def _run_confined(nb, student_path, sanitize, timeout, hidden_numbers, level, limits):
    with tempfile.TemporaryDirectory(prefix="cw-sandbox-") as tmp:
        os.chmod(tmp, 0o711)  # without bwrap, the run's own uid must pass through to work/
        work = Path(tmp) / "work"
        cw = work / ".cw"
        (cw / "hidden").mkdir(parents=True)
        (cw / "home").mkdir()
        _copy_font_cache(cw / "home" / ".matplotlib")
        base = sb.INSIDE_WORK if level == "bwrap" else str(work)
        (cw / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        san = None
        if sanitize is not None:
            shutil.copy(sanitize, cw / "nbval_sanitize.cfg")
            san = f"{base}/.cw/nbval_sanitize.cfg"
        stem = re.sub(r"[^\w.-]", "_", student_path.stem)
        write_notebook(nb, work / f"{stem}.ipynb")
        env = _sandbox_env(base)
        env["CW_PROBE_OUT"] = f"{base}/.cw/probe.json"
        env[OUT_ENV] = f"{base}/.cw/hidden"
        cmd = _pytest_cmd(f"{base}/.cw/pytest.ini", base, timeout, san, f"{base}/{stem}.ipynb")
        outcome = sb.run(cmd, work, env, level, limits)
        data = _read_probe(cw / "probe.json")
        if data is None:
            why = ("시간 초과(wall-clock timeout) — 실행이 중단되었습니다" if outcome.timed_out else
                   f"실행이 제한(limits)에 걸려 끝났습니다 (exit {outcome.returncode})")
            raise SubmissionKilled(why + "\n" + _tail(outcome.output, 8))
        data["hidden"] = {n: load_values(cw / "hidden", n) for n in hidden_numbers}
    data["pytest_output"] = outcome.output
    data["note"] = None
    data["sandbox"] = level
    return data, outcome.output


def _tail(text: str, n: int = 25) -> str:
    lines = (text or "").rstrip().splitlines()
    return "\n".join(lines[-n:])
