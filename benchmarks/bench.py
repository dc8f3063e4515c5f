"""Speed of lstmlib's forward + backward through time, against PyTorch and a GEMM-bound estimate.

    python3 course.py bench [--native-blas] [--threads N] [--rounds N]
    .venv/bin/python benchmarks/bench.py ...          # the same, without the setup step

For each cell (RNN, LSTM, GRU), size (teaching: T=50, N=1, D=10, H=32; mid: T=100, N=32, D=64,
H=128) and dtype (float64, float32) it measures the median time of one forward + backward pass:

* lstmlib: ``cell.forward`` then ``cell.backward`` with an upstream gradient on every h_t;
* PyTorch CPU (if installed): ``nn.RNN/LSTM/GRU(batch_first=True)`` forward and ``backward`` of
  ``(out * g).sum()``, same thread count as NumPy's BLAS;
* GEMM bound: the sum of the measured times of the matrix products that the same algorithm must
  do (the T recurrent products forward, the T products ``da_t W_hᵀ`` backward, and the four large
  products over all T*N rows: input projection, ``dxs``, ``dW_x``, ``dW_h``) — what lstmlib would
  cost if everything but GEMM were free.

The libraries are timed in separate blocks with a pause between them (their thread pools stall
each other when calls alternate on 2 cores), in several rounds; the table shows medians and
ratios measured in the same run.

Allocator: every case runs once before any case is timed, so that all of them meet the same
state of the C allocator. glibc gives memory back to the OS (large blocks at once, the top of
the heap once more than a threshold of it is free), and raises both thresholds when it frees a
large block; memory it got back costs a page fault per 4 KiB when touched again (1.6-3.5 µs
each, measured on the course's 2-core VM).
Without the warm-up the first mid-size case alone pays thousands of faults per call and the later
ones none; the last column shows the faults per call that remain.

Targets (from the project's issue): lstmlib ≤ 0.5× PyTorch at
the teaching size, ≤ 1.0× at mid size in float64 and ≤ 2.0× in float32; ≤ 1.6× the GEMM bound
at mid size. Time is measured here and only here: the test suite never times anything.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np

from lstmlib import gru, lstm, rnn

CELLS = {"RNN": rnn, "LSTM": lstm, "GRU": gru}
SIZES = {"teaching": dict(T=50, N=1, D=10, H=32), "mid": dict(T=100, N=32, D=64, H=128)}
TARGET_TORCH = {("teaching", "float64"): 0.5, ("teaching", "float32"): 0.5, ("mid", "float64"): 1.0, ("mid", "float32"): 2.0}
TARGET_GEMM = 1.6


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Some machines pin OpenBLAS to older kernels (AVX2) because old OpenBLAS builds misbehave on
# their CPUs; PyTorch's own kernels are not pinned. --native-blas lifts the pin for this run only.
BLAS_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    kernels = [f"{p.get('internal_api')} {p.get('architecture')}" for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(kernels) or "none found"


def blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        value = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        return int(value) if value and value.isdigit() else None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else None


def faults_per_call(fn, reps: int = 5) -> float:
    """Minor page faults per call: first touches of memory the allocator got fresh from the OS."""
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(reps):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / reps


def median_time(fn, reps: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def lstmlib_case(mod, T, N, D, H, dtype):
    rng = np.random.default_rng(0)
    params = mod.init_params(D, H, rng, dtype=dtype)
    xs = rng.standard_normal((N, T, D)).astype(dtype)
    dhs = rng.standard_normal((N, T, H)).astype(dtype)

    def run():
        hs, _, cache = mod.forward(xs, params)
        mod.backward(dhs, cache, params)

    return run


def gemm_case(mod, T, N, D, H, dtype):
    """The matrix products of one forward+backward, with the shapes lstmlib uses."""
    G = mod.CELL.n_blocks
    rng = np.random.default_rng(1)
    A = lambda *s: rng.standard_normal(s).astype(dtype)  # noqa: E731
    h, W_h, da = A(N, H), A(H, G * H), A(N, G * H)
    X, W_x, DA, HP = A(T * N, D), A(D, G * H), A(T * N, G * H), A(T * N, H)

    def run():
        for _ in range(T):
            h @ W_h  # forward recurrent product
            da @ W_h.T  # dh_prev
        X @ W_x  # input projection of all steps
        DA @ W_x.T  # dxs
        X.T @ DA  # dW_x = Σ_t x_tᵀ da_t
        HP.T @ DA  # dW_h = Σ_t h_{t-1}ᵀ da_t

    return run


def torch_case(torch, name, T, N, D, H, dtype):
    Torch = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[name]
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    torch.manual_seed(0)
    net = Torch(D, H, batch_first=True).to(tdtype)
    x = torch.randn(N, T, D, dtype=tdtype, requires_grad=True)
    g = torch.randn(N, T, H, dtype=tdtype)

    def run():
        out, _ = net(x)
        (out * g).sum().backward()

    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds of (lstmlib, pause, torch, pause, GEMM)")
    ap.add_argument("--seconds", type=float, default=0.3, help="approximate time per measurement block")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: the libraries' own default)")
    ap.add_argument("--native-blas", action="store_true",
                    help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE so that OpenBLAS picks this CPU's own kernels")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    if args.threads is not None:
        env.update({var: str(args.threads) for var in THREAD_VARS})
    if args.native_blas:
        for var in BLAS_PINS:
            env.pop(var, None)
    if env != dict(os.environ):
        # OpenBLAS reads these when NumPy is imported: start this script again with them set
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *(sys.argv[1:] if argv is None else argv)], env)

    torch = None
    if not args.no_torch:
        try:
            import torch  # noqa: F811
        except ImportError:
            print("PyTorch not installed: torch columns empty (pip install -e '.[torch]')")
    threads = blas_threads() or os.cpu_count()
    if torch is not None:
        torch.set_num_threads(threads)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}" + (f", PyTorch {torch.__version__}" if torch else "")
          + f"; BLAS/torch threads: {threads}; BLAS kernel: {blas_kernel()}; "
          + ", ".join(f"{var}={os.environ.get(var, 'unset')}" for var in BLAS_PINS))
    header = "| cell | size | dtype | lstmlib ms | PyTorch ms | lstmlib/PyTorch (target) | GEMM bound ms | lstmlib/GEMM (target) | lstmlib page faults/call |"
    print()
    print(header)
    print("|" + "---|" * 9)
    failures = []
    cases = {}
    for size, dims in SIZES.items():
        for dtype in (np.float64, np.float32):
            for name, mod in CELLS.items():
                case = (lstmlib_case(mod, **dims, dtype=dtype), gemm_case(mod, **dims, dtype=dtype),
                        torch_case(torch, name, **dims, dtype=dtype) if torch else None)
                for fn in filter(None, case):
                    fn()  # every case runs once before any is timed: see "Allocator" in the docstring
                cases[size, dtype, name] = case
    for size, dims in SIZES.items():
        for dtype in (np.float64, np.float32):
            dname = np.dtype(dtype).name
            for name, mod in CELLS.items():
                ours, gemm, theirs = cases[size, dtype, name]
                once = median_time(ours, 3)
                reps = max(3, int(args.seconds / max(once, 1e-6)))
                t_ours, t_torch, t_gemm = [], [], []
                for _ in range(args.rounds):
                    t_ours.append(median_time(ours, reps))
                    time.sleep(0.2)
                    if theirs:
                        t_torch.append(median_time(theirs, reps))
                        time.sleep(0.2)
                    t_gemm.append(median_time(gemm, reps))
                m_ours, m_gemm = statistics.median(t_ours), statistics.median(t_gemm)
                r_gemm = m_ours / m_gemm
                row = f"| {name} | {size} | {dname} | {1e3 * m_ours:.2f} | "
                if theirs:
                    m_torch = statistics.median(t_torch)
                    r_torch = m_ours / m_torch
                    target = TARGET_TORCH[(size, dname)]
                    ok = r_torch <= target
                    row += f"{1e3 * m_torch:.2f} | {r_torch:.2f} (≤ {target}) {'✓' if ok else '✗'} | "
                    if not ok:
                        failures.append(f"{name} {size} {dname} vs PyTorch {r_torch:.2f} > {target}")
                else:
                    row += "– | – | "
                if size == "mid":
                    ok = r_gemm <= TARGET_GEMM
                    row += f"{1e3 * m_gemm:.2f} | {r_gemm:.2f} (≤ {TARGET_GEMM}) {'✓' if ok else '✗'} |"
                    if not ok:
                        failures.append(f"{name} {size} {dname} vs GEMM bound {r_gemm:.2f} > {TARGET_GEMM}")
                else:
                    row += f"{1e3 * m_gemm:.2f} | {r_gemm:.2f} |"
                row += f" {faults_per_call(ours):.0f} |"
                print(row, flush=True)
    print()
    print("targets missed: " + ("; ".join(failures) if failures else "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
