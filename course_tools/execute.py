"""Re-run lessons top to bottom in a fresh kernel and store their outputs (the nbval reference).

    python3 course.py execute                      # every lesson in notebooks/
    python3 course.py execute notebooks/05_*.ipynb # some lessons

Each notebook runs in its own fresh kernel with the notebook's folder as working directory;
widget state is stored (static HTML and slides show it); cell timing metadata is not recorded,
so re-running an unchanged lesson changes nothing but what its code computes. The wall time of
each lesson is printed here, never into the notebook (the course's budget is 60 s a lesson).
Kernels run with single-threaded BLAS, exactly as ``python3 course.py test`` checks them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSON_GLOB = "[0-9][0-9]_*.ipynb"


def lessons(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob(LESSON_GLOB))


def execute(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv=None) -> int:
    # single-threaded BLAS in the kernels, as `course.py test` checks them (see course.py)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    ap = argparse.ArgumentParser(prog="course.py execute", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="lesson notebooks (default: all lessons)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = ap.parse_args(argv)
    paths = args.notebooks or lessons()
    total = 0.0
    for p in paths:
        if not p.exists():
            print(f"no such notebook: {p}", file=sys.stderr)
            return 2
        t = execute(p, args.timeout)
        total += t
        print(f"{p.name}: {t:.1f} s")
    print(f"total: {total:.1f} s for {len(paths)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
