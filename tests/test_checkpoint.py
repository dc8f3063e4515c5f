"""lstmlib.checkpoint: nested models round-trip through .npz without pickle, and bad files fail clearly."""

import json

import numpy as np
import pytest

from lstmlib import checkpoint, data, gru, lstm, models


def _model(dtype=np.float64):
    rng = np.random.default_rng(3)
    return models.init_char_lm(lstm, 7, 5, 2, rng, dtype=dtype)


def _same(a, b):
    fa, fb = checkpoint.flatten(a), checkpoint.flatten(b)
    return list(fa) == list(fb) and all(fa[k].dtype == fb[k].dtype and np.array_equal(fa[k], fb[k]) for k in fa)


def test_flatten_names_follow_optim_leaves():
    flat = checkpoint.flatten(_model())
    assert list(flat) == [
        "layers[0].W_x", "layers[0].W_h", "layers[0].b",
        "layers[1].W_x", "layers[1].W_h", "layers[1].b",
        "W_y", "b_y",
    ]
    assert flat["layers[0].W_x"].shape == (7, 20)  # (V, 4H)
    assert flat["layers[1].W_x"].shape == (5, 20)  # (H, 4H): layer 2 reads layer 1's h


def test_unflatten_inverts_flatten_for_nested_dicts_and_lists():
    tree = {"a": [{"w": np.arange(3.0)}, {"w": np.ones(2), "v": [np.zeros(1), np.ones((1, 2))]}], "b": np.eye(2)}
    assert _same(checkpoint.unflatten(checkpoint.flatten(tree)), tree)


def test_round_trip_model_vocab_meta_arrays(tmp_path):
    model = _model()
    vocab = data.build_vocab("하늘과 바람과 별과 시\n")
    meta = {"cell": "lstm", "hidden_size": 5, "titles": ["서시", "별 헤는 밤"], "lr": 0.003}
    hist = {"L2/train_loss": np.linspace(3, 1, 11), "L2/eval_step": np.arange(0, 11, 5)}
    path = checkpoint.save(tmp_path / "m.npz", model, vocab=vocab, meta=meta, arrays=hist)
    ck = checkpoint.load(path)
    assert _same(ck.model, model)
    assert ck.vocab == vocab and ck.vocab.chars[0] == "\n"
    assert ck.meta == meta
    assert set(ck.arrays) == set(hist) and all(np.array_equal(ck.arrays[k], hist[k]) for k in hist)
    assert ck.arrays["L2/eval_step"].dtype == np.int64


def test_round_trip_keeps_a_custom_vocab_order_long_lists_and_int_leaves(tmp_path):
    vocab = data.build_vocab("hello", order="olhe")  # not sorted: ids must survive as they are
    layers = [{"W": np.full((2, 2), float(k))} for k in range(12)]  # "[10]" must not sort before "[2]"
    model = {"layers": layers, "counts": np.arange(4), "W_y": np.ones((2, 3))}
    ck = checkpoint.load(checkpoint.save(tmp_path / "m.npz", model, vocab=vocab), dtype=np.float32)
    assert ck.vocab.chars == vocab.chars == ("o", "l", "h", "e")
    assert [float(layer["W"][0, 0]) for layer in ck.model["layers"]] == [float(k) for k in range(12)]
    assert ck.model["counts"].dtype == np.arange(4).dtype  # dtype= converts float leaves only
    np.testing.assert_array_equal(ck.model["counts"], np.arange(4))
    assert ck.model["W_y"].dtype == np.float32


def test_file_is_readable_without_pickle(tmp_path):
    path = checkpoint.save(tmp_path / "m.npz", _model(), vocab=data.build_vocab("ab"), meta={"x": 1})
    with np.load(path, allow_pickle=False) as z:  # would raise on any object array
        assert str(z["format"]) == checkpoint.FORMAT
        assert z["vocab"].dtype == np.dtype("<U1")
        assert json.loads(str(z["meta"])) == {"x": 1}


def test_dtype_conversion_on_save_and_load(tmp_path):
    model = _model()
    path = checkpoint.save(tmp_path / "m.npz", model, dtype=np.float32)
    assert checkpoint.flatten(model)["W_y"].dtype == np.float64  # the model passed in is unchanged
    ck32 = checkpoint.load(path)
    assert all(a.dtype == np.float32 for a in checkpoint.flatten(ck32.model).values())
    ck64 = checkpoint.load(path, dtype=np.float64)
    w = checkpoint.flatten(ck64.model)["W_y"]
    assert w.dtype == np.float64
    assert np.array_equal(w, checkpoint.flatten(model)["W_y"].astype(np.float32).astype(np.float64))
    assert np.max(np.abs(w - checkpoint.flatten(model)["W_y"])) < 1e-6


