"""Hidden checks: the exercise's names evaluated on fresh inputs, compared outside the kernel.

For an exercise whose lesson cell has ``metadata.coursework_author.hidden_check``, a cell is
injected right after the exercise cell (into the merged notebook only; the student's file and
the exercise notebook never hold it). That cell runs ``hidden(rng)`` in the kernel namespace
with ``rng = numpy.random.default_rng(seed)``, the seed drawn by the checker at check time, and
writes the returned dict as ``.npz`` (numbers and bools only) into ``$CW_HIDDEN_OUT``. The same
injection into the LESSON (with its solutions), run by :func:`reference_values` in a separate
kernel outside the sandbox with the same seed, gives the reference values. The checker loads
both with ``allow_pickle=False`` and compares them in its own process (:func:`compare`), so
nothing the student's code does to numpy or ``print`` inside the kernel reaches the verdict.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .lesson import HiddenCheck
from .notebook import CheckerError, split_source

HIDDEN_TAG = "coursework-hidden"  # tag of injected cells (nbval-ignore-output as well)
OUT_ENV = "CW_HIDDEN_OUT"
MAX_VALUES_BYTES = 64 * 2**20  # per exercise, what the checker agrees to load

# Runs inside the kernel. Its names live in a throw-away dict (nothing is left in the student's
# namespace); `hidden` sees a copy of the namespace, so it may use everything defined so far.
_RUNNER = '''
def _cw_run(ns, number, source, seed):
    import json, os
    import numpy as np
    out = os.path.join(os.environ.get("CW_HIDDEN_OUT", "."), "hidden-%d" % number)
    status = {"ok": False, "error": "hidden check did not finish"}
    try:
        env = dict(ns)
        exec(compile(source, "<hidden check %d>" % number, "exec"), env)
        values = env["hidden"](np.random.default_rng(seed))
        if not isinstance(values, dict) or not values:
            raise TypeError("hidden(rng) must return a non-empty dict, got %s" % type(values).__name__)
        arrays = {}
        for key, value in values.items():
            a = np.asarray(value)
            if a.dtype.kind not in "biuf":
                raise TypeError("value %r is not numbers or bools (dtype %s)" % (key, a.dtype))
            arrays[str(key)] = a
        np.savez(out + ".npz", **arrays)
        status = {"ok": True}
    except Exception as exc:  # the student's function raised: report it, print nothing
        status = {"ok": False, "error": ("%s: %s" % (type(exc).__name__, exc))[:500]}
    with open(out + ".json", "w") as fh:
        json.dump(status, fh)
'''


def new_seed() -> int:
    return secrets.randbits(63)


def hidden_cell(number: int, check: HiddenCheck, seed: int) -> dict:
    code = (
        f"# coursework hidden check {number} (injected by course_tools; not part of the lesson)\n"
        f"_cw = {{}}; exec({_RUNNER!r}, _cw); _cw['_cw_run'](globals(), {number}, {check.source!r}, {seed})\n"
        "del _cw"
    )
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"cw-hidden-{number}",
        "metadata": {"tags": [HIDDEN_TAG, "nbval-ignore-output"]},
        "outputs": [],
        "source": split_source(code),
    }


def inject(nb: dict, exercises: list, hidden: dict, seed: int) -> dict:
    """A copy of ``nb`` with a hidden-check cell after each exercise cell that has one."""
    nb = copy.deepcopy(nb)
    cells = []
    by_cell = {ex.cell_id: ex for ex in exercises if ex.number in hidden}
    for cell in nb["cells"]:
        cells.append(cell)
        ex = by_cell.get(cell.get("id"))
        if ex is not None:
            cells.append(hidden_cell(ex.number, hidden[ex.number], seed))
    nb["cells"] = cells
    return nb


def is_hidden_cell(cell: dict) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return isinstance(tags, list) and HIDDEN_TAG in tags


# ---------------------------------------------------------------------------- values


def load_values(folder: Path, number: int) -> tuple[dict | None, str | None]:
    """``(values, None)`` or ``(None, reason)`` from what a kernel wrote for exercise ``number``.

    The files are untrusted: sizes are checked before anything is read, arrays are loaded
    with ``allow_pickle=False``, and only numeric/bool arrays are accepted.
    """
    status_path = Path(folder) / f"hidden-{number}.json"
    values_path = Path(folder) / f"hidden-{number}.npz"
    try:
        if not status_path.is_file() or status_path.stat().st_size > 4096:
            return None, "숨은 검사가 끝나지 않았습니다 (the hidden check did not finish)"
        status = json.loads(status_path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None, "숨은 검사 결과를 읽을 수 없습니다 (unreadable hidden-check status)"
    if not isinstance(status, dict) or status.get("ok") is not True:
        err = status.get("error") if isinstance(status, dict) else None
        return None, f"숨은 검사에서 오류가 났습니다: {str(err)[:300]} (error in the hidden check)"
    try:
        if not values_path.is_file() or values_path.stat().st_size > MAX_VALUES_BYTES:
            return None, "숨은 검사 값이 없거나 너무 큽니다 (hidden-check values missing or too large)"
        with zipfile.ZipFile(values_path) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_VALUES_BYTES:
                return None, "숨은 검사 값이 너무 큽니다 (hidden-check values too large)"
        out = {}
        with np.load(values_path, allow_pickle=False) as data:
            for key in data.files:
                a = data[key]
                if a.dtype.kind not in "biuf":
                    return None, f"숨은 검사 값 '{key}'가 수가 아닙니다 (not numeric)"
                out[key] = a
        return out, None
    except Exception as exc:  # a malformed file is the student's loss, never the checker's crash
        return None, f"숨은 검사 값을 읽을 수 없습니다 (unreadable hidden-check values: {type(exc).__name__})"


def compare(reference: dict, yours: dict, rtol: float, atol: float) -> str | None:
    """``None`` if ``yours`` matches ``reference``; else a message that names the key and what
    differs (shape, kind or values) without printing the reference values."""
    missing = sorted(set(reference) - set(yours))
    extra = sorted(set(yours) - set(reference))
    if missing or extra:
        return f"값의 이름이 다릅니다 (keys differ: missing {missing}, unexpected {extra})"
    for key in sorted(reference):
        r, y = reference[key], yours[key]
        if r.shape != y.shape:
            return f"'{key}'의 모양(shape)이 다릅니다: 정답 {r.shape}, 내 값 {y.shape}"
        rk, yk = r.dtype.kind, y.dtype.kind
        if rk == "b" or yk == "b":
            if rk != yk:
                return f"'{key}'의 종류가 다릅니다 (bool expected: {rk == 'b'})"
            if not np.array_equal(r, y):
                return f"'{key}'의 참/거짓 값이 다릅니다 (bool values differ)"
            continue
        if rk in "iu":
            if yk not in "iu":
                return f"'{key}'는 정수여야 합니다 (integer expected, got dtype {y.dtype})"
            if not np.array_equal(r, y):
                return f"'{key}'의 정수 값이 다릅니다 (integer values differ)"
            continue
        with np.errstate(all="ignore"):
            ok = np.allclose(y.astype(np.float64), r.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
        if not ok:
            return f"'{key}'의 값이 정답과 다릅니다 (values differ beyond rtol={rtol:g}, atol={atol:g})"
    return None


# ------------------------------------------------------------------ trusted reference run


def reference_values(reference, seed: int, lessons_dir: Path, timeout: float, env: dict | None = None) -> dict:
    """Run the LESSON (with its solutions) up to its last hidden check, in a fresh kernel of a
    trusted process; return ``{exercise number: (values, None) or (None, reason)}``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if not reference.hidden or reference.lesson_nb is None:
        return {}
    nb = inject(reference.lesson_nb, reference.exercises, reference.hidden, seed)
    last = max(i for i, c in enumerate(nb["cells"]) if is_hidden_cell(c))
    nb["cells"] = nb["cells"][: last + 1]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    node = nbformat.reads(json.dumps(nb), as_version=4)
    with tempfile.TemporaryDirectory(prefix="cw-hidden-ref-") as out:
        kernel_env = dict(env if env is not None else os.environ)
        kernel_env[OUT_ENV] = out
        client = NotebookClient(
            node, timeout=timeout, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(Path(lessons_dir).resolve())}},
        )
        failure = None
        try:
            client.execute(env=kernel_env, stderr=subprocess.DEVNULL)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            failure = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
        except Exception as exc:  # no kernel at all: the checker cannot work
            raise CheckerError(f"정답 실행을 시작할 수 없습니다 (could not run the lesson for hidden checks): {exc}")
        result = {}
        for number in reference.hidden:
            values, reason = load_values(Path(out), number)
            if values is None and failure:
                reason = f"레슨 실행 실패 (the lesson failed in the trusted run: {failure[0][:200]})"
            result[number] = (values, reason)
        return result
