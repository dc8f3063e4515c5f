"""A small training loop with a progress bar that returns the loss history.

The progress bar never leaves an unfinished state in a saved notebook:

* in a Jupyter kernel it is an ipywidgets bar (live in JupyterLab, throttled to ~10 updates a
  second) whose stored ``text/plain`` is the fixed line ``"<desc>: 학습 최대 N단계"``; when
  training ends one line is printed, ``"<desc>: 학습 N/N단계 완료"`` (or that it stopped
  early / diverged, without the step: that step can differ between BLAS builds). So GitHub,
  static slides and strict nbval all see the same stable, finished text and never "0%".
* elsewhere (terminal, pytest) it is a plain ``tqdm`` bar on stderr with :data:`BAR_FORMAT`,
  which shows no rate and no elapsed time.
"""

from __future__ import annotations

from typing import Callable

import sys
import time

import numpy as np
from tqdm import tqdm

from .optim import adam_init, adam_step, clip_grad_norm, global_norm, sgd_step

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}"


def start_text(desc: str, total: int) -> str:
    """The stored text of a notebook progress bar before training: ``"<desc>: 학습 최대 N단계"``."""
    return f"{desc}: 학습 최대 {total}단계"


def finish_text(desc: str, steps: int, total: int, *, stopped: bool = False, diverged: bool = False) -> str:
    """The line printed when training ends. Early stops don't print the step (it can differ
    between BLAS builds; print it from ``history`` where it is stable)."""
    if diverged:
        return f"{desc}: 손실이나 기울기가 발산해 학습을 멈춤 (최대 {total}단계)"
    if stopped and steps < total:
        return f"{desc}: 멈춤 조건을 만족해 {total}단계 전에 학습을 멈춤"
    return f"{desc}: 학습 {steps}/{total}단계 완료"


def _in_jupyter_kernel() -> bool:
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:  # pragma: no cover - defensive
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _NotebookBar:
    """An ipywidgets progress bar whose saved text is stable; see the module docstring."""

    def __init__(self, total: int, desc: str, min_interval: float = 0.1):
        import ipywidgets as W
        from IPython.display import display

        text = start_text(desc, total)

        class _Box(W.HBox):
            def __repr__(self) -> str:  # the text/plain stored in the notebook
                return text

        self.total, self.desc, self.n = total, desc, 0
        self.min_interval, self._last = min_interval, 0.0
        self.progress = W.IntProgress(value=0, min=0, max=total, layout=W.Layout(width="320px"))
        self.label = W.Label(f"0/{total}")
        self.box = _Box([W.Label(f"{desc}:"), self.progress, self.label])
        display(self.box)

    def _sync(self) -> None:
        self.progress.value = self.n
        self.label.value = f"{self.n}/{self.total}"
        self._last = time.monotonic()

    def update(self, k: int = 1) -> None:
        self.n += k
        if time.monotonic() - self._last >= self.min_interval:
            self._sync()

    def finish(self, *, stopped: bool = False, diverged: bool = False) -> None:
        self._sync()
        self.progress.bar_style = "danger" if diverged else "success"
        print(finish_text(self.desc, self.n, self.total, stopped=stopped, diverged=diverged), flush=True)

    def close(self) -> None:
        self._sync()
        if self.n < self.total and not self.progress.bar_style:
            self.progress.bar_style = "danger"  # an exception ended training


class _TextBar:
    """Plain tqdm on stderr (terminal and tests): no rate, no elapsed time."""

    def __init__(self, total: int, desc: str):
        self._bar = tqdm(total=total, desc=desc, bar_format=BAR_FORMAT, file=sys.stderr)

    def update(self, k: int = 1) -> None:
        self._bar.update(k)

    def finish(self, *, stopped: bool = False, diverged: bool = False) -> None:
        pass

    def close(self) -> None:
        self._bar.close()


class _NoBar:
    def update(self, k: int = 1) -> None:
        pass

    def finish(self, *, stopped: bool = False, diverged: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, *, enabled: bool = True):
    """The bar :func:`train` uses: ``update(k)``, ``finish(stopped=, diverged=)``, ``close()``.

    A notebook widget bar inside a Jupyter kernel, a plain tqdm bar elsewhere, nothing when
    ``enabled`` is False."""
    if not enabled:
        return _NoBar()
    if _in_jupyter_kernel():
        try:
            return _NotebookBar(total, desc)
        except ImportError:  # pragma: no cover - ipywidgets is a dependency
            pass
    return _TextBar(total, desc)


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
    bar = progress_bar(int(n_steps), desc, enabled=progress)
    stopped = False
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
                bar.update(1)
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
                    stopped = True
                    break
        bar.finish(stopped=stopped, diverged=history["diverged"] is not None)
    finally:
        bar.close()
    return history
