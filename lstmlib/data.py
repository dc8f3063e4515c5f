"""Deterministic data for the lessons: characters, the adding problem and a copy task.

Every generator takes an ``rng`` (``np.random.default_rng(seed)``): the same seed gives the
same data on every machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _validate as V
from .recurrent import check_rng

# ---------------------------------------------------------------------------------- characters


class Vocab(NamedTuple):
    """A character vocabulary: ``chars[i]`` is the character with id ``i``."""

    chars: tuple

    @property
    def size(self) -> int:
        return len(self.chars)

    def index(self) -> dict:
        return {ch: i for i, ch in enumerate(self.chars)}


def build_vocab(text: str, order: str | None = None) -> Vocab:
    """Vocabulary of the distinct characters of ``text``.

    ``order=None`` sorts them by code point (Hangul syllables sort in 가나다 order); pass
    ``order="hello"``-style strings to fix the order yourself (every character of ``text`` must
    appear in it exactly once).
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty str")
    if order is None:
        return Vocab(tuple(sorted(set(text))))
    if len(set(order)) != len(order):
        raise ValueError(f"order must not repeat characters, got {order!r}")
    missing = sorted(set(text) - set(order))
    if missing:
        raise ValueError(f"order must contain every character of text; missing {missing}")
    return Vocab(tuple(order))


def encode(text: str, vocab: Vocab) -> np.ndarray:
    """Ids (int64) of the characters of ``text``."""
    idx = vocab.index()
    unknown = sorted(set(text) - set(idx))
    if unknown:
        raise ValueError(f"text has characters not in the vocabulary: {unknown}")
    return np.array([idx[ch] for ch in text], dtype=np.int64)


def decode(ids, vocab: Vocab) -> str:
    """The string for a 1-D sequence of ids."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"ids must be a 1-D integer sequence, got shape {V._fmt(ids.shape)} dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab.size):
        raise ValueError(f"ids must lie in [0, {vocab.size - 1}]")
    return "".join(vocab.chars[i] for i in ids)


def one_hot(ids: np.ndarray, size: int, dtype=np.float64) -> np.ndarray:
    """One-hot vectors: ``ids`` (...) ints in [0, size) -> (..., size) of ``dtype``."""
    if not isinstance(ids, np.ndarray) or not np.issubdtype(ids.dtype, np.integer):
        got = ids.dtype if isinstance(ids, np.ndarray) else type(ids).__name__
        raise TypeError(f"ids must be an integer ndarray, got {got}")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"ids must lie in [0, {size - 1}], got values from {ids.min()} to {ids.max()}")
    out = np.zeros(ids.shape + (size,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def find_course_file(relative: str, start=None) -> Path:
    """Find ``relative`` (e.g. ``"data/korean_poems.txt"``) in ``start`` or its nearest parent.

    Lessons run in ``notebooks/`` and their exercise copies in ``notebooks/exercises/``; looking
    upward from the working folder finds the repository's ``data/`` from both. A notebook run
    elsewhere (e.g. in the grader's sandbox folder) falls back to the repository that holds this
    package (an editable install, as ``course.py setup`` makes).
    """
    here = Path.cwd() if start is None else Path(start)
    repository = Path(__file__).resolve().parent.parent
    for folder in (here, *here.resolve().parents, repository):
        candidate = folder / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{relative} not found in {here} or any folder above it, nor in {repository}")


def load_text(path) -> str:
    """Read a UTF-8 text file (e.g. ``data/*.txt``) with newlines normalised to ``\\n``."""
    return Path(path).read_text(encoding="utf-8").replace("\r\n", "\n")


def lm_batches(ids: np.ndarray, batch_size: int, seq_len: int):
    """Split a 1-D id stream into ``batch_size`` parallel rows and cut them into chunks.

    Returns a list of ``(inputs, targets)`` pairs, each (batch_size, seq_len), where targets are
    inputs shifted by one character. Row n of chunk k+1 continues row n of chunk k, so the final
    state of one chunk is the right initial state of the next (truncated BPTT).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got shape {V._fmt(ids.shape)}")
    row_len = (ids.size - 1) // batch_size
    n_chunks = row_len // seq_len
    if n_chunks < 1:
        raise ValueError(f"ids ({ids.size} characters) are too short for batch_size={batch_size}, seq_len={seq_len}")
    x = ids[: batch_size * row_len].reshape(batch_size, row_len)  # (N, row_len): N = batch_size rows
    y = ids[1 : batch_size * row_len + 1].reshape(batch_size, row_len)
    return [(x[:, k * seq_len : (k + 1) * seq_len], y[:, k * seq_len : (k + 1) * seq_len]) for k in range(n_chunks)]


# ------------------------------------------------------------------------------ the adding problem


def adding_problem(n: int, T: int, rng, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem in the form of Le, Jaitly & Hinton (2015).

    Each of the ``n`` sequences has ``T`` steps of 2 features: a value ~ U[0, 1] and a marker
    that is 1 at exactly two positions — one drawn uniformly from the first half, one from the
    second half — and 0 elsewhere. The target is the sum of the two marked values.

    Returns ``xs`` (n, T, 2) and ``y`` (n, 1). Predicting the constant 1 (the mean of the target)
    gives MSE = Var(U₁ + U₂) = 2/12 = 1/6 ≈ 0.167: a model must beat that to have learnt anything.
    """
    rng = check_rng(rng)
    if T < 2:
        raise ValueError(f"T must be at least 2 (two markers), got {T}")
    values = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((n, T))
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    xs = np.stack([values, markers], axis=-1).astype(dtype)  # (n, T, 2)
    y = (values[np.arange(n), first] + values[np.arange(n), second])[:, None].astype(dtype)  # (n, 1)
    return xs, y


ADDING_BASELINE_MSE = 1.0 / 6.0


# ---------------------------------------------------------------------------------- copy task


def copy_task(n: int, n_symbols: int, length: int, delay: int, rng, dtype=np.float64):
    """A copy/recall task: remember ``length`` symbols through ``delay`` blank steps.

    Inputs have ``n_symbols + 2`` one-hot channels: the symbols 0..n_symbols−1, a blank
    (``n_symbols``) and a "recall now" cue (``n_symbols + 1``). A sequence is the ``length``
    symbols, ``delay`` blanks, the cue, then ``length − 1`` more blanks; the model must output
    the symbols, in order, at the last ``length`` steps (blank before that).

    Returns ``xs`` (n, T, n_symbols + 2), ``targets`` (n, T) ids in [0, n_symbols] and a
    boolean ``mask`` (n, T) of the steps that are scored (the recall steps). T = 2·length + delay.
    Guessing uniformly scores an accuracy of 1/n_symbols on the recall steps.
    """
    rng = check_rng(rng)
    if n_symbols < 2 or length < 1 or delay < 0:
        raise ValueError(f"need n_symbols >= 2, length >= 1, delay >= 0; got {n_symbols}, {length}, {delay}")
    blank, cue = n_symbols, n_symbols + 1
    T = 2 * length + delay
    symbols = rng.integers(0, n_symbols, size=(n, length))
    inputs = np.full((n, T), blank, dtype=np.int64)
    inputs[:, :length] = symbols
    inputs[:, length + delay] = cue
    targets = np.full((n, T), blank, dtype=np.int64)
    targets[:, T - length :] = symbols
    mask = np.zeros((n, T), dtype=bool)
    mask[:, T - length :] = True
    return one_hot(inputs, n_symbols + 2, dtype=dtype), targets, mask
