"""Confine one submission's run: own folder, no network, read-only system, limits, timeout.

Three levels, best available first (``detect``):

``bwrap``    bubblewrap (Debian/Ubuntu package ``bubblewrap``): new mount, PID, network, IPC and
             UTS namespaces; the file system holds only read-only binds of what the run needs
             (system libraries, the Python installation, ``.venv``, ``lstmlib``, ``data/``,
             ``course_tools``), a private ``/tmp`` and the run's own folder (read-write). The
             lessons, other submissions, the results and the home folder are not there.
``unshare``  util-linux ``unshare``: no network, own PID namespace; the file system is NOT
             confined (the run sees what the grader's user sees, read-only for root-owned files
             when the grader is root, since the run switches to an unused uid).
``none``     no confinement: limits and the timeout only. Reported plainly.

Limits (all levels): CPU seconds per process, address space per process, file size, open
files, processes (``RLIMIT_NPROC``; when grading as root each run gets an unused uid, since the
kernel does not apply that limit to root), no core dumps, and a wall-clock timeout after which
the whole run is killed. Output read back from the run is capped.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from .lesson import ROOT

INSIDE_WORK = "/cw/work"  # the run's folder inside a bwrap sandbox
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "passwd", "group",
        "nsswitch.conf", "mime.types", "matplotlibrc")
LEVEL_TEXT = {
    "bwrap": "격리(sandbox): bubblewrap — 네트워크 없음, 읽기 전용 시스템, 레슨·다른 제출물·홈 폴더 보이지 않음 "
             "(bubblewrap: no network; lessons, other submissions and home not visible)",
    "unshare": "부분 격리(partial sandbox): unshare — 네트워크 없음, 제한 있음, 파일은 격리되지 않음 "
               "(unshare: no network and limits, files NOT confined; install bubblewrap)",
    "none": "격리 없음(UNCONFINED): 제출물 코드가 채점자 권한으로 실행됩니다 — bubblewrap을 설치하세요 "
            "(no sandbox tool found: submissions run with your permissions; install bubblewrap)",
}


@dataclass
class Limits:
    cpu_seconds: int = 900  # per process
    memory_bytes: int = 4 * 2**30  # address space per process
    file_bytes: int = 256 * 2**20  # largest file the run may write
    processes: int = 256  # tasks (threads count) of the run's user
    open_files: int = 1024
    wall_seconds: float = 900.0  # the whole run
    output_bytes: int = 4 * 2**20  # stdout+stderr kept from the run


@dataclass
class Outcome:
    returncode: int
    output: str
    timed_out: bool
    level: str


def _works(cmd: list) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_detected: dict = {}


def detect(request: str = "auto") -> str:
    """The level to use: ``request`` is ``auto`` (best that works here), ``bwrap``, ``unshare``
    or ``none``. A requested level that does not work here falls back to the next one."""
    order = ["bwrap", "unshare", "none"]
    start = order.index(request) if request in order else 0
    for level in order[start:]:
        if level not in _detected:
            if level == "bwrap":
                ok = shutil.which("bwrap") is not None and _works(_bwrap_prefix(Path("/tmp"), 0) + ["/bin/true"])
            elif level == "unshare":
                ok = shutil.which("unshare") is not None and _works(_unshare_prefix() + ["/bin/true"])
            else:
                ok = True
            _detected[level] = ok
        if _detected[level]:
            return level
    return "none"


def _ro_paths() -> list:
    """What a run needs to see (read-only), outermost first."""
    paths = [Path(sys.base_prefix), Path(sys.prefix), ROOT / "course_tools", ROOT / "data"]
    spec = importlib.util.find_spec("lstmlib")
    if spec is not None and spec.origin:
        paths.append(Path(spec.origin).resolve().parent)
    extra = os.environ.get("CW_SANDBOX_RO", "")  # more read-only paths, os.pathsep-separated
    paths += [Path(p) for p in extra.split(os.pathsep) if p]
    out = []
    for p in paths:
        p = p.resolve()
        if p.exists() and p not in out:
            out.append(p)
    return out


def _bwrap_prefix(work: Path, uid: int | None) -> list:
    root = os.geteuid() == 0
    cmd = ["bwrap", "--die-with-parent", "--new-session"]
    # as root, a user namespace would keep the uid switch below from working; unprivileged
    # bwrap needs one
    cmd += (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
            if root else ["--unshare-all"])
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / top
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), str(p)]
    for name in _ETC:
        p = Path("/etc") / name
        if p.exists():
            cmd += ["--ro-bind", str(p), str(p)]
    for cache in ("/var/cache/fontconfig",):
        if Path(cache).is_dir():
            cmd += ["--ro-bind", cache, cache]
    # the private /tmp first: bwrap applies mounts in order, and a checkout that lives under /tmp
    # (a CI clone, say) must stay visible on top of it
    cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    ro = _ro_paths()
    # parents of the mount points: bwrap would make them 0700 (root-only), the run's uid must pass
    parents = sorted({str(a) for p in ro + [Path(INSIDE_WORK)] for a in p.parents if str(a) not in ("/", "/tmp")},
                     key=lambda a: (a.count("/"), a))
    for a in parents:
        cmd += ["--perms", "0755", "--dir", a]
    for p in ro:
        cmd += ["--ro-bind", str(p), str(p)]
    cmd += ["--bind", str(work), INSIDE_WORK, "--chdir", INSIDE_WORK]
    if root and uid is not None:
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return cmd + ["--"]


def _unshare_prefix() -> list:
    cmd = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    if os.geteuid() != 0:
        cmd[1:1] = ["--user", "--map-root-user"]
    return cmd + ["--"]


def _drop_to(uid: int) -> list:
    """A prefix that switches to ``uid`` (no groups) before running the command: RLIMIT_NPROC
    does not bind root, and an unused uid owns no file of the grader."""
    code = ("import os,sys; os.setgroups([]); os.setgid(%d); os.setuid(%d); "
            "os.execv(sys.argv[1], sys.argv[1:])" % (uid, uid))
    return [sys.executable, "-c", code]


def _tasks_of_current_user() -> int:
    me, n = os.getuid(), 0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                st = (d / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in st.splitlines() if ":" in line)
            if int(fields.get("Uid", "-1").split()[0]) == me:
                n += int(fields.get("Threads", "1").strip() or 1)
    return n


def _preexec(limits: Limits, nproc: int):
    def apply():
        os.setsid()
        for res, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, nproc),
            (resource.RLIMIT_CORE, 0),
        ):
            try:
                soft, hard = resource.getrlimit(res)
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(res, (value, value))
            except (ValueError, OSError):
                pass
    return apply


def _read_capped(stream, cap: int, sink: list) -> None:
    kept = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        if kept < cap:
            sink.append(chunk[: cap - kept])
            kept += len(sink[-1])


def run(cmd: list, work: Path, env: dict, level: str, limits: Limits, host_cwd: Path | None = None) -> Outcome:
    """Run ``cmd`` confined at ``level``. ``work`` is the run's folder (read-write): inside a
    bwrap sandbox it is ``/cw/work`` and the command runs there; otherwise the command runs in
    ``host_cwd`` (default ``work``) with the host's paths."""
    work = Path(work)
    root = os.geteuid() == 0
    uid = None
    if root:
        uid = 200000 + secrets.randbelow(800000)  # unused: owns no file, runs no other process
        for dirpath, dirnames, filenames in os.walk(work):
            for name in [dirpath] + [os.path.join(dirpath, f) for f in dirnames + filenames]:
                os.chown(name, uid, uid)
    nproc = limits.processes if uid is not None else _tasks_of_current_user() + limits.processes
    if level == "bwrap":
        full = _bwrap_prefix(work, uid) + (_drop_to(uid) if uid is not None else []) + cmd
        cwd = work
    elif level == "unshare":
        full = _unshare_prefix() + (_drop_to(uid) if uid is not None else []) + cmd
        cwd = host_cwd or work
    else:
        full, cwd = (_drop_to(uid) if uid is not None else []) + cmd, host_cwd or work
    proc = subprocess.Popen(
        full, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, preexec_fn=_preexec(limits, nproc),
    )
    sink: list = []
    reader = threading.Thread(target=_read_capped, args=(proc.stdout, limits.output_bytes, sink), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # bwrap's own process group; its PID namespace dies with it
        except ProcessLookupError:
            pass
        proc.wait()
    if level == "none" and not timed_out:
        try:  # whatever the run left behind in its process group
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    reader.join(timeout=5)
    text = b"".join(sink).decode("utf-8", errors="replace")
    return Outcome(proc.returncode, text, timed_out, level)
