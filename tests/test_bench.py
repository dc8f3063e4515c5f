"""benchmarks/bench.py runs end to end and prints its whole table (it times things; this test does not)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_one_row_per_cell_size_and_dtype():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--rounds", "1", "--seconds", "0.001", "--no-torch", "--threads", "1"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout
    assert "BLAS/torch threads: 1" in out and "BLAS kernel: openblas" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| cell")]
    keys = [tuple(cell.strip() for cell in row.split("|")[1:4]) for row in rows]
    assert keys == [(c, s, d) for s in ("teaching", "mid") for d in ("float64", "float32") for c in ("RNN", "LSTM", "GRU")]
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert re.fullmatch(r"\d+\.\d\d", cells[3]), row  # lstmlib ms
        assert cells[4] == "–" and cells[5] == "–", row  # no PyTorch columns with --no-torch
        assert re.fullmatch(r"\d+\.\d\d", cells[6]), row  # GEMM bound ms
        assert re.fullmatch(r"\d+", cells[8]), row  # page faults per call
    mid_rows = [row for row in rows if "| mid |" in row]
    assert all("(≤ 1.6)" in row for row in mid_rows)  # the GEMM-bound target is judged at mid size
    assert out.rstrip().splitlines()[-1].startswith("targets missed: ")
