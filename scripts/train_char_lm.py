"""Train lesson 10's syllable-level LSTM language model and write its checkpoint.

    python scripts/train_char_lm.py                 # the full run: see RUN_TIME below
    python scripts/train_char_lm.py --steps 20 --out /tmp/tiny.npz   # a quick check

It trains a 1-layer and a 2-layer LSTM (same hidden size, same data, same number of steps,
same seed) on the poems in ``data/korean_poems.txt`` with truncated BPTT, Adam and global-norm
clipping, keeps each model's weights at its best validation loss (early stopping), and writes
``data/checkpoints/char_lm.npz``: the 2-layer model (float32), the vocabulary, the
hyper-parameters and both runs' loss histories. Lesson 10 loads it with
``lstmlib.checkpoint.load``.

RUN_TIME: 4.4 and 6.0 minutes of wall time, measured in two runs on the course's 2-core machine
while other jobs were sharing its cores; the script prints its own wall time at the end.

Deterministic: every random draw comes from ``np.random.default_rng(seed)`` and BLAS runs on one
thread (set below), so two runs on the same machine write identical arrays (checked: the two runs
above gave the same checkpoint). A different BLAS build or CPU can change the last bits of matrix
products, which long training amplifies: a rerun elsewhere gives a model of the same quality, not
necessarily the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import time
from pathlib import Path

# One BLAS thread, set before NumPy loads: the many small matrix products here run faster without
# thread hand-offs (several times faster on a shared machine), and the summation order is fixed,
# so the notebook's live run reproduces the first steps of this script's run exactly.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

from lstmlib import checkpoint, data, lstm, models, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "korean_poems.txt"
OUT = ROOT / "data" / "checkpoints" / "char_lm.npz"

# The full run. Lesson 10 trains the same recipe live for a few dozen steps only.
CONFIG = {
    "hidden_size": 96,
    "batch_size": 16,
    "seq_len": 48,
    "n_steps": 600,
    "lr": 3e-3,
    "clip": 1.0,
    "seed": 10,
    "eval_every": 20,
}
VAL_EVERY, VAL_OFFSET = 7, 3  # poems 3, 10, 17, 24, 31 are held out for validation


def split_poems(text: str, every: int = VAL_EVERY, offset: int = VAL_OFFSET):
    """Split the corpus (poems separated by two blank lines) into training and validation text.

    Poem k goes to validation if ``k % every == offset``. Returns ``(train_text, val_text,
    val_titles)``; each text keeps the two-blank-line separators, so it reads like the corpus.
    """
    poems = [p.strip("\n") for p in text.split("\n\n\n") if p.strip()]
    if len(poems) <= offset:
        raise ValueError(f"the corpus has {len(poems)} poems; need more than offset={offset}")
    held = [k % every == offset for k in range(len(poems))]
    train_text = "\n\n\n".join(p for p, h in zip(poems, held) if not h) + "\n"
    val_text = "\n\n\n".join(p for p, h in zip(poems, held) if h) + "\n"
    titles = [p.split("\n", 1)[0] for p, h in zip(poems, held) if h]
    return train_text, val_text, titles


def tbptt_fns(cell, batches: list):
    """``(loss_fn, batch_fn, carry)`` for :func:`lstmlib.train.train`, carrying the state across chunks.

    Chunk k+1 continues chunk k (see :func:`lstmlib.data.lm_batches`), so the final states of
    one call become the initial states of the next: the state carries over, while the gradient
    stops at the chunk boundary (``char_lm_loss`` backpropagates through its own chunk only).
    The state is reset to zeros at the start of every pass over the data. ``carry`` holds the
    current states and step.
    """
    carry = {"states": None, "step": 0}

    def batch_fn(step: int):
        carry["step"] = step
        k = (step - 1) % len(batches)
        if k == 0:
            carry["states"] = None  # a new pass: row b starts again at the beginning of its text
        return batches[k]

    def loss_fn(model, batch):
        inputs, targets = batch
        loss, grads, carry["states"] = models.char_lm_loss(cell, model, inputs, targets, carry["states"])
        return loss, grads

    return loss_fn, batch_fn, carry


def train_char_lm(
    train_ids: np.ndarray,
    vocab_size: int,
    *,
    n_layers: int,
    hidden_size: int,
    batch_size: int,
    seq_len: int,
    n_steps: int,
    lr: float,
    clip: float,
    seed: int,
    val_ids: np.ndarray | None = None,
    eval_every: int = 25,
    progress: bool = False,
    desc: str = "train",
):
    """Train a stacked-LSTM language model; return ``(model, history)``.

    With ``val_ids`` the validation cross-entropy is measured every ``eval_every`` steps and the
    returned model is a copy of the weights at the best of those measurements (early stopping);
    ``history["best_step"]`` says which step that was.
    """
    rng = np.random.default_rng(seed)
    model = models.init_char_lm(lstm, vocab_size, hidden_size, n_layers, rng)
    loss_fn, batch_fn, carry = tbptt_fns(lstm, data.lm_batches(train_ids, batch_size, seq_len))
    best = {"loss": np.inf, "model": copy.deepcopy(model), "step": 0}
    eval_fn = None
    if val_ids is not None:

        def eval_fn(params):
            loss = models.char_lm_eval(lstm, params, val_ids)
            if loss < best["loss"]:
                best.update(loss=loss, model=copy.deepcopy(params), step=carry["step"])
            return loss

    history = train.train(
        model, loss_fn, batch_fn, n_steps, lr, clip=clip, eval_fn=eval_fn, eval_every=eval_every,
        progress=progress, desc=desc,
    )
    if val_ids is None:
        return model, history
    history["best_step"] = best["step"]
    history["best_val"] = best["loss"]
    return best["model"], history


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=CONFIG["n_steps"], help="training steps per model")
    ap.add_argument("--out", type=Path, default=OUT, help="checkpoint path (.npz)")
    args = ap.parse_args(argv)
    cfg = dict(CONFIG, n_steps=args.steps)

    start = time.perf_counter()
    text = data.load_text(CORPUS)
    vocab = data.build_vocab(text)
    train_text, val_text, val_titles = split_poems(text)
    train_ids, val_ids = data.encode(train_text, vocab), data.encode(val_text, vocab)
    print(f"corpus: {len(text)} characters, {vocab.size} distinct; train {train_ids.size}, validation {val_ids.size} ({', '.join(val_titles)})")

    runs = {}
    for n_layers in (1, 2):
        model, hist = train_char_lm(
            train_ids, vocab.size, n_layers=n_layers, val_ids=val_ids, progress=True, desc=f"{n_layers} layer(s)",
            **{k: cfg[k] for k in ("hidden_size", "batch_size", "seq_len", "n_steps", "lr", "clip", "seed", "eval_every")},
        )
        runs[n_layers] = (model, hist)
        print(f"{n_layers} layer(s): best validation cross-entropy {hist['best_val']:.3f} nats "
              f"(perplexity {np.exp(hist['best_val']):.1f}) at step {hist['best_step']}")

    arrays = {}
    for n_layers, (_, hist) in runs.items():
        arrays[f"L{n_layers}/train_loss"] = np.asarray(hist["loss"])
        arrays[f"L{n_layers}/grad_norm"] = np.asarray(hist["grad_norm"])
        arrays[f"L{n_layers}/eval_step"] = np.asarray(hist["eval_step"], dtype=np.int64)
        arrays[f"L{n_layers}/val_loss"] = np.asarray(hist["eval"])
    meta = {
        "cell": "lstm",
        "n_layers": 2,
        **cfg,
        "corpus": "data/korean_poems.txt",
        "corpus_sha256": hashlib.sha256(CORPUS.read_bytes()).hexdigest(),
        "val_every": VAL_EVERY,
        "val_offset": VAL_OFFSET,
        "val_titles": val_titles,
        "best_step": {str(k): int(h["best_step"]) for k, (_, h) in runs.items()},
        "best_val": {str(k): float(h["best_val"]) for k, (_, h) in runs.items()},
        "script": "scripts/train_char_lm.py",
    }
    path = checkpoint.save(args.out, runs[2][0], vocab=vocab, meta=meta, arrays=arrays, dtype=np.float32)
    elapsed = time.perf_counter() - start
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
