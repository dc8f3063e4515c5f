"""Lesson 10's language models: the training script (truncated BPTT, dropout, best-checkpoint
selection, determinism, the comparable bits-per-character measure, sample statistics), sampling,
and the checkpoints shipped in data/checkpoints/."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lstmlib import checkpoint, data, hangul, lstm, models

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "korean_poems.txt"
CKPT = ROOT / "data" / "checkpoints" / "char_lm.npz"
CKPT_SYL = ROOT / "data" / "checkpoints" / "char_lm_syllable.npz"

_spec = importlib.util.spec_from_file_location("train_char_lm", ROOT / "scripts" / "train_char_lm.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

TINY = "산에는 꽃 피네\n꽃이 피네\n갈 봄 여름 없이\n꽃이 피네\n\n" * 6


def _tiny_run(n_layers=2, n_steps=30, seed=0, val=False, dropout=0.0):
    vocab = data.build_vocab(TINY)
    ids = data.encode(TINY, vocab)
    return script.train_char_lm(
        ids, vocab.size, n_layers=n_layers, hidden_size=16, batch_size=2, seq_len=8, n_steps=n_steps,
        lr=2e-2, clip=1.0, seed=seed, val_ids=ids[:40] if val else None, eval_every=10, dropout=dropout,
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


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_training_is_deterministic(dropout):
    m1, h1 = _tiny_run(seed=4, dropout=dropout)
    m2, h2 = _tiny_run(seed=4, dropout=dropout)
    f1, f2 = checkpoint.flatten(m1), checkpoint.flatten(m2)
    assert all(np.array_equal(f1[k], f2[k]) for k in f1)
    assert h1["loss"] == h2["loss"]
    m3, _ = _tiny_run(seed=5, dropout=dropout)
    assert not np.array_equal(checkpoint.flatten(m3)["W_y"], f1["W_y"])


def test_dropout_changes_training_and_needs_an_rng():
    _, h0 = _tiny_run(seed=4)
    _, h1 = _tiny_run(seed=4, dropout=0.3)
    assert h0["loss"][0] != h1["loss"][0]
    with pytest.raises(ValueError, match="dropout > 0 needs rng"):
        script.tbptt_fns(lstm, [], dropout=0.3)


def test_bits_per_char_compares_tokenisations_on_the_same_text():
    text = "별 하나에 추억과\n별 하나에 사랑과\n"
    for tokens in ("syl", "jamo"):
        symbols = script.tokenize("\n" + text, tokens)
        vocab = data.build_vocab(symbols)
        ids = data.encode(symbols, vocab)
        model = models.init_char_lm(lstm, vocab.size, 8, 1, np.random.default_rng(0))
        bpc = script.bits_per_char(lstm, model, ids, len(text))
        # an untrained model is close to uniform: log2(V) bits per symbol, symbols per char of them
        per_symbol = np.log2(vocab.size) * (ids.size - 1) / len(text)
        assert bpc == pytest.approx(per_symbol, rel=0.02)
    assert script.detokenize(script.tokenize(text, "jamo"), "jamo") == text
    with pytest.raises(ValueError, match="tokens must be"):
        script.tokenize(text, "bpe")


def test_word_statistics():
    assert script.words("별 하나에, 추억과\n'사랑'과 …") == ["별", "하나에", "추억과", "사랑'과"]
    assert script.multi_syllable(["별", "하나에", "ㄱ가"]) == ["하나에", "ㄱ가"]
    s = script.word_shares("하나에 추억과 별빛ㄱ 가나", {"하나에", "추억과", "별"})
    assert s["n_multi"] == 4 and s["corpus_share"] == 0.5
    assert script.is_hangul_word("하나") and not script.is_hangul_word("하ㄱ")


def test_generate_cuts_jamo_samples_at_whole_characters(tiny_trained):
    model, _ = tiny_trained
    vocab = data.build_vocab(TINY)  # a syllable vocabulary: generate works in either tokenisation
    text, symbols = script.generate(model, vocab, "syl", 1.0, n_chars=50)
    assert text == symbols and len(text) == 50
    jamo_text = hangul.decompose(TINY)
    jv = data.build_vocab(jamo_text)
    jm, _ = script.train_char_lm(data.encode(jamo_text, jv), jv.size, n_layers=1, hidden_size=16, batch_size=2,
                                 seq_len=8, n_steps=5, lr=2e-2, clip=1.0, seed=0)
    text, symbols = script.generate(jm, jv, "jamo", 1.0, n_chars=40)
    assert len(text) == 40 and hangul.compose(symbols) == text


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


# --------------------------------------------------------------------------- the shipped checkpoints


@pytest.fixture(scope="module")
def shipped():
    return checkpoint.load(CKPT, dtype=np.float64)


@pytest.fixture(scope="module")
def shipped_syl():
    return checkpoint.load(CKPT_SYL, dtype=np.float64)


@pytest.fixture(scope="module")
def real():
    return script.corpus()


def test_checkpoints_are_small_and_match_the_corpus(shipped, shipped_syl, real):
    for path, ck, tokens in ((CKPT, shipped, "jamo"), (CKPT_SYL, shipped_syl, "syl")):
        assert path.stat().st_size < 2_000_000
        assert ck.vocab == real[tokens][0]
        assert ck.meta["corpus_sha256"] == hashlib.sha256(CORPUS.read_bytes()).hexdigest(), (
            "data/korean_poems.txt changed: rerun scripts/train_char_lm.py"
        )
        for key, value in script.RECIPE.items():
            assert ck.meta[key] == value or key == "n_steps"
        spec = script.MODELS[ck.meta["model"]]
        assert spec["tokens"] == tokens == ck.meta["tokens"]
        assert ck.meta["n_layers"] == len(ck.model["layers"]) == spec["n_layers"]
        assert ck.model["W_y"].shape == (spec["hidden_size"], ck.vocab.size)


def test_every_run_is_recorded_and_the_best_is_shipped(shipped, shipped_syl):
    res, seeds = shipped.meta["results"], shipped.meta["seeds"]
    assert len(seeds) >= 3
    assert sorted(res) == sorted(f"{n}/seed{s}" for n in script.MODELS for s in seeds)
    for key, r in res.items():
        steps = shipped.arrays[f"{key}/eval_step"]
        assert shipped.arrays[f"{key}/val_loss"].shape == steps.shape
        assert shipped.arrays[f"{key}/train_loss"].size == shipped.meta["n_steps"]
        assert r["best_step"] in steps.tolist()
    jamo = [n for n in script.MODELS if script.MODELS[n]["tokens"] == "jamo"]
    mean = {n: np.mean([res[f"{n}/seed{s}"]["best_bpc"] for s in seeds]) for n in jamo}
    assert shipped.meta["model"] == min(mean, key=mean.get)
    for ck in (shipped, shipped_syl):
        name = ck.meta["model"]
        assert ck.meta["best_bpc"] == min(res[f"{name}/seed{s}"]["best_bpc"] for s in seeds)


def test_checkpoints_reproduce_their_recorded_validation_measure(shipped, shipped_syl, real):
    for ck in (shipped, shipped_syl):
        _, _, val_ids = real[ck.meta["tokens"]]
        bpc = script.bits_per_char(lstm, ck.model, val_ids, len(real["val_text"]))
        assert bpc == pytest.approx(ck.meta["best_bpc"], abs=2e-3)  # float32 storage
        assert ck.meta["val_titles"] == real["val_titles"]


def test_stored_samples_are_what_the_shipped_models_generate(shipped, shipped_syl, real):
    for ck in (shipped, shipped_syl):
        tau = "0.8"
        text, symbols = script.generate(ck.model, ck.vocab, ck.meta["tokens"], float(tau))
        assert text == ck.meta["samples"][tau]["text"]
        assert len(text) == ck.meta["sample_chars"] >= 1000
        if ck.meta["tokens"] == "jamo":
            assert hangul.syllable_report(symbols).valid_share == ck.meta["samples"][tau]["valid_syllable_share"]
    uni = shipped_syl.meta["unigram_sample"]
    assert script.unigram_sample(real["train_text"], shipped_syl.vocab) == uni["text"]
    assert sorted(shipped.meta["samples"]) == sorted(f"{t}" for t in script.TEMPERATURES)


def test_checkpoint_sampling_is_deterministic(shipped):
    prime = data.encode("\n", shipped.vocab)
    a = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(0))
    b = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(0))
    assert np.array_equal(a, b)
    c = models.char_lm_sample(lstm, shipped.model, prime, 30, np.random.default_rng(1))
    assert not np.array_equal(a, c)  # the draws come from rng, not from a fixed path


def test_low_temperature_sampling_is_greedy_decoding_of_the_whole_prefix(shipped):
    """At temperature → 0 each id is the argmax of the scores after re-reading prime + samples from scratch."""
    model, V = shipped.model, shipped.model["W_y"].shape[1]
    ids = list(data.encode(hangul.decompose("별 하나에"), shipped.vocab))
    sample = models.char_lm_sample(lstm, model, np.array(ids), 8, np.random.default_rng(0), temperature=1e-4)
    for nxt in sample:
        xs = data.one_hot(np.array([ids]), V, dtype=model["W_y"].dtype)
        hs, _, _ = models.stack_forward(lstm, xs, model["layers"])
        scores = hs[0, -1] @ model["W_y"] + model["b_y"]
        assert nxt == int(np.argmax(scores))
        ids.append(int(nxt))
