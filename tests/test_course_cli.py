"""course.py: the README's two commands, what CI runs, and a clear error without venv support."""

import importlib.util
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_course():
    spec = importlib.util.spec_from_file_location("course_cli", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_command_runs_strict_nbval_on_every_lesson_and_the_unit_tests():
    args = load_course().pytest_args([])
    assert "--nbval" in args and "--nbval-lax" not in args
    assert "--nbval-current-env" in args and "tests" in args
    lessons = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(lessons) == 11
    assert [a for a in args if a.endswith(".ipynb")] == lessons  # no exercise copies, no fixtures


def test_readme_gives_the_two_commands_and_ci_runs_the_same_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 course.py lab" in readme and "python3 course.py test" in readme
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci_lines[-1] == "python3 course.py test"


def test_tools_run_with_single_threaded_blas(monkeypatch):
    course = load_course()
    assert course.SINGLE_THREAD["OPENBLAS_NUM_THREADS"] == "1"
    calls = []
    monkeypatch.setattr(course.subprocess, "call", lambda cmd, cwd=None, env=None: calls.append((cmd, env)) or 0)
    monkeypatch.setattr(course, "setup", lambda force=False: Path("py"))
    for command in (["test"], ["check", "nb.ipynb"], ["execute"], ["lab"], ["bench"]):
        assert course.main(command) == 0
    by_command = {tuple(cmd[1:3]): env for cmd, env in calls}
    for cmd, env in calls:
        single = env is not None and all(env.get(k) == "1" for k in course.SINGLE_THREAD)
        tool = "pytest" in cmd or any(m in cmd for m in ("course_tools.check", "course_tools.execute"))
        assert single == tool, (cmd, env and {k: env.get(k) for k in course.SINGLE_THREAD})
    assert len(by_command) == 5


def test_setup_runs_pip_with_the_constraints_file(tmp_path, monkeypatch):
    course = load_course()
    py = tmp_path / ".venv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text("")
    monkeypatch.setattr(course, "venv_python", lambda: py)
    monkeypatch.setattr(course, "STAMP", tmp_path / ".venv" / ".course-setup")
    monkeypatch.setattr(course, "_lab_settings", lambda py: None)
    commands = []
    monkeypatch.setattr(course, "run", lambda cmd, single_thread=False, cwd=None: commands.append([str(c) for c in cmd]) or 0)
    assert course.setup() == py
    install = [c for c in commands if "-e" in c]
    assert install == [[str(py), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", ".[lab,test]"]]
    commands.clear()
    course.setup()  # the stamp matches now: a second run installs nothing
    assert commands == []


def test_missing_venv_support_gives_an_install_hint(tmp_path, monkeypatch):
    course = load_course()
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")

    def no_ensurepip(self, env_dir):
        Path(env_dir).mkdir()
        raise subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(venv.EnvBuilder, "create", no_ensurepip)
    with pytest.raises(SystemExit) as exc:
        course.setup()
    assert "python3-venv" in str(exc.value)
    assert not (tmp_path / ".venv").exists()  # no half-made environment left behind


def test_setup_installs_with_the_tested_constraints():
    import re
    import sys
    from importlib import metadata

    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;]+)", (ROOT / "constraints.txt").read_text(), re.M))
    for name in ("numpy", "matplotlib", "ipywidgets", "nbval", "Pygments"):
        assert name in pins, f"constraints.txt must pin {name}"
    if sys.version_info >= (3, 11) and (ROOT / ".venv").exists() and sys.prefix == str(ROOT / ".venv"):
        # the environment course.py made runs exactly the pinned versions the outputs were made with
        for name in ("numpy", "matplotlib", "Pygments"):
            assert metadata.version(name) == pins[name]
