"""Race recurrent cells on the adding problem, with early stopping, and summarise the races.

One *run* trains a many-to-one regressor (:func:`lstmlib.models.init_regressor`) built on one
cell for one seed, and stops as soon as the test MSE drops below ``threshold`` (checked every
``eval_every`` steps) or after ``n_steps``. Runs with the same ``seed`` see the same training
batches, whatever the cell, and every run is scored on the same test set (``test_seed``), so a
comparison between cells is fair::

    runs = [compare.adding_run(cell, T=50, hidden_size=16, seed=s, n_steps=1200, lr=0.01)
            for cell in (rnn, lstm, gru) for s in (0, 1, 2)]
    compare.summarize(runs)["gru"]["steps"]  # (min, median, max) steps to the threshold

Wall times (``Run.seconds``) depend on the machine and its load: compare them as ratios measured
in the same session, and never print them in a notebook's checked output.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from . import data, models, train
from .analysis import count_params


class Run(NamedTuple):
    """The result of one :func:`adding_run`."""

    label: str  # e.g. "lstm", or the label passed in ("gru (reset_after=False)")
    seed: int
    n_params: int  # cell + read-out
    history: dict  # from lstmlib.train.train: "loss", "eval_step", "eval", "steps", ...
    solved_at: int | None  # first evaluated step with test MSE < threshold (None: not reached)
    final_mse: float  # test MSE at the last evaluation
    seconds: float  # wall time of the training (machine-dependent)
    model: dict  # the trained regressor {"cell": params, "W_y", "b_y"} (for plots of its gates)


def solved_at(history: dict, threshold: float) -> int | None:
    """The first step in ``history["eval_step"]`` whose ``history["eval"]`` is below ``threshold``."""
    for step, value in zip(history["eval_step"], history["eval"]):
        if value < threshold:
            return int(step)
    return None


def adding_run(
    cell,
    *,
    T: int,
    hidden_size: int,
    seed: int,
    n_steps: int,
    lr: float,
    batch_size: int = 32,
    threshold: float = 0.01,
    eval_every: int = 25,
    n_test: int = 500,
    test_seed: int = 2015,
    clip: float | None = 1.0,
    dtype=np.float32,
    label: str | None = None,
    progress: bool = False,
    **cell_kwargs,
) -> Run:
    """Train ``cell`` (``lstmlib.rnn``, ``lstm`` or ``gru``) on the adding problem of length ``T``.

    Adam with learning rate ``lr`` and global-norm clipping ``clip``; ``batch_size`` fresh
    sequences per step; the test MSE on ``n_test`` fixed sequences is measured every
    ``eval_every`` steps and training stops once it is below ``threshold``. ``seed`` fixes the
    initial weights and the stream of training batches; ``cell_kwargs`` go to
    ``cell.init_params`` (e.g. ``reset_after=False`` for the GRU).
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    init_seq, data_seq = np.random.SeedSequence(seed).spawn(2)
    init_rng, data_rng = np.random.default_rng(init_seq), np.random.default_rng(data_seq)
    model = models.init_regressor(cell, 2, hidden_size, 1, init_rng, dtype=dtype, **cell_kwargs)
    xs_test, y_test = data.adding_problem(n_test, T, np.random.default_rng(test_seed), dtype=dtype)

    def loss_fn(params, batch):
        return models.regressor_loss(cell, params, *batch)

    def batch_fn(step):
        return data.adding_problem(batch_size, T, data_rng, dtype=dtype)

    def eval_fn(params):
        pred = models.regressor_predict(cell, params, xs_test)  # (n_test, 1)
        return float(np.mean((pred - y_test) ** 2))

    label = cell.CELL.name if label is None else label
    start = time.perf_counter()
    history = train.train(
        model, loss_fn, batch_fn, n_steps, lr, clip=clip, eval_fn=eval_fn, eval_every=eval_every,
        stop_fn=lambda h: h["eval"][-1] < threshold, progress=progress, desc=f"{label} seed {seed}",
    )
    seconds = time.perf_counter() - start
    return Run(label, seed, count_params(model), history, solved_at(history, threshold), history["eval"][-1], seconds, model)


def summarize(runs) -> dict:
    """Per label, in order of first appearance: ``{"n_params", "runs", "solved", "steps",
    "final_mse", "sec_per_step"}``.

    ``solved`` counts the runs that reached the threshold; ``steps`` is (min, median, max) of
    their ``solved_at`` (None if no run solved); ``final_mse`` is (min, median, max) over all
    runs; ``sec_per_step`` is the median wall time per training step (machine-dependent).
    """
    out: dict = {}
    for run in runs:
        out.setdefault(run.label, []).append(run)
    table = {}
    for label, group in out.items():
        steps = [r.solved_at for r in group if r.solved_at is not None]
        mse = [r.final_mse for r in group]
        table[label] = {
            "n_params": group[0].n_params,
            "runs": len(group),
            "solved": len(steps),
            "steps": (min(steps), float(np.median(steps)), max(steps)) if steps else None,
            "final_mse": (min(mse), float(np.median(mse)), max(mse)),
            "sec_per_step": float(np.median([r.seconds / r.history["steps"] for r in group])),
        }
    return table
