"""Train many-to-one regressors on the adding problem with early stopping: the RNN/LSTM/GRU showdown.

Lessons 08 and 09 (and ``tests/test_showdown*.py``) pit cells against each other on
:func:`lstmlib.data.adding_problem`. To make such a comparison fair, every cell must see the
*same* data under the *same* budget. :func:`adding_run` guarantees that: from one ``seed`` it
derives three independent random streams (``np.random.SeedSequence(seed).spawn(3)``):

* ``init``   — the model's initial weights (this stream alone depends on the cell),
* ``train``  — a fresh training batch at every step (identical for every cell with that seed),
* ``test``   — one fixed test set (identical for every cell with that seed).

Training is :func:`lstmlib.train.train` (Adam, global-norm clipping) with the test MSE evaluated
every ``eval_every`` steps; it stops early as soon as the test MSE falls below ``threshold``.
The result records the step at which that happened (``solved_step``, None if never), so
"steps to solve" is measured at a resolution of ``eval_every`` steps. A :class:`Run` from
:func:`adding_run` also carries its ``label`` (the cell's name unless given, e.g.
``"GRU(G3b)"`` for a ``reset_after=False`` GRU), ``seed``, parameter count ``n_params`` and the
wall time ``seconds`` of its training; :func:`summarize` turns a list of runs into a table with
one row per label.

Example::

    from lstmlib import gru, lstm, rnn, showdown
    runs = [showdown.adding_run(cell, T=30, hidden_size=16, seed=s, n_steps=1000, progress=False)
            for cell in (rnn, lstm, gru) for s in (0, 1, 2)]
    showdown.summarize(runs)["gru"]["steps"]  # (min, median, max) steps to test MSE < 0.01

Wall times depend on the machine and its load: compare them as ratios measured in the same
session, and never print them in a notebook's checked output.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from . import data, models
from .analysis import count_params
from .train import train


class Run(NamedTuple):
    """The outcome of one training run (see :func:`fit_regressor` and :func:`adding_run`).

    The last three fields are filled in by :func:`adding_run`; a bare :func:`fit_regressor`
    leaves their defaults (use ``run._replace(label=...)`` before :func:`summarize`).
    """

    model: dict  # the trained model {"cell": params, "W_y", "b_y"}
    history: dict  # what lstmlib.train.train returned (loss, grad_norm, eval_step, eval, steps, ...)
    test_mse: float  # test MSE after the last step trained
    solved_step: int | None  # first evaluated step with test MSE < threshold (None: never)
    steps: int  # steps actually trained (≤ n_steps; fewer when it stopped early)
    label: str = ""  # what summarize() groups by: the cell's name ("lstm") or adding_run's label
    seed: int | None = None  # adding_run's seed (init, train and test streams)
    seconds: float | None = None  # wall time of the training (machine- and load-dependent)

    @property
    def n_params(self) -> int:
        """Number of trained scalars: cell + read-out (``analysis.count_params(model)``)."""
        return count_params(self.model)


def regressor_mse(cell, model: dict, xs: np.ndarray, y: np.ndarray, chunk: int = 64) -> float:
    """Mean squared error of :func:`lstmlib.models.regressor_predict` on ``xs`` (N, T, D) against ``y`` (N, O).

    The sequences are run ``chunk`` at a time. The result is the same as in one batch; small
    matrix products stay below the size at which OpenBLAS splits them over threads, which on a
    busy two-core machine makes evaluation several times faster.
    """
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    sq_err = 0.0
    for start in range(0, len(xs), chunk):
        pred = models.regressor_predict(cell, model, xs[start : start + chunk])  # (chunk, O)
        sq_err += float(np.sum((pred.astype(np.float64) - y[start : start + chunk]) ** 2))
    return sq_err / y.size


def fit_regressor(
    cell,
    model: dict,
    batch_fn,
    test: tuple,
    *,
    n_steps: int,
    lr: float,
    clip: float | None = 1.0,
    threshold: float | None = 0.01,
    eval_every: int = 50,
    progress: bool = True,
    desc: str = "train",
) -> Run:
    """Train ``model`` (from :func:`lstmlib.models.init_regressor`) in place with Adam.

    ``batch_fn(step) -> (xs, y)`` gives the training batch of each step; ``test = (xs, y)`` is
    evaluated every ``eval_every`` steps (and after the last). Training stops at the first
    evaluation whose test MSE is below ``threshold`` (None: never stop early).
    """
    if threshold is not None and not threshold > 0:
        raise ValueError(f"threshold must be positive or None, got {threshold!r}")
    xs_test, y_test = test

    def loss_fn(params, batch):
        return models.regressor_loss(cell, params, *batch)

    def eval_fn(params):
        return regressor_mse(cell, params, xs_test, y_test)

    def stop_fn(history):
        return threshold is not None and history["eval"][-1] < threshold

    history = train(
        model, loss_fn, batch_fn, n_steps, lr, clip=clip, eval_fn=eval_fn, eval_every=eval_every,
        stop_fn=stop_fn, progress=progress, desc=desc,
    )
    solved = None
    if threshold is not None:
        solved = next((s for s, e in zip(history["eval_step"], history["eval"]) if e < threshold), None)
    return Run(model, history, history["eval"][-1], solved, history["steps"])


def adding_task(T: int, seed: int, *, batch_size: int = 64, n_test: int = 512, dtype=np.float32):
    """The data half of :func:`adding_run`: ``(batch_fn, (xs_test, y_test))`` for ``seed``.

    ``batch_fn(step)`` draws a fresh batch ``(xs (batch_size, T, 2), y (batch_size, 1))`` from the
    seed's ``train`` stream at every call (a new closure restarts the stream); the test set
    ``(n_test, T, 2)``, ``(n_test, 1)`` comes from the ``test`` stream. Neither depends on the cell.
    """
    _, train_ss, test_ss = np.random.SeedSequence(seed).spawn(3)
    test = data.adding_problem(n_test, T, np.random.default_rng(test_ss), dtype=dtype)
    batch_rng = np.random.default_rng(train_ss)

    def batch_fn(step):
        return data.adding_problem(batch_size, T, batch_rng, dtype=dtype)

    return batch_fn, test


def init_model(cell, hidden_size: int, seed: int, *, dtype=np.float32, **cell_kwargs) -> dict:
    """The untrained regressor :func:`adding_run` starts from for ``seed`` (its ``init`` stream).

    A fresh copy every call: compare a trained ``Run.model`` with where it started.
    """
    init_ss = np.random.SeedSequence(seed).spawn(3)[0]
    return models.init_regressor(cell, 2, hidden_size, 1, np.random.default_rng(init_ss), dtype=dtype, **cell_kwargs)


def adding_run(
    cell,
    T: int,
    hidden_size: int,
    seed: int,
    n_steps: int,
    *,
    lr: float = 1e-2,
    batch_size: int = 64,
    n_test: int = 512,
    clip: float | None = 1.0,
    threshold: float | None = 0.01,
    eval_every: int = 50,
    dtype=np.float32,
    progress: bool = True,
    desc: str | None = None,
    label: str | None = None,
    **cell_kwargs,
) -> Run:
    """Train a fresh ``cell`` regressor on the adding problem of length ``T`` (see module docstring).

    Same ``seed`` ⇒ same training batches and same test set (:func:`adding_task`) for every
    cell, so two calls that differ only in ``cell`` (or in ``cell_kwargs`` such as
    ``forget_bias`` or ``reset_after``) are a controlled comparison. ``dtype=float32`` is about
    twice as fast as float64 and enough for training (never for gradient checks). ``label``
    names the run in :func:`summarize` (default: the cell's name, e.g. ``"gru"``; give runs
    with other ``cell_kwargs`` their own label); ``desc`` names the progress bar (default:
    ``"<label> T=<T>"``). Returns a :class:`Run`; the constant predictor 1 scores
    ``data.ADDING_BASELINE_MSE`` = 1/6 in expectation.
    """
    label = cell.CELL.name if label is None else label
    model = init_model(cell, hidden_size, seed, dtype=dtype, **cell_kwargs)
    batch_fn, test = adding_task(T, seed, batch_size=batch_size, n_test=n_test, dtype=dtype)
    start = time.perf_counter()
    run = fit_regressor(
        cell, model, batch_fn, test, n_steps=n_steps, lr=lr, clip=clip, threshold=threshold,
        eval_every=eval_every, progress=progress, desc=desc if desc is not None else f"{label} T={T}",
    )
    return run._replace(label=label, seed=seed, seconds=time.perf_counter() - start)


def summarize(runs) -> dict:
    """One row per label, in order of first appearance: ``{label: {"n_params", "runs", "solved",
    "steps", "test_mse", "sec_per_step"}}``.

    ``solved`` counts the runs that reached their threshold; ``steps`` is (min, median, max) of
    their ``solved_step`` (None if no run solved); ``test_mse`` is (min, median, max) of the final
    test MSE over all runs; ``sec_per_step`` is the median of ``seconds / steps`` (None if a run
    has no wall time). Runs that share a label must have the same number of parameters (a
    ``reset_after=False`` GRU needs a label of its own).
    """
    groups: dict = {}
    for run in runs:
        groups.setdefault(run.label, []).append(run)
    table = {}
    for label, group in groups.items():
        sizes = sorted({r.n_params for r in group})
        if len(sizes) > 1:
            raise ValueError(f"runs labelled {label!r} have different parameter counts {sizes}: give each model its own label")
        steps = [r.solved_step for r in group if r.solved_step is not None]
        mse = [r.test_mse for r in group]
        timed = all(r.seconds is not None for r in group)
        table[label] = {
            "n_params": sizes[0],
            "runs": len(group),
            "solved": len(steps),
            "steps": (min(steps), float(np.median(steps)), max(steps)) if steps else None,
            "test_mse": (min(mse), float(np.median(mse)), max(mse)),
            "sec_per_step": float(np.median([r.seconds / r.steps for r in group])) if timed else None,
        }
    return table
