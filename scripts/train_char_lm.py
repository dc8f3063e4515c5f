"""Train lesson 10's language models over several seeds and write their checkpoints.

    python scripts/train_char_lm.py                     # everything: see RUN_TIME below
    python scripts/train_char_lm.py --steps 20 --seeds 0 --out-dir /tmp/ck   # a quick check

Two tokenisations of the poems in ``data/korean_poems.txt`` at the same parameter budget
(about 145,000 parameters):

* ``syl``: one symbol per character (Hangul syllable, space, punctuation), 1 LSTM layer, H = 51;
* ``jamo``: each syllable written as its 초성/중성/종성 (``lstmlib.hangul.decompose``), with
  1 and 2 LSTM layers whose hidden sizes (150, 96) keep the parameter count matched.

Every model is trained with the same recipe (truncated BPTT over chunks of the same amount of
text, Adam, global-norm clipping, dropout on every layer's output) for the same number of
steps, once per seed. Each run keeps its weights at its best validation loss. The validation
measure is comparable across tokenisations: the total negative log-likelihood of the held-out
poems (after a leading newline) in bits, divided by their number of characters (bits per
character; for a Hangul syllable, bits per syllable).

Writes ``char_lm.npz`` (the best jamo run, float32), ``char_lm_syllable.npz`` (the best
syllable run), both with the vocabulary, hyper-parameters, every run's loss histories and
results, and, for each, samples at several temperatures with their measured word shares
(training-corpus words and, where Debian's ``hunspell-ko`` is installed, Hunspell's ko_KR
dictionary). Lesson 10 loads them with ``lstmlib.checkpoint.load``.

RUN_TIME: the shipped run took about 50 minutes of wall time with three worker processes on the
course's 2-core machine while it was shared by seven other sessions (see data/README.md); on an
idle machine a jamo step takes about 0.2 s, so the nine runs of 600 steps need roughly 20 minutes
of CPU time. The script prints its wall time at the end.

Deterministic: every random draw (initialisation, dropout masks, samples) comes from
``np.random.default_rng`` with fixed seeds and BLAS runs on one thread per process (set below),
so a rerun on the same machine writes identical arrays. Another BLAS build or CPU can change the
last bits of matrix products, which long training amplifies: a rerun elsewhere gives models of
the same quality, not necessarily the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# One BLAS thread, set before NumPy loads: the many small matrix products here run faster without
# thread hand-offs, and the summation order is fixed, so the notebook's live run reproduces the
# first steps of this script's run exactly.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

from lstmlib import checkpoint, data, hangul, lstm, models, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "korean_poems.txt"
OUT_DIR = ROOT / "data" / "checkpoints"

# Shared by every run. seq_len is in symbols: 48 syllables ≈ 107 jamo of this corpus, so a jamo
# chunk of 96 covers about the same text as a syllable chunk of 48 (same text per step).
RECIPE = {"batch_size": 16, "n_steps": 600, "lr": 3e-3, "clip": 1.0, "dropout": 0.3, "eval_every": 20}
MODELS = {  # name: tokenisation, layers, hidden size, chunk length; about 145,000 parameters each
    "syl_1": {"tokens": "syl", "n_layers": 1, "hidden_size": 51, "seq_len": 48},
    "jamo_1": {"tokens": "jamo", "n_layers": 1, "hidden_size": 150, "seq_len": 96},
    "jamo_2": {"tokens": "jamo", "n_layers": 2, "hidden_size": 96, "seq_len": 96},
}
SEEDS = (0, 1, 2)
VAL_EVERY, VAL_OFFSET = 7, 3  # poems 3, 10, 17, 24, 31 are held out for validation
TEMPERATURES = (0.4, 0.6, 0.8, 1.0, 1.2)
SAMPLE_CHARS = 1000  # characters of text generated per temperature
SAMPLE_SEED = 2024
JAMO_PER_CHAR = 2.5  # jamo drawn per character of text wanted (the corpus has 1.96)
PUNCT = ".,?!'\"…—"


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


def tokenize(text: str, tokens: str) -> str:
    """The symbol string a model reads: ``text`` itself (``"syl"``) or its jamo (``"jamo"``)."""
    if tokens == "syl":
        return text
    if tokens == "jamo":
        return hangul.decompose(text)
    raise ValueError(f"tokens must be 'syl' or 'jamo', got {tokens!r}")


def detokenize(symbols: str, tokens: str) -> str:
    """Text to show for generated symbols (jamo are composed back; strays shown as ㄱ, ㅏ …)."""
    return symbols if tokens == "syl" else hangul.compose(symbols)


def bits_per_char(cell, model, val_symbol_ids: np.ndarray, n_chars: int) -> float:
    """Bits per character of the validation text: total NLL (nats) / n_chars / ln 2.

    ``val_symbol_ids`` encodes ``"\\n" + val_text``: the first symbol is context only, so the
    model predicts exactly the ``n_chars`` characters of ``val_text`` in either tokenisation.
    """
    return models.char_lm_nll(cell, model, val_symbol_ids) / n_chars / np.log(2)


def tbptt_fns(cell, batches: list, dropout: float = 0.0, rng=None):
    """``(loss_fn, batch_fn, carry)`` for :func:`lstmlib.train.train`, carrying the state across chunks.

    Chunk k+1 continues chunk k (see :func:`lstmlib.data.lm_batches`), so the final states of
    one call become the initial states of the next: the state carries over, while the gradient
    stops at the chunk boundary (the loss backpropagates through its own chunk only). The state
    is reset to zeros at the start of every pass over the data. With ``dropout > 0`` each step
    draws fresh masks from ``rng``. ``carry`` holds the current states and step.
    """
    if dropout and rng is None:
        raise ValueError("dropout > 0 needs rng (a numpy.random.Generator for the masks)")
    carry = {"states": None, "step": 0}

    def batch_fn(step: int):
        carry["step"] = step
        k = (step - 1) % len(batches)
        if k == 0:
            carry["states"] = None  # a new pass: row b starts again at the beginning of its text
        return batches[k]

    def loss_fn(model, batch):
        inputs, targets = batch
        if dropout:
            masks = models.char_lm_dropout_masks(model, inputs.shape, dropout, rng)
            loss, grads, carry["states"] = models.char_lm_loss_dropout(cell, model, inputs, targets, carry["states"], masks=masks)
        else:
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
    dropout: float = 0.0,
    val_ids: np.ndarray | None = None,
    val_chars: int | None = None,
    eval_every: int = 25,
    progress: bool = False,
    desc: str = "train",
    log: bool = False,
):
    """Train a stacked-LSTM language model; return ``(model, history)``.

    The weights start from ``default_rng(seed)``; dropout masks come from
    ``default_rng([seed, 1])``. With ``val_ids`` the validation cross-entropy (nats per symbol)
    is measured every ``eval_every`` steps and the returned model is a copy of the weights at
    the best of those measurements; ``history["best_step"]`` says which step that was. With
    ``val_chars`` as well, ``history["best_bpc"]`` is that model's bits per character.
    """
    rng = np.random.default_rng(seed)
    model = models.init_char_lm(lstm, vocab_size, hidden_size, n_layers, rng)
    batches = data.lm_batches(train_ids, batch_size, seq_len)
    loss_fn, batch_fn, carry = tbptt_fns(lstm, batches, dropout, np.random.default_rng([seed, 1]) if dropout else None)
    best = {"loss": np.inf, "model": copy.deepcopy(model), "step": 0}
    eval_fn = None
    if val_ids is not None:

        def eval_fn(params):
            loss = models.char_lm_eval(lstm, params, val_ids)
            if log:
                print(f"{desc} step {carry['step']}: validation {loss:.3f} nats/symbol", flush=True)
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
    if val_chars is not None:
        history["best_bpc"] = best["loss"] * (val_ids.size - 1) / val_chars / np.log(2)
    return best["model"], history


# ------------------------------------------------------------------------------------ the corpus


def corpus():
    """``{tokens: (vocab, train_ids, val_ids)}`` plus the texts; val ids encode ``"\\n" + val_text``."""
    text = data.load_text(CORPUS)
    train_text, val_text, val_titles = split_poems(text)
    out = {"text": text, "train_text": train_text, "val_text": val_text, "val_titles": val_titles}
    for tokens in ("syl", "jamo"):
        vocab = data.build_vocab(tokenize(text, tokens))
        out[tokens] = (vocab, data.encode(tokenize(train_text, tokens), vocab), data.encode(tokenize("\n" + val_text, tokens), vocab))
    return out


def run_one(name: str, seed: int, n_steps: int, work: Path) -> Path:
    """Train model ``name`` with ``seed``; save its best weights and history under ``work``."""
    spec = MODELS[name]
    c = corpus()
    vocab, train_ids, val_ids = c[spec["tokens"]]
    start = time.perf_counter()
    model, hist = train_char_lm(
        train_ids, vocab.size, n_layers=spec["n_layers"], hidden_size=spec["hidden_size"], seq_len=spec["seq_len"],
        seed=seed, val_ids=val_ids, val_chars=len(c["val_text"]), log=True, desc=f"{name} seed {seed}",
        **{k: RECIPE[k] for k in ("batch_size", "lr", "clip", "dropout", "eval_every")}, n_steps=n_steps,
    )
    path = work / f"{name}_seed{seed}.npz"
    arrays = {
        "train_loss": np.asarray(hist["loss"]), "grad_norm": np.asarray(hist["grad_norm"]),
        "eval_step": np.asarray(hist["eval_step"], dtype=np.int64), "val_loss": np.asarray(hist["eval"]),
    }
    meta = {"name": name, "seed": seed, "best_step": int(hist["best_step"]), "best_val": float(hist["best_val"]),
            "best_bpc": float(hist["best_bpc"]), "minutes": (time.perf_counter() - start) / 60}
    checkpoint.save(path, model, vocab=vocab, meta=meta, arrays=arrays)  # float64 here; float32 when shipped
    print(f"{name} seed {seed}: {meta['best_bpc']:.3f} bits/char at step {meta['best_step']} ({meta['minutes']:.1f} min)", flush=True)
    return path


# ----------------------------------------------------------------------------- sample quality


def words(text: str) -> list:
    """Space/newline-separated words with punctuation stripped from both ends (empty ones dropped)."""
    return [w for w in (t.strip(PUNCT) for t in text.split()) if w]


def multi_syllable(ws: list) -> list:
    """The words of 2 or more characters (the ones a spell checker can judge; 이, 나, 그 are too easy)."""
    return [w for w in ws if len(w) >= 2]


def hunspell_known(ws: list):
    """``{word: accepted}`` by ``hunspell -d ko_KR``, or None if hunspell or its Korean dictionary is missing."""
    exe = shutil.which("hunspell")
    if exe is None:
        return None
    if not ws:
        return {}
    uniq = sorted(set(ws))
    try:
        res = subprocess.run([exe, "-d", "ko_KR", "-l"], input="\n".join(uniq) + "\n", capture_output=True,
                             text=True, encoding="utf-8", timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0 or "Can't open" in res.stderr:
        return None
    unknown = set(res.stdout.split())
    return {w: w not in unknown for w in uniq}


def generate(model, vocab, tokens: str, temperature: float, n_chars: int = SAMPLE_CHARS, seed: int = SAMPLE_SEED) -> tuple:
    """``(text, symbols)``: at least ``n_chars`` characters of text after a newline, cut to ``n_chars``.

    A jamo model writes about 2 symbols per character (the corpus has 1.96); it draws
    ``JAMO_PER_CHAR × n_chars`` symbols and the composed text is cut at ``n_chars``.
    """
    prime = data.encode("\n", vocab)
    n_symbols = n_chars if tokens == "syl" else int(JAMO_PER_CHAR * n_chars)
    ids = models.char_lm_sample(lstm, model, prime, n_symbols, np.random.default_rng(seed), temperature=temperature)
    symbols = data.decode(ids, vocab)
    if tokens == "syl":
        return symbols[:n_chars], symbols[:n_chars]
    # cut the symbols so that they compose to exactly n_chars characters
    lo, hi = 0, len(symbols)
    while lo < hi:  # smallest prefix whose composition has >= n_chars characters
        mid = (lo + hi) // 2
        if len(hangul.compose(symbols[:mid])) >= n_chars:
            hi = mid
        else:
            lo = mid + 1
    text = hangul.compose(symbols[:lo])
    if len(text) < n_chars:
        raise RuntimeError(f"{n_symbols} jamo composed to only {len(text)} characters")
    return text, symbols[:lo]


def is_hangul_word(w: str) -> bool:
    """Every character is a Hangul syllable (a word with a stray ㄱ or a quote mark inside is not)."""
    return all(hangul.is_syllable(ch) for ch in w)


def word_shares(text: str, train_words: set) -> dict:
    """Multi-syllable words of ``text``: how many, and the share found in the training text and
    (None without hunspell-ko) the share Hunspell's ko_KR dictionary accepts. Only words made of
    Hangul syllables can count as real."""
    ms = multi_syllable(words(text))
    hun = hunspell_known([w for w in ms if is_hangul_word(w)])
    return {
        "n_multi": len(ms),
        "corpus_share": float(np.mean([w in train_words for w in ms])) if ms else 0.0,
        "hunspell_share": None if hun is None else float(np.mean([is_hangul_word(w) and hun[w] for w in ms])) if ms else 0.0,
    }


def unigram_sample(train_text: str, vocab, n_chars: int = SAMPLE_CHARS, seed: int = SAMPLE_SEED) -> str:
    """Characters drawn independently with their training-text frequencies (add-one smoothing)."""
    freq = np.bincount(data.encode(train_text, vocab), minlength=vocab.size) + 1.0
    return data.decode(np.random.default_rng(seed).choice(vocab.size, size=n_chars, p=freq / freq.sum()), vocab)


def sample_report(model, vocab, tokens: str, train_words: set) -> dict:
    """Samples per temperature and their measured shares (what the lesson prints and checks)."""
    out = {}
    for tau in TEMPERATURES:
        text, symbols = generate(model, vocab, tokens, tau)
        rep = hangul.syllable_report(symbols) if tokens == "jamo" else None
        out[f"{tau}"] = {"text": text, **word_shares(text, train_words),
                         "valid_syllable_share": None if rep is None else rep.valid_share}
    return out


# -------------------------------------------------------------------------------------- main


def _best(results: dict, name: str) -> tuple:
    runs = [r for r in results.values() if r["name"] == name]
    r = min(runs, key=lambda r: r["best_bpc"])
    return r["name"], r["seed"]


def assemble(work: Path, out_dir: Path, seeds, n_steps: int) -> dict:
    c = corpus()
    results, hist_arrays = {}, {}
    for name in MODELS:
        for seed in seeds:
            ck = checkpoint.load(work / f"{name}_seed{seed}.npz")
            key = f"{name}/seed{seed}"
            results[key] = ck.meta
            for k, a in ck.arrays.items():
                hist_arrays[f"{name}/seed{seed}/{k}"] = a
    train_words = set(words(c["train_text"]))
    common = {
        "cell": "lstm", **RECIPE, "n_steps": n_steps, "seeds": list(seeds), "models": MODELS,
        "corpus": "data/korean_poems.txt", "corpus_sha256": hashlib.sha256(CORPUS.read_bytes()).hexdigest(),
        "val_every": VAL_EVERY, "val_offset": VAL_OFFSET, "val_titles": c["val_titles"],
        "results": results, "temperatures": list(TEMPERATURES), "sample_chars": SAMPLE_CHARS,
        "sample_seed": SAMPLE_SEED, "script": "scripts/train_char_lm.py",
    }
    jamo_names = [n for n, s in MODELS.items() if s["tokens"] == "jamo"]
    mean_bpc = {n: float(np.mean([results[f"{n}/seed{s}"]["best_bpc"] for s in seeds])) for n in jamo_names}
    best_jamo = min(jamo_names, key=mean_bpc.get)  # the depth with the best mean over seeds
    written = {}
    for fname, name, arrays in (("char_lm.npz", best_jamo, hist_arrays), ("char_lm_syllable.npz", "syl_1", {})):
        name, seed = _best(results, name)
        src = checkpoint.load(work / f"{name}_seed{seed}.npz")
        spec = MODELS[name]
        path = checkpoint.save(out_dir / fname, src.model, vocab=src.vocab, meta={}, dtype=np.float32)
        shipped = checkpoint.load(path, dtype=np.float64)  # sample from exactly what the lesson loads
        samples = sample_report(shipped.model, shipped.vocab, spec["tokens"], train_words)
        meta = {**common, "model": name, "seed": seed, **spec, "best_step": src.meta["best_step"],
                "best_bpc": src.meta["best_bpc"], "samples": samples}
        if spec["tokens"] == "syl":
            uni = unigram_sample(c["train_text"], src.vocab)
            meta["unigram_sample"] = {"text": uni, **word_shares(uni, train_words)}
        checkpoint.save(path, src.model, vocab=src.vocab, meta=meta, arrays=arrays, dtype=np.float32)
        written[fname] = (name, seed, samples)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=RECIPE["n_steps"], help="training steps per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS), help="seeds per model")
    ap.add_argument("--jobs", type=int, default=2, help="runs trained in parallel (processes)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/char_lm_runs"), help="folder for the per-run files")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help="folder for the two checkpoints")
    ap.add_argument("--reuse", action="store_true", help="skip runs whose file already exists in --work")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="models to train")
    ap.add_argument("--no-assemble", action="store_true", help="train only; do not write the checkpoints")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    c = corpus()
    for tokens in ("syl", "jamo"):
        vocab, tr, va = c[tokens]
        print(f"{tokens}: {vocab.size} symbols; train {tr.size}, validation {va.size - 1} (+1 context)")
    jobs = [(n, s) for n in sorted(args.models, key=lambda n: -MODELS[n]["n_layers"]) for s in args.seeds
            if not (args.reuse and (args.work / f"{n}_seed{s}.npz").exists())]
    if args.jobs > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.jobs) as pool:
            pool.starmap(run_one, [(n, s, args.steps, args.work) for n, s in jobs], chunksize=1)
    else:
        for n, s in jobs:
            run_one(n, s, args.steps, args.work)
    if args.no_assemble:
        print(f"trained in {(time.perf_counter() - start) / 60:.1f} min")
        return 0
    written = assemble(args.work, args.out_dir, args.seeds, args.steps)
    for fname, (name, seed, samples) in written.items():
        print(f"{fname}: {name} seed {seed}")
        for tau, s in samples.items():
            print(f"  τ = {tau}: corpus words {s['corpus_share']:.0%}, hunspell {s['hunspell_share']}, "
                  f"valid syllables {s['valid_syllable_share']}, {s['n_multi']} multi-syllable words")
    print(f"done in {(time.perf_counter() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
