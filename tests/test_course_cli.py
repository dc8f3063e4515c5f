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


def test_tools_run_with_single_threaded_blas():
    course = load_course()
    assert course.SINGLE_THREAD["OPENBLAS_NUM_THREADS"] == "1"


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

    text = (ROOT / "course.py").read_text(encoding="utf-8")
    assert '"-c", "constraints.txt"' in text
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;]+)", (ROOT / "constraints.txt").read_text(), re.M))
    for name in ("numpy", "matplotlib", "ipywidgets", "nbval", "Pygments"):
        assert name in pins, f"constraints.txt must pin {name}"
    if sys.version_info >= (3, 11) and (ROOT / ".venv").exists() and sys.prefix == str(ROOT / ".venv"):
        # the environment course.py made runs exactly the pinned versions the outputs were made with
        for name in ("numpy", "matplotlib", "Pygments"):
            assert metadata.version(name) == pins[name]
