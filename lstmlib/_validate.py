"""Input checks shared by every public function.

Each check raises a ``TypeError`` (wrong kind or dtype) or ``ValueError`` (wrong shape, keys or
values) whose message names the argument and gives the expected versus the actual shape or dtype,
so a learner never has to read a NumPy broadcast traceback from deep inside a cell.
Nothing is coerced: an int array, a float16 array or a list is rejected, not converted.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def check_float_array(name: str, a, *, finite: bool = True) -> np.ndarray:
    """Return ``a`` unchanged if it is a float32/float64 ndarray (and finite); raise otherwise."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got dtype {a.dtype}")
    if finite and not np.isfinite(a).all():
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name} contains {bad} NaN or inf value(s); inputs must be finite")
    return a


def check_shape(name: str, a: np.ndarray, expected: tuple, labels: str) -> None:
    """Check ``a.shape`` against ``expected`` (ints, or None for 'any').

    ``labels`` names the axes, e.g. ``"N, T, D"``; the message shows both, e.g.
    ``xs must have shape (N, T, D) = (2, 3, 4), got (2, 3, 5)``.
    """
    ok = a.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, a.shape))
    if not ok:
        want = "(" + ", ".join("?" if e is None else str(e) for e in expected) + ")"
        if len(expected) == 1:
            want = want[:-1] + ",)"
        raise ValueError(f"{name} must have shape ({labels}) = {want}, got {_fmt(a.shape)}")


def check_same_dtype(name: str, a: np.ndarray, ref_name: str, dtype: np.dtype) -> None:
    if a.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {a.dtype} but {ref_name} has dtype {dtype}; "
            "convert explicitly (lstmlib never mixes float32 and float64)"
        )
