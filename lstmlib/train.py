"""A small training loop with a progress bar that returns the loss history.

The bar is ``tqdm.auto`` (a widget in Jupyter, text elsewhere) with a format that shows no
rate and no elapsed time, so a notebook's stored output stays the same on every run.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from .optim import adam_init, adam_step, clip_grad_norm, global_norm, sgd_step

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}"


def train(
    params,
    loss_fn: Callable,
    batch_fn: Callable,
    n_steps: int,
    lr: float,
    *,
    optimizer: str = "adam",
    clip: float | None = None,
    eval_fn: Callable | None = None,
    eval_every: int = 100,
    stop_fn: Callable | None = None,
    progress: bool = True,
    desc: str = "train",
    nonfinite: str = "raise",
) -> dict:
    """Train ``params`` in place for up to ``n_steps`` steps.

    * ``loss_fn(params, batch) -> (loss, grads)`` with grads shaped like params;
    * ``batch_fn(step) -> batch`` (deterministic: draw from an rng you created);
    * ``clip``: global-norm clipping threshold (None: no clipping);
    * ``eval_fn(params) -> float`` runs every ``eval_every`` steps and after the last step;
    * ``stop_fn(history) -> bool`` is asked after each evaluation; True stops training;
    * ``nonfinite``: what a NaN/inf loss does — ``"raise"`` (FloatingPointError) or ``"stop"``
      (record it, set ``history["diverged"] = step`` and stop: for showing an explosion).

    Returns ``{"loss": [...], "grad_norm": [...] (before clipping), "eval_step": [...],
    "eval": [...], "steps": n, "diverged": None or the step}``.
    """
    if nonfinite not in ("raise", "stop"):
        raise ValueError(f"nonfinite must be 'raise' or 'stop', got {nonfinite!r}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    state = adam_init(params) if optimizer == "adam" else None
    history = {"loss": [], "grad_norm": [], "eval_step": [], "eval": [], "steps": 0, "diverged": None}
    bar = tqdm(total=n_steps, desc=desc, bar_format=BAR_FORMAT, disable=not progress)
    try:
        for step in range(1, n_steps + 1):
            with np.errstate(over="ignore", invalid="ignore"):
                loss, grads = loss_fn(params, batch_fn(step))
                norm = global_norm(grads)
            if not (np.isfinite(loss) and np.isfinite(norm)):
                if nonfinite == "raise":
                    raise FloatingPointError(f"loss or gradient became non-finite at step {step}; lower lr or clip gradients")
                history["loss"].append(float(loss))
                history["grad_norm"].append(norm)
                history["steps"] = history["diverged"] = step
                break
            if clip is not None:
                clip_grad_norm(grads, clip)
            if optimizer == "adam":
                adam_step(params, grads, state, lr)
            else:
                sgd_step(params, grads, lr)
            history["loss"].append(float(loss))
            history["grad_norm"].append(norm)
            history["steps"] = step
            bar.update(1)
            if eval_fn is not None and (step % eval_every == 0 or step == n_steps):
                history["eval_step"].append(step)
                history["eval"].append(float(eval_fn(params)))
                if stop_fn is not None and stop_fn(history):
                    break
    finally:
        bar.close()
    return history