def test_loaded_model_computes_the_same_loss(tmp_path):
    model = _model()
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 7, size=(2, 6)), rng.integers(0, 7, size=(2, 6))
    ck = checkpoint.load(checkpoint.save(tmp_path / "m.npz", model))
    assert models.char_lm_loss(lstm, ck.model, x, y)[0] == models.char_lm_loss(lstm, model, x, y)[0]


def test_other_cells_and_meta_none(tmp_path):
    model = models.init_char_lm(gru, 4, 3, 1, np.random.default_rng(1))
    ck = checkpoint.load(checkpoint.save(tmp_path / "g.npz", model))
    assert _same(ck.model, model) and ck.vocab is None and ck.meta == {} and ck.arrays == {}


# ---------------------------------------------------------------------------------- bad input


def test_save_rejects_bad_models_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="must end in .npz"):
        checkpoint.save(tmp_path / "m.npy", _model())
    with pytest.raises(TypeError, match="must be a dict"):
        checkpoint.save(tmp_path / "m.npz", [np.ones(2)])
    with pytest.raises(TypeError, match="only arrays, dicts and lists"):
        checkpoint.save(tmp_path / "m.npz", {"w": 1.0})
    with pytest.raises(ValueError, match="identifiers"):
        checkpoint.save(tmp_path / "m.npz", {"W x": np.ones(2)})
    with pytest.raises(TypeError, match="numeric"):
        checkpoint.save(tmp_path / "m.npz", {"w": np.array(["a"])})
    with pytest.raises(TypeError, match="JSON"):
        checkpoint.save(tmp_path / "m.npz", _model(), meta={"a": np.ones(2)})
    with pytest.raises(TypeError, match="Vocab"):
        checkpoint.save(tmp_path / "m.npz", _model(), vocab="abc")
    with pytest.raises(ValueError, match="array name"):
        checkpoint.save(tmp_path / "m.npz", _model(), arrays={"bad name": np.ones(2)})
    with pytest.raises(TypeError, match="float dtype"):
        checkpoint.save(tmp_path / "m.npz", _model(), dtype=np.int32)


def test_load_rejects_missing_foreign_and_pickled_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoint.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(ValueError, match="not an lstmlib checkpoint"):
        checkpoint.load(tmp_path / "plain.npz")
    np.savez(tmp_path / "obj.npz", format=np.array(checkpoint.FORMAT), w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a valid lstmlib checkpoint"):
        checkpoint.load(tmp_path / "obj.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        checkpoint.load(tmp_path / "text.npz")


def test_load_rejects_malformed_entries(tmp_path):
    fmt = np.array(checkpoint.FORMAT)
    meta = np.array("{}")
    np.savez(tmp_path / "a.npz", format=fmt, meta=meta, **{"model/layers[1].W": np.ones(2)})
    with pytest.raises(ValueError, match=r"indices \[1\]"):
        checkpoint.load(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", format=fmt, meta=meta, **{"model/W": np.ones(2), "model/W.x": np.ones(2)})
    with pytest.raises(ValueError, match="both an array and a sub-tree"):
        checkpoint.load(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", format=fmt, meta=np.array("[1, 2]"), **{"model/W": np.ones(2)})
    with pytest.raises(ValueError, match="not a JSON object"):
        checkpoint.load(tmp_path / "c.npz")
    np.savez(tmp_path / "d.npz", format=fmt, meta=meta, vocab=np.array(["ab", "c"]), **{"model/W": np.ones(2)})
    with pytest.raises(ValueError, match="malformed vocabulary"):
        checkpoint.load(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", format=fmt, meta=meta, extra=np.ones(1), **{"model/W": np.ones(2)})
    with pytest.raises(ValueError, match="unexpected entries"):
        checkpoint.load(tmp_path / "e.npz")
    np.savez(tmp_path / "f.npz", format=fmt, meta=meta)
    with pytest.raises(ValueError, match="no model arrays"):
        checkpoint.load(tmp_path / "f.npz")
    np.savez(tmp_path / "g.npz", format=fmt, meta=meta, **{"model/W]x": np.ones(2)})
    with pytest.raises(ValueError, match="cannot read the model path"):
        checkpoint.load(tmp_path / "g.npz")
    np.savez(tmp_path / "h.npz", format=fmt, meta=np.array("{not json"), **{"model/W": np.ones(2)})
    with pytest.raises(ValueError, match="not JSON"):
        checkpoint.load(tmp_path / "h.npz")


def test_truncated_file_fails_cleanly(tmp_path):
    path = checkpoint.save(tmp_path / "m.npz", _model())
    raw = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a readable .npz|not a valid"):
        checkpoint.load(tmp_path / "cut.npz")
