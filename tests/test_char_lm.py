"""Lesson 10's language model: the training script (truncated BPTT, early stopping, determinism),
sampling, and the checkpoint shipped in data/checkpoints/."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lstmlib import checkpoint, data, lstm, models

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "korean_poems.txt"
CKPT = ROOT / "data" / "checkpoints" / "char_lm.npz"

_spec = importlib.util.spec_from_file_location("train_char_lm", ROOT / "scripts" / "train_char_lm.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

TINY = "산에는 꽃 피네\n꽃이 피네\n갈 봄 여름 없이\n꽃이 피네\n\n" * 6


def _tiny_run(n_layers=2, n_steps=30, seed=0, val=False):
    vocab = data.build_vocab(TINY)
    ids = data.encode(TINY, vocab)
    return script.train_char_lm(
        ids, vocab.size, n_layers=n_layers, hidden_size=16, batch_size=2, seq_len=8, n_steps=n_steps,
        lr=2e-2, clip=1.0, seed=seed, val_ids=ids[:40] if val else None, eval_every=10,
    )


@pytest.fixture(scope="module")
def tiny_trained():
    return _tiny_run(n_layers=2, n_steps=150)


def test_split_poems_partitions_the_corpus():
    text = "\n\n\n".join(f"제목{k}\n\n본문 {k}" for k in range(9)) + "\n"
    train_text, val_text, titles = script.split_poems(text, every=4, offset=1)
    assert titles == ["제목1", "제목5"]
    assert val_text == "제목1\n\n본문 1\n\n\n제목5\n\n본문 5\n"
    assert train_text.count("\n\n\n") == 6 and "본문 5" not in train_text and "본문 8" in train_text
    with pytest.raises(ValueError, match="poems"):
        script.split_poems("한 편뿐\n", every=4, offset=1)


def test_the_real_split_holds_out_five_poems():
    _, val_text, titles = script.split_poems(data.load_text(CORPUS))
    assert titles == ["눈 오는 지도", "새벽이 올 때까지", "길", "엄마야 누나야", "금잔디"]
    assert 500 < len(val_text) < 1500


def test_training_is_deterministic():
    m1, h1 = _tiny_run(seed=4)
    m2, h2 = _tiny_run(seed=4)
    f1, f2 = checkpoint.flatten(m1), checkpoint.flatten(m2)
    assert all(np.array_equal(f1[k], f2[k]) for k in f1)
    assert h1["loss"] == h2["loss"]
    m3, _ = _tiny_run(seed=5)
    assert not np.array_equal(checkpoint.flatten(m3)["W_y"], f1["W_y"])


def test_two_layer_loss_falls_on_a_tiny_corpus(tiny_trained):
    _, hist = tiny_trained
    first, last = np.mean(hist["loss"][:5]), np.mean(hist["loss"][-10:])
    assert first > 2.0  # ≈ log V = log 14 ≈ 2.64 at the start
    assert last < 0.2 * first


def test_tbptt_state_carries_over_exactly_and_resets_each_pass():
    rng = np.random.default_rng(1)
    model = models.init_char_lm(lstm, 6, 4, 2, rng)
    ids = rng.integers(0, 6, size=2 * 3 * 5 + 1)
    batches = data.lm_batches(ids, 2, 5)  # 3 chunks of (2, 5)
    loss_fn, batch_fn, carry = script.tbptt_fns(lstm, batches)
    for step in (1, 2):
        loss_fn(model, batch_fn(step))
    # two chunks with the carried state == the 10-step rows run in one go
    x = np.concatenate([batches[0][0], batches[1][0]], axis=1)  # (2, 10)
    _, states_T, _ = models.stack_forward(lstm, data.one_hot(x, 6), model["layers"])
    for (h, c), (h_ref, c_ref) in zip(carry["states"], states_T):
        assert np.allclose(h, h_ref, atol=1e-14) and np.allclose(c, c_ref, atol=1e-14)
    loss_fn(model, batch_fn(3))
    assert carry["step"] == 3
    batch_fn(4)  # a new pass over the data starts from zero states
    assert carry["states"] is None


def test_early_stopping_returns_the_best_validation_weights():
    model, hist = _tiny_run(n_steps=40, val=True)
    assert hist["eval_step"] == [10, 20, 30, 40]
    assert hist["best_step"] in hist["eval_step"]
    assert hist["best_val"] == min(hist["eval"])
    vocab = data.build_vocab(TINY)
    val_ids = data.encode(TINY, vocab)[:40]
    assert models.char_lm_eval(lstm, model, val_ids) == pytest.approx(hist["best_val"], rel=1e-12)


def test_sampling_is_deterministic_given_the_seed(tiny_trained):
    model, _ = tiny_trained
    vocab = data.build_vocab(TINY)
    prime = data.encode("산에는", vocab)

    def sample(seed, T=1.0, n=40):
        return models.char_lm_sample(lstm, model, prime, n, np.random.default_rng(seed), temperature=T)

    assert np.array_equal(sample(0), sample(0))
    assert not np.array_equal(sample(0, T=3.0), sample(1, T=3.0))
    # near-greedy: the memorised verse, whatever the seed
    assert data.decode(sample(0, 0.05, 30), vocab) == data.decode(sample(7, 0.05, 30), vocab) == " 꽃 피네\n꽃이 피네\n갈 봄 여름 없이\n꽃이 피네\n\n산"


# --------------------------------------------------------------------------- the shipped checkpoint


@pytest.fixture(scope="module")
def shipped():
    return checkpoint.load(CKPT, dtype=np.float64)


def test_checkpoint_is_small_and_matches_the_corpus(shipped):
    assert CKPT.stat().st_size < 2_000_000
    text = data.load_text(CORPUS)
    assert shipped.vocab == data.build_vocab(text)
    assert shipped.meta["corpus_sha256"] == hashlib.sha256(CORPUS.read_bytes()).hexdigest(), (
        "data/korean_poems.txt changed: rerun scripts/train_char_lm.py"
    )
    for key in ("hidden_size", "batch_size", "seq_len", "lr", "clip", "seed", "eval_every"):
        assert shipped.meta[key] == script.CONFIG[key]
    assert shipped.meta["n_layers"] == len(shipped.model["layers"]) == 2


def test_checkpoint_shapes(shipped):
    V, H = shipped.vocab.size, shipped.meta["hidden_size"]
    layers = shipped.model["layers"]
    assert layers[0]["W_x"].shape == (V, 4 * H) and layers[1]["W_x"].shape == (H, 4 * H)
    assert all(p["W_h"].shape == (H, 4 * H) for p in layers)
    assert shipped.model["W_y"].shape == (H, V)
    for n in (1, 2):
        steps = shipped.arrays[f"L{n}/eval_step"]
        assert shipped.arrays[f"L{n}/val_loss"].shape == steps.shape
        assert shipped.arrays[f"L{n}/train_loss"].size == shipped.meta["n_steps"]


def test_checkpoint_reproduces_its_recorded_validation_loss(shipped):
    _, val_text, titles = script.split_poems(data.load_text(CORPUS))
    assert titles == shipped.meta["val_titles"]
    loss = models.char_lm_eval(lstm, shipped.model, data.encode(val_text, shipped.vocab))
    assert loss == pytest.approx(shipped.meta["best_val"]["2"], abs=2e-3)  # float32 storage


def test_checkpoint_sampling_is_deterministic(shipped):
    prime = data.encode("별", shipped.vocab)
    a = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(0))
    b = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(0))
    assert np.array_equal(a, b)
    c = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(1))
    assert not np.array_equal(a, c)  # the draws come from rng, not from a fixed path


def test_low_temperature_sampling_is_greedy_decoding_of_the_whole_prefix(shipped):
    """At temperature → 0 each id is the argmax of the scores after re-reading prime + samples from scratch."""
    model, V = shipped.model, shipped.model["W_y"].shape[1]
    ids = list(data.encode("별 하나에", shipped.vocab))
    sample = models.char_lm_sample(lstm, model, np.array(ids), 8, np.random.default_rng(0), temperature=1e-4)
    for nxt in sample:
        xs = data.one_hot(np.array([ids]), V, dtype=model["W_y"].dtype)
        hs, _, _ = models.stack_forward(lstm, xs, model["layers"])
        scores = hs[0, -1] @ model["W_y"] + model["b_y"]
        assert nxt == int(np.argmax(scores))
        ids.append(int(nxt))
