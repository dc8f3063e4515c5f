"""course.py: the README's two commands, what CI runs, and a clear error without venv support."""

import importlib.util
import os
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
    monkeypatch.setattr(course, "kernel_runs", lambda py: 0)
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


def test_kernel_plan_forces_sse3_avx_avx2_and_avx512_only_where_the_cpu_has_it():
    course = load_course()
    plain, why = course.kernel_plan("x86_64", "flags\t\t: fpu sse3 avx avx2 avx512vl")  # avx512vl is not avx512f
    assert why == "" and list(plain) == ["Prescott", "Sandybridge", "Haswell"]
    wide, _ = course.kernel_plan("x86_64", "flags\t\t: fpu avx2 avx512f avx512dq")
    assert list(wide) == ["Prescott", "Sandybridge", "Haswell", "SkylakeX"]
    none, why = course.kernel_plan("aarch64", "")
    assert none == {} and "skipped" in why and "aarch64" in why


def _fake_kernels(monkeypatch, course, default, reports=None, library="openblas"):
    """Record every run's forced kernel; blas_kernel answers like OpenBLAS would."""
    runs = []
    monkeypatch.setattr(course, "_cpu_flags", lambda: "flags : avx2")
    monkeypatch.setattr(course.platform, "machine", lambda: "x86_64")
    reports = reports or {}
    monkeypatch.setattr(course, "blas_kernel", lambda py, k: (library, reports.get(k, k or default)))
    monkeypatch.setattr(course, "run", lambda cmd, single_thread=False, cwd=None, extra_env=None:
                        runs.append((cmd, single_thread, extra_env)) or 0)
    return runs


def test_kernel_runs_repeat_strict_nbval_under_each_kernel_but_the_default(monkeypatch, capsys):
    course = load_course()
    runs = _fake_kernels(monkeypatch, course, default="Haswell", reports={"Prescott": "Katmai"})
    assert course.kernel_runs(Path("py")) == 0
    assert [env for _, _, env in runs] == [{"OPENBLAS_CORETYPE": "Prescott"}, {"OPENBLAS_CORETYPE": "Sandybridge"}]
    for cmd, single, _ in runs:
        assert single and "--nbval" in cmd and "--nbval-lax" not in cmd and "tests" not in cmd
        assert len([a for a in map(str, cmd) if a.endswith(".ipynb")]) == 11
    assert "Haswell: the machine's default" in capsys.readouterr().out


def test_kernel_runs_fail_when_openblas_ignores_the_forced_kernel(monkeypatch, capsys):
    course = load_course()
    runs = _fake_kernels(monkeypatch, course, default="Zen", reports={"Sandybridge": "Haswell"})
    assert course.kernel_runs(Path("py")) == 1
    assert [env["OPENBLAS_CORETYPE"] for _, _, env in runs] == ["Prescott", "Haswell"]
    assert "ran 'Haswell' instead" in capsys.readouterr().out


def test_kernel_runs_say_they_skipped_without_openblas(monkeypatch, capsys):
    course = load_course()
    runs = _fake_kernels(monkeypatch, course, default="?", library="mkl")
    assert course.kernel_runs(Path("py")) == 0 and runs == []
    assert "skipped" in capsys.readouterr().out


def test_test_command_runs_the_kernel_runs_unless_pytest_arguments_are_given(monkeypatch):
    course = load_course()
    monkeypatch.setattr(course, "setup", lambda force=False: Path("py"))
    monkeypatch.setattr(course, "run", lambda *a, **k: 0)
    kernels = []
    monkeypatch.setattr(course, "kernel_runs", lambda py: kernels.append(py) or 1)
    assert course.main(["test"]) == 1 and len(kernels) == 1  # a kernel run's failure fails the command
    assert course.main(["test", "-k", "lstm"]) == 0 and len(kernels) == 1


def test_the_forced_kernel_reaches_numpy_in_a_child_process():
    course = load_course()
    import sys
    library, default = course.blas_kernel(Path(sys.executable), None)
    if library != "openblas":
        pytest.skip(f"NumPy uses {library} here")
    library, got = course.blas_kernel(Path(sys.executable), "Sandybridge")
    assert got.lower() == "sandybridge"


def test_lab_adds_allow_root_only_for_root(monkeypatch):
    course = load_course()
    assert course.lab_args(["--no-browser"], is_root=True) == ["--allow-root", "--no-browser"]
    assert course.lab_args(["--allow-root"], is_root=True) == ["--allow-root"]
    assert course.lab_args(["--no-browser"], is_root=False) == ["--no-browser"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (as in containers and CI)")
def test_lab_command_serves_jupyterlab_as_root(tmp_path):
    """README command 1 as root: `python3 course.py lab --no-browser` must start, not exit."""
    import socket
    import sys
    import time
    import urllib.request

    if Path(sys.prefix) != ROOT / ".venv":
        pytest.skip("course.py lab uses the project's .venv")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    log = tmp_path / "lab.log"
    with log.open("w") as out:  # course.py runs jupyter as a child: its own process group, killed as a group
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "course.py"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
             "--IdentityProvider.token=", "--ServerApp.port_retries=0"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, log.read_text()[-2000:]
        assert status == 200
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert "--allow-root" in text and "Running as root is not recommended" not in text
