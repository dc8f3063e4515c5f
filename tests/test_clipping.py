"""Global-norm vs element-wise gradient clipping (lstmlib.optim)."""

import numpy as np
import pytest

from lstmlib import optim


def _grads(rng):
    return {"cell": {"W_h": 5 * rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}, "W_y": 0.1 * rng.standard_normal((3, 1))}


def _flat(g):
    return np.concatenate([a.ravel() for _, a in optim.leaves(g)])


def test_clip_grad_value_bounds_every_entry_and_counts():
    rng = np.random.default_rng(0)
    g = _grads(rng)
    before = _flat(g).copy()
    n = optim.clip_grad_value(g, 1.0)
    after = _flat(g)
    assert n == int(np.sum(np.abs(before) > 1.0)) and n > 0
    assert np.all(np.abs(after) <= 1.0)
    small = np.abs(before) <= 1.0
    np.testing.assert_array_equal(after[small], before[small])  # small entries untouched
    np.testing.assert_array_equal(after[~small], np.sign(before[~small]))


def test_clip_grad_value_changes_direction_while_global_norm_keeps_it():
    rng = np.random.default_rng(1)
    g_global, g_value = _grads(rng), None
    g_value = {"cell": {k: v.copy() for k, v in g_global["cell"].items()}, "W_y": g_global["W_y"].copy()}
    raw = _flat(g_global).copy()
    norm = optim.clip_grad_norm(g_global, 1.0)
    optim.clip_grad_value(g_value, 1.0)
    cos = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert norm == pytest.approx(np.linalg.norm(raw))
    assert cos(raw, _flat(g_global)) == pytest.approx(1.0, abs=1e-12)
    assert optim.global_norm(g_global) == pytest.approx(1.0)
    assert cos(raw, _flat(g_value)) < 0.99  # direction changed


def test_clip_grad_value_leaves_small_gradients_alone():
    g = {"a": np.array([0.5, -0.25])}
    assert optim.clip_grad_value(g, 1.0) == 0
    np.testing.assert_array_equal(g["a"], [0.5, -0.25])


@pytest.mark.parametrize("bad", [0, -1.0, True, "1", None])
def test_clip_grad_value_rejects_bad_threshold(bad):
    with pytest.raises(ValueError, match="max_value"):
        optim.clip_grad_value({"a": np.ones(2)}, bad)
