"""The bwrap command line: mounts apply in order, so a checkout under /tmp must survive the private /tmp."""

from pathlib import Path

from course_tools.coursework import sandbox


def test_a_checkout_under_tmp_stays_visible_over_the_private_tmp(monkeypatch, tmp_path):
    venv = Path("/tmp/ci-clone/main/.venv")
    monkeypatch.setattr(sandbox, "_ro_paths", lambda: [venv, Path("/usr/lib/python3")])
    cmd = sandbox._bwrap_prefix(tmp_path, uid=None)
    tmpfs = cmd.index("--tmpfs")
    assert cmd[tmpfs + 1] == "/tmp"
    binds = [i for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 1] == str(venv)]
    assert binds and all(i > tmpfs for i in binds)
    dirs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--dir"]
    assert "/tmp" not in dirs and "/tmp/ci-clone/main" in dirs  # /tmp keeps its 1777 mode
    work = cmd.index("--bind")
    assert work > tmpfs and cmd[work + 1:work + 3] == [str(tmp_path), sandbox.INSIDE_WORK]
